"""`idf local reset --yes` deletes every service's data, and `idf local up` then rebuilds the stack.

Slow (a reset and a nearly cold bring-up, about 4-6 min on 2 cores): `.venv/bin/pytest -m slow
tests/faults/test_reset.py`. Checks what each role's ``tasks/reset.yml`` promises: the PostgreSQL
catalog schema and Butler registry, DaCHS' TAP_SCHEMA rows, the MariaDB stand-in's database, the
hub's state and the generated secrets are gone after the reset, and the stack is healthy again
after `up`. The times go to ``var/reports/faults/reset.json``.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from faults import pg_admin
from idf_core.paths import REPO_ROOT, state_dir

pytestmark = [pytest.mark.local_stack, pytest.mark.slow]

IDF = str(REPO_ROOT / ".venv" / "bin" / "idf")
STATE_ROOT = Path("/var/lib/idf")


def _run(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run(
        [IDF, *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=1800, check=False
    )
    return result, time.monotonic() - started


def _mariadb_databases() -> set[str]:
    subprocess.run(["/etc/init.d/mariadb", "start"], capture_output=True, check=True, timeout=120)
    try:
        out = subprocess.run(
            ["mariadb", "-N", "-e", "SHOW DATABASES"], capture_output=True, text=True, check=True, timeout=60
        ).stdout
    finally:
        subprocess.run(["/etc/init.d/mariadb", "stop"], capture_output=True, check=False, timeout=120)
    return set(out.split())


def test_reset_deletes_every_service_data_and_up_rebuilds() -> None:
    reset, reset_s = _run("local", "reset", "--yes")
    assert reset.returncode == 0, f"idf local reset failed:\n{(reset.stdout + reset.stderr)[-3000:]}"

    data_dirs = [STATE_ROOT / name for name in ("dataload", "butler", "secrets", "qserv_local", "notebook")]
    left = [str(p) for p in [*data_dirs, Path("/var/gavo/inputs/dp01_dc2")] if p.exists()]
    assert left == [], f"reset left data behind: {left}"
    subprocess.run(["pg_ctlcluster", "15", "main", "start"], capture_output=True, check=False, timeout=120)
    for database, query in (
        ("postgres", "SELECT count(*) FROM pg_database WHERE datname = 'dp01_butler'"),
        ("gavo", "SELECT count(*) FROM pg_namespace WHERE nspname = 'dp01_dc2_catalogs'"),
        ("gavo", "SELECT count(*) FROM tap_schema.tables WHERE schema_name = 'dp01_dc2_catalogs'"),
    ):
        assert pg_admin.psql(database, query) == [["0"]], f"reset left data behind: {query} in {database}"
    assert "dp01_dc2_catalogs" not in _mariadb_databases()

    up, up_s = _run("local", "up")
    assert up.returncode == 0, f"idf local up after reset failed:\n{(up.stdout + up.stderr)[-3000:]}"
    status, _ = _run("local", "status", "--json")
    services = json.loads(status.stdout)["services"]
    unhealthy = [s for s in services if not s["healthy"]]
    assert status.returncode == 0 and not unhealthy, f"unhealthy after reset and up: {unhealthy}"

    report = {
        "scenario": "idf local reset --yes, then idf local up",
        "reset_s": round(reset_s, 1),
        "up_after_reset_s": round(up_s, 1),
        "services_healthy": [s["service"] for s in services],
    }
    (state_dir("reports", "faults") / "reset.json").write_text(json.dumps(report, indent=2) + "\n")
