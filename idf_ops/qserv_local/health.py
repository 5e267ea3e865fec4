"""Health check of the MariaDB stand-in for Qserv: a real SELECT over TCP as the read-only client."""

from __future__ import annotations

from idf_clients.probes import probe_qserv
from idf_clients.qserv import reader_password
from idf_core.facts import QSERV_PASSWORD_SECRET, QSERV_READER_USER, TAP_SCHEMA
from idf_ops.local.health import ServiceHealth, health_check
from idf_ops.local.settings import LOOPBACK, QSERV_PORT, SECRETS_DIR

__all__ = ["READER_PASSWORD_FILE", "READER_USER", "check_qserv_local"]

READER_USER = QSERV_READER_USER
READER_PASSWORD_FILE = SECRETS_DIR / QSERV_PASSWORD_SECRET.format(user=READER_USER)
DATABASE = TAP_SCHEMA


@health_check("qserv_local")
def check_qserv_local() -> ServiceHealth:
    """SELECT over 127.0.0.1:4040: rows and chunks of `object`."""
    password = reader_password(str(SECRETS_DIR), READER_USER)
    probe = probe_qserv(LOOPBACK, QSERV_PORT, READER_USER, password, DATABASE)
    detail = probe.detail
    if probe.ok:
        detail = f"STAND-IN for Qserv (MariaDB; cloud stacks run qserv-operator): {detail}"
    return ServiceHealth("qserv_local", probe.ok, probe.endpoint, detail)
