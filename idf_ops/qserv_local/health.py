"""Health check of the MariaDB stand-in for Qserv: a real SELECT over TCP as the read-only client."""

from __future__ import annotations

import time

from idf_ops.local.health import ServiceHealth, health_check
from idf_ops.local.settings import LOOPBACK, QSERV_PORT, SECRETS_DIR
from idf_ops.qserv_local.db import connect_tcp

__all__ = ["READER_PASSWORD_FILE", "READER_USER", "check_qserv_local"]

READER_USER = "qsmaster"
READER_PASSWORD_FILE = SECRETS_DIR / f"mariadb_{READER_USER}.password"
DATABASE = "dp01_dc2_catalogs"


@health_check("qserv_local")
def check_qserv_local() -> ServiceHealth:
    """SELECT over 127.0.0.1:4040: rows and chunks of `object`."""
    endpoint = f"mysql://{LOOPBACK}:{QSERV_PORT}/{DATABASE}"
    started = time.perf_counter()
    connection = connect_tcp(
        LOOPBACK, QSERV_PORT, READER_USER, READER_PASSWORD_FILE.read_text().strip(), DATABASE
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*), COUNT(DISTINCT chunkId) FROM object")
            rows, chunks = cursor.fetchone()
    finally:
        connection.close()
    elapsed_ms = (time.perf_counter() - started) * 1000
    return ServiceHealth(
        "qserv_local",
        int(rows) > 0,
        endpoint,
        f"STAND-IN for Qserv (MariaDB; cloud stacks run qserv-operator): object has {rows} rows in "
        f"{chunks} chunks, answered in {elapsed_ms:.0f} ms",
    )
