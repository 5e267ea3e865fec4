"""The MariaDB stand-in for Qserv on the running local stack: loopback, read-only client, same data.

Needs `idf local up` (marker ``local_stack``). It is a STAND-IN: cloud stacks run the real Qserv.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest

from idf_clients.qserv import password_from_file
from idf_core.errors import OperationFailed
from idf_ops.catalogs.checksum import checksum_sql
from idf_ops.catalogs.load import read_manifest
from idf_ops.catalogs.schema import POSITION_COLUMNS, TABLE_NAMES
from idf_ops.local.settings import LOAD_MANIFEST, LOOPBACK, QSERV_PORT
from idf_ops.qserv_local import chunking
from idf_ops.qserv_local.db import connect, connect_tcp
from idf_ops.qserv_local.health import READER_PASSWORD_FILE, READER_USER, check_qserv_local
from idf_ops.qserv_local.load import load_table, table_state

from .test_qserv_local_units import sphgeom_cells

pytestmark = pytest.mark.local_stack

DATABASE = "dp01_dc2_catalogs"
SOCKET = "/run/mysqld/mysqld.sock"


@pytest.fixture(scope="module")
def reader() -> Iterator[Any]:
    password = password_from_file(READER_PASSWORD_FILE)
    connection = connect_tcp(LOOPBACK, QSERV_PORT, READER_USER, password, DATABASE)
    yield connection
    connection.close()


def test_listens_on_loopback_only(host) -> None:  # type: ignore[no-untyped-def]
    assert host.socket(f"tcp://127.0.0.1:{QSERV_PORT}").is_listening
    assert not host.socket(f"tcp://0.0.0.0:{QSERV_PORT}").is_listening


def test_servers_run_as_mysql(host) -> None:  # type: ignore[no-untyped-def]
    # Two servers run: the Qserv stand-in and the IN2P3 cross-check copy (issue 14); neither as root.
    processes = host.process.filter(comm="mariadbd")
    assert len(processes) == 2 and {process.user for process in processes} == {"mysql"}


def test_health_check_says_it_is_a_stand_in() -> None:
    health = check_qserv_local()
    assert health.healthy and "STAND-IN" in health.detail


@pytest.mark.parametrize("table", TABLE_NAMES)
def test_rows_and_checksum_equal_the_manifest(reader: Any, table: str) -> None:
    manifest = read_manifest(LOAD_MANIFEST)
    assert manifest is not None
    record = manifest.tables[table]
    with reader.cursor() as cursor:
        assert table_state(cursor, DATABASE, table, record.key_column) == (record.rows, record.checksum)


@pytest.mark.parametrize("table", sorted(POSITION_COLUMNS))
def test_chunk_ids_equal_sphgeom(reader: Any, table: str) -> None:
    ra, dec = POSITION_COLUMNS[table]
    with reader.cursor() as cursor:
        cursor.execute(f"SELECT `{ra}`, `{dec}`, chunkId, subChunkId FROM `{table}` LIMIT 200")  # noqa: S608
        rows = cursor.fetchall()
    assert len(rows) == 200
    for ra_deg, dec_deg, chunk, sub_chunk in rows:
        assert sphgeom_cells(ra_deg, dec_deg) == {(chunk, sub_chunk)}, (ra_deg, dec_deg)


def test_reader_is_refused_writes(reader: Any) -> None:
    with (
        reader.cursor() as cursor,
        pytest.raises(pymysql.err.OperationalError, match=r"denied|read-only option"),
    ):
        cursor.execute("DELETE FROM object LIMIT 1")


@pytest.fixture
def scratch_database() -> Iterator[str]:
    """A throw-away database holding an empty copy of `position`."""
    name = "idf_test_scratch"
    with connect(SOCKET) as admin, admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        cursor.execute(f"CREATE DATABASE {name}")
        cursor.execute(f"CREATE TABLE {name}.position LIKE {DATABASE}.position")
    try:
        yield name
    finally:
        with connect(SOCKET) as admin, admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")


def test_load_not_matching_the_manifest_leaves_the_table_untouched(scratch_database: str) -> None:
    manifest = read_manifest(LOAD_MANIFEST)
    assert manifest is not None
    record = manifest.tables["position"]
    wrong = (record.rows, str(int(record.checksum) + 1))
    with connect(SOCKET, local_infile=True) as admin:
        with pytest.raises(OperationFailed, match="the table was left as it was"):
            load_table(
                admin, scratch_database, "position", Path(record.parquet_file), wrong, record.key_column
            )
        with admin.cursor() as cursor:
            cursor.execute(checksum_sql(scratch_database, "position", record.key_column, "mariadb"))
            assert cursor.fetchone()[0] == 0
            cursor.execute(f"SHOW TABLES FROM {scratch_database}")
            assert [row[0] for row in cursor.fetchall()] == ["position"]
        load_table(
            admin,
            scratch_database,
            "position",
            Path(record.parquet_file),
            (record.rows, record.checksum),
            record.key_column,
        )
        with admin.cursor() as cursor:
            assert table_state(cursor, scratch_database, "position", record.key_column) == (
                record.rows,
                record.checksum,
            )
            cursor.execute(f"SELECT COUNT(*) FROM {scratch_database}.position WHERE chunkId = 0")  # noqa: S608
            assert cursor.fetchone()[0] == 0


def test_chunk_layout_of_loaded_chunks_equals_sphgeom(reader: Any) -> None:
    with reader.cursor() as cursor:
        cursor.execute("SELECT DISTINCT chunkId FROM object")
        chunks = sorted(row[0] for row in cursor.fetchall())
    chunking.verify_layout(chunks)
