"""The Qserv front end (MySQL protocol, pymysql): the one way every tool connects as a client.

The password comes from :func:`idf_clients.secrets.qserv_password_file` and is parsed once, by
:func:`idf_clients.secrets.parse_secret`; a missing file means an empty password (real Qserv's
``qsmaster`` account has none).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pymysql

from idf_clients.secrets import qserv_password_file, read_secret
from idf_core.errors import OperationFailed

__all__ = ["connect", "password_from_file", "reader_password"]


def password_from_file(path: str | Path | None) -> str:
    """The password in ``path`` (empty when no file is given)."""
    return read_secret(Path(path), "Qserv front end password") if path else ""


def reader_password(secrets_dir: str | None, user: str) -> str:
    """The password of ``user`` found in the stack's secrets (empty when there is none)."""
    return password_from_file(qserv_password_file(secrets_dir, user))


def connect(
    host: str,
    port: int,
    user: str,
    password: str,
    database: str,
    *,
    connect_timeout_s: float = 5.0,
    read_timeout_s: float | None = None,
    autocommit: bool = True,
) -> Any:
    """A pymysql connection to the front end, or OperationFailed naming it and the fix."""
    try:
        return pymysql.connect(
            host=host,
            port=port,
            user=user,
            password=password,
            database=database,
            connect_timeout=max(1, int(connect_timeout_s)),
            read_timeout=int(read_timeout_s) if read_timeout_s else None,
            write_timeout=int(read_timeout_s) if read_timeout_s else None,
            autocommit=autocommit,
        )
    except pymysql.MySQLError as exc:
        raise OperationFailed(
            f"qserv: front end {host}:{port} refused {user!r} ({exc.args[-1]}); "
            "run `idf local up` (or `idf local status` to see what is down)."
        ) from exc
