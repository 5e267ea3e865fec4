"""PostgreSQL over TCP with psycopg 3: one connection helper that names the service and the fix.

(The catalog loaders and the Butler keep psycopg2 where SQLAlchemy and COPY code need it.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from idf_core.errors import OperationFailed

__all__ = ["PostgresUnavailable", "connect", "connect_within", "db_auth_params", "query_one"]


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
            "start it with `supervisorctl start idf-postgresql` or run `idf local up`."
        ) from exc
    try:
        yield connection
    finally:
        connection.close()


class PostgresUnavailable(OperationFailed):
    """No connection: ``detail`` is the server's or libpq's reason on one line."""

    def __init__(self, where: str, detail: str) -> None:
        super().__init__(f"PostgreSQL {where}: {detail}")
        self.detail = detail


def _one_line_reason(exc: BaseException) -> str:
    # psycopg 3 prefixes libpq's reason with "connection failed: "; the reason alone names the fix.
    return " ".join(str(exc).split()).removeprefix("connection failed: ") or type(exc).__name__


@contextmanager
def connect_within(
    dsn: str = "", *, timeout_s: float, where: str, **params: Any
) -> Iterator[psycopg.Connection[Any]]:
    """A connection from a DSN and/or keyword parameters whose connect and statements end in ``timeout_s``.

    Keyword parameters, not a DSN string, should carry a password (no quoting issues, never
    printed). A failure is PostgresUnavailable naming ``where`` (host:port) and libpq's reason.
    """
    try:
        connection = psycopg.connect(
            dsn,
            connect_timeout=max(1, int(timeout_s)),
            options=f"-c statement_timeout={max(1, int(timeout_s * 1000))}",
            application_name="idf",
            autocommit=True,
            **params,
        )
    except psycopg.Error as exc:
        raise PostgresUnavailable(where, _one_line_reason(exc)) from exc
    try:
        yield connection
    finally:
        connection.close()


def db_auth_params(url_text: str, db_auth: Path) -> dict[str, Any]:
    """Keyword parameters (host, port, dbname, user, password) for a SQLAlchemy URL without password.

    The password comes from ``db_auth`` (an lsst.utils DbAuth file, the Butler's ``db-auth.yaml``),
    so the connection is made the way a user's Butler makes it.
    """
    import sqlalchemy.engine  # noqa: PLC0415 - only this helper needs SQLAlchemy and lsst.utils
    from lsst.utils.db_auth import DbAuth  # noqa: PLC0415

    url = sqlalchemy.engine.make_url(url_text)
    auth_url = sqlalchemy.engine.make_url(
        DbAuth(str(db_auth)).getUrl(url.set(drivername="postgresql").render_as_string(hide_password=False))
    )
    return {
        "host": url.host,
        "port": url.port or 5432,
        "dbname": url.database,
        "user": auth_url.username,
        "password": auth_url.password,
    }


def query_one(connection: psycopg.Connection[Any], sql: str) -> tuple[Any, ...]:
    """The first row of ``sql`` (a fixed statement: no parameters are interpolated here)."""
    with connection.cursor() as cursor:
        cursor.execute(sql.encode())
        row = cursor.fetchone()
    if row is None:
        raise OperationFailed(f"postgresql: {sql!r} returned no row")
    return tuple(row)
