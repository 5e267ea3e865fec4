"""Health probes: one real request per service (an ADQL or SQL query, an API call), built on the
clients of this package. ``idf local status``, the TAP watchdog and the readiness gates read a
service's health through these, so "healthy" means the same everywhere.

A probe never raises for an unhealthy service: it returns a :class:`Probe` saying what it checked
or what is wrong.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pymysql

from idf_clients import postgres, qserv
from idf_clients.hub import HubClient
from idf_clients.tap import TapClient
from idf_core.errors import BadInput, OperationFailed
from idf_core.facts import TAP_SCHEMA

__all__ = ["TAP_HEALTH_QUERY", "Probe", "probe_hub", "probe_postgres", "probe_qserv", "probe_tap"]

TAP_HEALTH_QUERY = f"SELECT TOP 1 objectId, ra, dec FROM {TAP_SCHEMA}.object"  # noqa: S608 - a constant


@dataclass(frozen=True)
class Probe:
    """What one probe found: healthy or not, where, and what was checked (or what is wrong)."""

    ok: bool
    endpoint: str
    detail: str


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def probe_tap(url: str, query: str = TAP_HEALTH_QUERY, timeout_s: float = 10.0) -> Probe:
    """A sync ADQL query whose parsed VOTable says OK (a trailing ERROR fails it)."""
    try:
        answer = TapClient(url, timeout_s=timeout_s).query(query)
    except OperationFailed as exc:
        return Probe(False, url, str(exc))
    return Probe(True, url, f"{url}: ADQL answered in {answer.elapsed_ms:.0f} ms")


def probe_postgres(
    host: str, port: int, database: str, user: str, password: str, *, timeout_s: float = 5.0
) -> Probe:
    """A real query over TCP: the server's version and address."""
    endpoint = f"postgresql://{host}:{port}/{database}"
    started = time.perf_counter()
    try:
        with postgres.connect(host, port, database, user, password, timeout_s=timeout_s) as connection:
            version, address = postgres.query_one(
                connection, "SELECT current_setting('server_version'), inet_server_addr()::text"
            )
    except OperationFailed as exc:
        return Probe(False, endpoint, str(exc))
    return Probe(True, endpoint, f"PostgreSQL {version} on {address} answered in {_ms(started):.0f} ms")


def probe_qserv(
    host: str, port: int, user: str, password: str, database: str, *, timeout_s: float = 5.0
) -> Probe:
    """SELECT over the MySQL protocol: rows and chunks of ``object`` (none is unhealthy)."""
    endpoint = f"mysql://{host}:{port}/{database}"
    started = time.perf_counter()
    try:
        connection = qserv.connect(
            host, port, user, password, database, connect_timeout_s=timeout_s, read_timeout_s=timeout_s
        )
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT COUNT(*), COUNT(DISTINCT chunkId) FROM object")
                rows, chunks = cursor.fetchone()
        finally:
            connection.close()
    except OperationFailed as exc:
        return Probe(False, endpoint, str(exc))
    except pymysql.MySQLError as exc:  # the query itself failed: an unhealthy answer
        return Probe(False, endpoint, f"qserv: query failed: {exc}")
    return Probe(
        int(rows) > 0,
        endpoint,
        f"object has {rows} rows in {chunks} chunks, answered in {_ms(started):.0f} ms",
    )


def probe_hub(url: str, token: str, timeout_s: float = 5.0) -> Probe:
    """GET the hub's version and its users with the admin token."""
    endpoint = f"{url.rstrip('/')}/hub/api"
    started = time.perf_counter()
    try:
        client = HubClient(url, token, timeout_s=timeout_s)
        version = client.version()
        users = client.users()
    except (OperationFailed, BadInput) as exc:
        return Probe(False, endpoint, str(exc))
    return Probe(
        True, endpoint, f"JupyterHub {version} API answered in {_ms(started):.0f} ms, {len(users)} users"
    )
