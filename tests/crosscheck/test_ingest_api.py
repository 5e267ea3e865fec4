"""The Qserv ingest REST API client (`GET /ingest/table-stats/:database/:table`) against a local
pytest-httpserver fake answering in the shape Qserv's replication controller does (its JSON
envelope ``success`` / ``error`` and per-transaction, per-chunk row counters). The shape is our
model of Qserv's answer, not a recording of a live Qserv."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from idf_clients.qserv import ingest_table_stats
from idf_core.errors import OperationFailed

DB, TABLE = "dp01_dc2_catalogs", "object"
PATH = f"/ingest/table-stats/{DB}/{TABLE}"


def _entry(transaction: int, chunk: int, rows: int, *, overlap: int = 0) -> dict[str, Any]:
    return {
        "transaction_id": transaction,
        "chunk": chunk,
        "is_overlap": overlap,
        "num_rows": rows,
        "num_rows_loaded": rows,
        "update_time": 1_700_000_000_000,
        "worker": "qserv-worker-0",
    }


def _answer(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "success": 1,
        "error": "",
        "error_ext": {},
        "warning": "",
        "databases": {DB: {"tables": {TABLE: {"entries": entries}}}},
    }


def test_rows_per_chunk_sum_transactions_and_skip_overlaps(httpserver: HTTPServer) -> None:
    entries = [_entry(1, 3587, 600), _entry(2, 3587, 398), _entry(1, 3587, 50, overlap=1), _entry(1, 3588, 7)]
    httpserver.expect_request(PATH, method="GET").respond_with_json(_answer(entries))
    assert ingest_table_stats(httpserver.url_for("/"), DB, TABLE) == {3587: 998, 3588: 7}


def test_refusal_is_reported(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_json({"success": 0, "error": "no such database"})
    with pytest.raises(OperationFailed, match="no such database"):
        ingest_table_stats(httpserver.url_for("/"), DB, TABLE)


def test_missing_table_is_reported(httpserver: HTTPServer) -> None:
    answer = _answer([])
    answer["databases"][DB]["tables"] = {}
    httpserver.expect_request(PATH).respond_with_json(answer)
    with pytest.raises(OperationFailed, match="no stats of"):
        ingest_table_stats(httpserver.url_for("/"), DB, TABLE)


@pytest.mark.parametrize("status", [401, 500])
def test_http_errors_are_reported(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request(PATH).respond_with_data("nope", status=status)
    with pytest.raises(OperationFailed, match="gave no table stats"):
        ingest_table_stats(httpserver.url_for("/"), DB, TABLE)


def test_unexpected_shape_is_reported(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_json(
        {"success": 1, "databases": {DB: {"tables": {TABLE: {}}}}}
    )
    with pytest.raises(OperationFailed, match="gave no table stats"):
        ingest_table_stats(httpserver.url_for("/"), DB, TABLE)
