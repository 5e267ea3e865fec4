"""Issue 16 finding 8: the read-only Qserv stand-in accounts cannot change their own password, and
get a statement-time limit and a connection limit (both front ends, idf and in2p3).

Before the fix ``SET PASSWORD`` succeeded for ``qsmaster`` (locking every client out) and
``BENCHMARK`` ran unbounded (7.5 s for 1e7 MD5s). The password test sets the account's *current*
password, so it changes nothing even on a server that wrongly allows it.
"""

from __future__ import annotations

import time

import pymysql
import pytest

from idf_clients import qserv
from idf_core.facts import QSERV_INSTANCES, QservInstance

pytestmark = pytest.mark.local_stack

SECRETS_DIR = "/var/lib/idf/secrets"
ER_OPTION_PREVENTS_STATEMENT = 1290  # --read-only
ER_STATEMENT_TIMEOUT = 1969  # max_statement_time exceeded
ER_QUERY_INTERRUPTED = 1317  # KILL QUERY (the root-side watchdog)
ER_USER_LIMIT_REACHED = 1226  # max_user_connections
# ~75 s of MD5 on this machine without a limit. BENCHMARK stops quietly when the statement time
# runs out (it returns 0, no error), so its wall time is what shows the limit: 10 s with the role's
# limit, against a 30 s bound (far from both). A join that must scan shows the error code itself.
LONG_BENCHMARK = "SELECT BENCHMARK(100000000, MD5('a'))"
LONG_JOIN = (
    "SELECT COUNT(*) FROM dp01_dc2_catalogs.position a, dp01_dc2_catalogs.position b "
    "WHERE a.coord_ra + b.coord_ra > 1000"
)
LIMIT_BOUND_S = 30
INSTANCES = [pytest.param(i, id=name) for name, i in QSERV_INSTANCES.items()]


def _connect(instance: QservInstance) -> tuple[pymysql.connections.Connection, str]:
    password = qserv.reader_password(SECRETS_DIR, instance.reader_user)
    connection = pymysql.connect(
        host=instance.host, port=instance.port, user=instance.reader_user, password=password, read_timeout=60
    )
    return connection, password


@pytest.mark.parametrize("instance", INSTANCES)
def test_reader_cannot_set_its_own_password(instance: QservInstance) -> None:
    connection, password = _connect(instance)
    with connection, connection.cursor() as cursor, pytest.raises(pymysql.MySQLError) as refused:
        cursor.execute("SET PASSWORD = PASSWORD(%s)", (password,))
    assert refused.value.args[0] == ER_OPTION_PREVENTS_STATEMENT


@pytest.mark.slow
@pytest.mark.parametrize("instance", INSTANCES)
def test_long_benchmark_is_cut_short(instance: QservInstance) -> None:
    connection, _ = _connect(instance)
    with connection, connection.cursor() as cursor:
        started = time.monotonic()
        cursor.execute(LONG_BENCHMARK)
        assert time.monotonic() - started < LIMIT_BOUND_S


@pytest.mark.parametrize("instance", INSTANCES)
def test_long_join_is_interrupted(instance: QservInstance) -> None:
    connection, _ = _connect(instance)
    with connection, connection.cursor() as cursor, pytest.raises(pymysql.MySQLError) as stopped:
        cursor.execute(LONG_JOIN)
    assert stopped.value.args[0] == ER_STATEMENT_TIMEOUT


@pytest.mark.parametrize("instance", INSTANCES)
def test_lifting_the_session_limit_does_not_help(instance: QservInstance) -> None:
    """A client may lift its own session limit; the server's watchdog event still stops it."""
    connection, _ = _connect(instance)
    with connection, connection.cursor() as cursor:
        cursor.execute("SET SESSION max_statement_time = 0")
        with pytest.raises(pymysql.MySQLError) as stopped:
            cursor.execute(LONG_JOIN)
    assert stopped.value.args[0] == ER_QUERY_INTERRUPTED


def _open_many(instance: QservInstance, opened: list[pymysql.connections.Connection]) -> None:
    for _ in range(200):
        opened.append(_connect(instance)[0])


@pytest.mark.parametrize("instance", INSTANCES)
def test_connections_per_user_are_limited(instance: QservInstance) -> None:
    """Opening connections stops at the account's limit (others may hold some: the bound is loose)."""
    opened: list[pymysql.connections.Connection] = []
    try:
        with pytest.raises(pymysql.MySQLError) as refused:
            _open_many(instance, opened)
        assert refused.value.args[0] == ER_USER_LIMIT_REACHED
        assert len(opened) <= 32
    finally:
        for connection in opened:
            connection.close()
