"""The cross-check between the two local front ends: equal passes, a three-row fault at in2p3 is found.

In the in2p3 instance one row of ``object`` is changed, one deleted and one duplicated (as root,
over its socket); `idf catalogs crosscheck idf in2p3` must exit 1 naming exactly those three
object ids, their chunks, what happened to each, and blame in2p3 (the idf copy and the source
files agree). The rows are restored afterwards, and the check exits 0 again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from idf_core.facts import QSERV_INSTANCES
from idf_ops.catalogs.crosscheck import crosscheck, resolve_endpoint
from idf_ops.qserv_local.db import connect
from support.cli import run_idf

pytestmark = pytest.mark.local_stack

TABLE = "dp01_dc2_catalogs.object"
SECRETS_DIR = "/var/lib/idf/secrets"
# The rows are saved inside the server: a round trip through the client would lose FLOAT precision.
SAVED = "dp01_dc2_catalogs.object__crosscheck_saved"


def _crosscheck() -> tuple[int, dict[str, Any]]:
    done = run_idf("catalogs", "crosscheck", "idf", "in2p3", "--table", "object", "--json", timeout_s=240)
    assert done.returncode in {0, 1}, done.stderr  # 2: bad input, unreachable or a failed query
    return done.returncode, json.loads(done.stdout)


@pytest.fixture
def in2p3_root() -> Iterator[Any]:
    with connect(QSERV_INSTANCES["in2p3"].admin_socket) as connection:
        yield connection


def test_equal_front_ends_pass() -> None:
    code, report = _crosscheck()
    assert code == 0, report["chunk_diffs"]
    assert report["equal"] is True
    assert report["tables"][0]["rows"]["idf"] == report["tables"][0]["rows"]["in2p3"] > 0


def test_three_row_fault_is_found_and_blamed(in2p3_root: Any) -> None:
    with in2p3_root.cursor() as cursor:
        # Three objects in three different chunks: the smallest id of each of the first three chunks.
        cursor.execute(
            f"SELECT MIN(objectId), chunkId FROM {TABLE} GROUP BY chunkId ORDER BY chunkId LIMIT 3"  # noqa: S608
        )
        (changed, chunk_c), (deleted, chunk_d), (duplicated, chunk_u) = cursor.fetchall()
        ids = (changed, deleted, duplicated)
        cursor.execute(f"DROP TABLE IF EXISTS {SAVED}")
        cursor.execute(f"CREATE TABLE {SAVED} AS SELECT * FROM {TABLE} WHERE objectId IN (%s, %s, %s)", ids)  # noqa: S608
        try:
            cursor.execute(f"UPDATE {TABLE} SET x = x + 1 WHERE objectId = %s", (changed,))  # noqa: S608
            cursor.execute(f"DELETE FROM {TABLE} WHERE objectId = %s", (deleted,))  # noqa: S608
            cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {TABLE} WHERE objectId = %s", (duplicated,))  # noqa: S608

            code, report = _crosscheck()
            assert code == 1
            found = {(int(r["key"]), r["chunk"], r["kind"], tuple(r["blamed"])) for r in report["row_diffs"]}
            assert found == {
                (changed, chunk_c, "changed", ("in2p3",)),
                (deleted, chunk_d, "missing", ("in2p3",)),
                (duplicated, chunk_u, "duplicated", ("in2p3",)),
            }
            assert {c["chunk"] for c in report["chunk_diffs"]} == {chunk_c, chunk_d, chunk_u}
            assert all(c["blamed"] == ["in2p3"] for c in report["chunk_diffs"])
        finally:
            cursor.execute(f"DELETE FROM {TABLE} WHERE objectId IN (%s, %s, %s)", ids)  # noqa: S608
            cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {SAVED}")  # noqa: S608
            cursor.execute(f"DROP TABLE {SAVED}")
    code, report = _crosscheck()
    assert code == 0, report["row_diffs"]


def test_ingest_api_counts_are_the_first_pass(httpserver: HTTPServer) -> None:
    """With an ingest REST API configured for A, its per-chunk counters (a pytest-httpserver fake in
    Qserv's answer shape, serving the counts idf really holds) replace A's counting query."""
    with connect(QSERV_INSTANCES["idf"].admin_socket) as connection, connection.cursor() as cursor:
        cursor.execute(f"SELECT chunkId, COUNT(*) FROM {TABLE} GROUP BY chunkId")  # noqa: S608
        entries = [
            {"transaction_id": 1, "chunk": int(c), "is_overlap": 0, "num_rows": int(n)}
            for c, n in cursor.fetchall()
        ]
    httpserver.expect_request("/ingest/table-stats/dp01_dc2_catalogs/object").respond_with_json(
        {
            "success": 1,
            "error": "",
            "databases": {"dp01_dc2_catalogs": {"tables": {"object": {"entries": entries}}}},
        }
    )
    a = resolve_endpoint(
        "idf", password_file=None, secrets_dir=SECRETS_DIR, ingest_url=httpserver.url_for("/")
    )
    b = resolve_endpoint("in2p3", password_file=None, secrets_dir=SECRETS_DIR, ingest_url=None)
    report = crosscheck(a, b, tables=["object"], manifest=None)
    assert report.tables[0].count_source == {"idf": "ingest-api", "in2p3": "sql"}
    assert report.equal and report.tables[0].chunks == len(entries)
