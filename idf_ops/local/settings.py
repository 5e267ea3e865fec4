"""Fixed facts of the local stack: where things live and which ports services answer on."""

from __future__ import annotations

from pathlib import Path

from idf_core.facts import DB_AUTH_READER_SECRET, DB_AUTH_SECRET
from idf_core.paths import REPO_ROOT

__all__ = [
    "ANSIBLE_DIR",
    "BUTLER_DATABASE",
    "BUTLER_READONLY_CONFIG",
    "BUTLER_REPO",
    "CATALOG_DATABASE",
    "DATALOAD_DIR",
    "DB_AUTH_FILE",
    "DB_AUTH_READER_FILE",
    "HUB_URL",
    "LOAD_MANIFEST",
    "LOOPBACK",
    "PG_PORT",
    "QSERV_PORT",
    "SECRETS_DIR",
    "SERVICE_ORDER",
    "STATE_ROOT",
    "TAP_URL",
    "VENV_BIN",
]

ANSIBLE_DIR = REPO_ROOT / "ansible"
VENV_BIN = REPO_ROOT / ".venv" / "bin"
STATE_ROOT = Path("/var/lib/idf")
DATALOAD_DIR = STATE_ROOT / "dataload"
LOAD_MANIFEST = DATALOAD_DIR / "manifest.json"
BUTLER_REPO = STATE_ROOT / "butler"
BUTLER_READONLY_CONFIG = BUTLER_REPO / "butler-readonly.yaml"
SECRETS_DIR = STATE_ROOT / "secrets"
DB_AUTH_FILE = SECRETS_DIR / DB_AUTH_SECRET
# What users are given (reader-only); DB_AUTH_FILE holds the writer too and stays the builder's.
DB_AUTH_READER_FILE = SECRETS_DIR / DB_AUTH_READER_SECRET
LOOPBACK = "127.0.0.1"
PG_PORT = 5432
QSERV_PORT = 4040
CATALOG_DATABASE = "gavo"
BUTLER_DATABASE = "dp01_butler"
TAP_URL = f"http://{LOOPBACK}:8080/tap"
HUB_URL = f"http://{LOOPBACK}:8000"
#: Services in site.yml order (one Ansible role and playbook each).
SERVICE_ORDER = (
    "supervisor",
    "postgresql",
    "dachs",
    "catalogs",
    "dataload",
    "tap",
    "qserv_local",
    "s3store",
    "butler",
    "batch",
    "notebook",
)
