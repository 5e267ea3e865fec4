"""Connections to the MariaDB stand-in: administration over the unix socket, clients over TCP."""

from __future__ import annotations

from typing import Any

import pymysql

from idf_clients import qserv
from idf_core.errors import OperationFailed

__all__ = ["connect", "connect_tcp"]


def connect(socket_path: str, database: str | None = None, local_infile: bool = False) -> Any:
    """Root connection over the unix socket (Debian's MariaDB authenticates root by socket)."""
    try:
        return pymysql.connect(
            unix_socket=socket_path,
            user="root",
            database=database,
            local_infile=local_infile,
            autocommit=True,
        )
    except pymysql.err.OperationalError as exc:
        raise OperationFailed(
            f"qserv_local: MariaDB does not answer on {socket_path} ({exc.args[-1]}); start it with "
            "`/etc/init.d/mariadb start` or run `idf local up`."
        ) from exc


def connect_tcp(host: str, port: int, user: str, password: str, database: str) -> Any:
    """Client connection the way Qserv clients connect (MySQL protocol over TCP): :mod:`idf_clients.qserv`."""
    return qserv.connect(host, port, user, password, database, autocommit=False)
