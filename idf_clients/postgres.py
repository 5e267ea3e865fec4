"""PostgreSQL over TCP with psycopg 3: one connection helper that names the service and the fix.

(The catalog loaders and the Butler keep psycopg2 where SQLAlchemy and COPY code need it.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from idf_core.errors import OperationFailed

__all__ = ["connect", "query_one"]


@contextmanager
def connect(
    host: str, port: int, database: str, user: str, password: str, *, timeout_s: float = 5.0
) -> Iterator[psycopg.Connection[Any]]:
    """An open autocommit connection (closed on exit), or OperationFailed with the fix."""
    try:
        connection = psycopg.connect(
            host=host,
            port=port,
            dbname=database,
            user=user,
            password=password,
            connect_timeout=max(1, int(timeout_s)),
            application_name="idf",
            autocommit=True,
        )
    except psycopg.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OperationFailed(
            f"postgresql: cannot connect to {host}:{port}/{database} as {user} ({first_line}); "
            "start it with `pg_ctlcluster 15 main start` or run `idf local up`."
        ) from exc
    try:
        yield connection
    finally:
        connection.close()


def query_one(connection: psycopg.Connection[Any], sql: str) -> tuple[Any, ...]:
    """The first row of ``sql`` (a fixed statement: no parameters are interpolated here)."""
    with connection.cursor() as cursor:
        cursor.execute(sql.encode())
        row = cursor.fetchone()
    if row is None:
        raise OperationFailed(f"postgresql: {sql!r} returned no row")
    return tuple(row)
