"""The Qserv front end (MySQL protocol, pymysql): the one way every tool connects as a client.

The password comes from :func:`idf_clients.secrets.qserv_password_file` and is parsed once, by
:func:`idf_clients.secrets.parse_secret`; a missing file means an empty password (real Qserv's
``qsmaster`` account has none).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pymysql
import requests
from pydantic import BaseModel, ConfigDict, ValidationError

from idf_clients.secrets import qserv_password_file, read_secret
from idf_core.errors import OperationFailed
from idf_core.qserv_ingest import REPLICATION_POD, REPLICATION_PORT

if TYPE_CHECKING:
    from idf_clients.kube import KubeClient

__all__ = [
    "TableStatsEntry",
    "connect",
    "ingest_table_stats",
    "ingest_table_stats_in_cluster",
    "password_from_file",
    "query",
    "reader_password",
    "table_stats_path",
    "table_stats_rows",
]


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


def query(
    connection: Any, sql: str, params: tuple[Any, ...] | None = None
) -> tuple[list[tuple[Any, ...]], float]:
    """Run one statement; return its rows and the seconds spent waiting for the database."""
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = list(cursor.fetchall())
    except pymysql.MySQLError as exc:
        raise OperationFailed(f"qserv: the front end refused a query ({exc.args[-1]})") from exc
    return rows, time.perf_counter() - started


class TableStatsEntry(BaseModel):
    """One row counter of Qserv's ingest REST API (``GET /ingest/table-stats/:database/:table``):
    rows one super-transaction ingested into one chunk (or its overlap) at one worker. Only the
    fields we use are modelled; the rest of Qserv's answer is ignored (it is Qserv's, not ours)."""

    model_config = ConfigDict(extra="ignore")

    transaction_id: int
    chunk: int
    is_overlap: int
    num_rows: int


class _TableStats(BaseModel):
    model_config = ConfigDict(extra="ignore")

    entries: list[TableStatsEntry]


class _Database(BaseModel):
    model_config = ConfigDict(extra="ignore")

    tables: dict[str, _TableStats]


class _TableStatsAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    success: int
    error: str = ""
    databases: dict[str, _Database] = {}


def ingest_table_stats(
    base_url: str, database: str, table: str, *, timeout_s: float = 10.0
) -> dict[int, int]:
    """Rows per chunk (overlaps excluded, transactions summed) from the ingest REST API's
    row counters, or OperationFailed naming the endpoint."""
    url = f"{base_url.rstrip('/')}/{table_stats_path(database, table)}"
    try:
        response = requests.get(url, timeout=timeout_s)
        response.raise_for_status()
        payload = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise OperationFailed(
            f"qserv: ingest REST API {url} gave no table stats ({exc.__class__.__name__})"
        ) from exc
    return table_stats_rows(payload, database, table, url)


def ingest_table_stats_in_cluster(
    kube: KubeClient, namespace: str, database: str, table: str
) -> dict[int, int]:
    """:func:`ingest_table_stats` of a cluster's Qserv, reached through the Kubernetes API server's
    proxy to the replication controller's pod (qserv-operator's names: :mod:`idf_core.qserv_ingest`)."""
    path = table_stats_path(database, table)
    where = f"{namespace}/{REPLICATION_POD}:{REPLICATION_PORT}/{path}"
    body = kube.pod_proxy_get(namespace, REPLICATION_POD, REPLICATION_PORT, path)
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise OperationFailed(f"qserv: ingest REST API {where} answered no JSON") from exc
    return table_stats_rows(payload, database, table, where)


def table_stats_path(database: str, table: str) -> str:
    """The row counters' path of one table in the ingest REST API."""
    return f"ingest/table-stats/{database}/{table}"


def table_stats_rows(payload: Any, database: str, table: str, url: str) -> dict[int, int]:
    """Rows per chunk (overlaps excluded) of one table-stats answer; OperationFailed naming ``url``."""
    try:
        answer = _TableStatsAnswer.model_validate(payload)
    except ValidationError as exc:
        raise OperationFailed(
            f"qserv: ingest REST API {url} gave no table stats ({exc.__class__.__name__})"
        ) from exc
    if not answer.success:
        raise OperationFailed(f"qserv: ingest REST API {url} refused: {answer.error or 'no reason given'}")
    try:
        entries = answer.databases[database].tables[table].entries
    except KeyError as exc:
        raise OperationFailed(f"qserv: ingest REST API {url} has no stats of {database}.{table}") from exc
    rows: dict[int, int] = {}
    for entry in entries:
        if not entry.is_overlap:
            rows[entry.chunk] = rows.get(entry.chunk, 0) + entry.num_rows
    return rows
