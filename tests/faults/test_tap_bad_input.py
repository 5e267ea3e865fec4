"""Bad input to TAP gets an error answer, never a crash, a leak or a changed table.

Each case sends one bad request to the local TAP endpoint (127.0.0.1) and expects an explicit
error (HTTP 4xx/5xx or QUERY_STATUS=ERROR); afterwards the service still answers a good query and
the catalog table still holds all its rows.
"""

# ruff: noqa: S608 - building hostile query text is the point of these tests.
from __future__ import annotations

import pytest

from faults.tap_probe import GOOD_QUERY, TapAnswer, tap_sync

pytestmark = pytest.mark.local_stack

OBJECT = "dp01_dc2_catalogs.object"
# Longest ADQL text the service should parse. DaCHS's parser is super-linear in the number of
# predicates: a 10 KB query of 1,000 ORs kept a DaCHS process busy for over a minute here, so
# query text must be capped in front of the parser (no legitimate DP0 query comes close).
MAX_QUERY_BYTES = 32 * 1024
COUNT_QUERY = f"SELECT COUNT(*) AS n FROM {OBJECT}"


def _adql(query: str, **extra: str) -> dict[str, str]:
    return {"REQUEST": "doQuery", "LANG": "ADQL", "QUERY": query, **extra}


MALFORMED_ADQL = {
    "missing-from": "SELECT TOP 3 ra WHERE ra > 0",
    "unbalanced-parenthesis": f"SELECT TOP 3 ra FROM {OBJECT} WHERE (ra > 0",
    "unknown-column": f"SELECT TOP 3 no_such_column FROM {OBJECT}",
    "unknown-table": "SELECT TOP 3 * FROM dp01_dc2_catalogs.no_such_table",
    "bad-geometry": f"SELECT TOP 3 ra FROM {OBJECT} WHERE 1=CONTAINS(POINT('ICRS', ra), CIRCLE(1))",
    "empty-query": "",
    "not-sql": "hello, TAP",
    "unterminated-string": f"SELECT TOP 3 ra FROM {OBJECT} WHERE 'abc = 1",
}

INJECTIONS = {
    "stacked-drop": f"SELECT TOP 1 ra FROM {OBJECT}; DROP TABLE {OBJECT}",
    "quote-breakout": f"SELECT TOP 1 ra FROM {OBJECT} WHERE ra = 1'; DROP TABLE {OBJECT}; --",
    "tautology-quote": (f"SELECT TOP 1 ra FROM {OBJECT} WHERE ra = '1' OR '1'='1'; DELETE FROM {OBJECT}"),
    "unpublished-catalog": "SELECT usename, passwd FROM pg_catalog.pg_shadow",
    "union-to-system-table": f"SELECT TOP 1 ra FROM {OBJECT} UNION SELECT usesysid FROM pg_catalog.pg_user",
    "server-function": "SELECT pg_sleep(30)",
    "file-read-function": "SELECT pg_read_file('/etc/passwd')",
    "dml-delete": f"DELETE FROM {OBJECT}",
    "ddl-create": "CREATE TABLE dp01_dc2_catalogs.pwned (x INTEGER)",
    "copy-program": "COPY dp01_dc2_catalogs.object TO PROGRAM 'id'",
}

BAD_PARAMETERS = {
    "request-junk": {"REQUEST": "doQuery; rm -rf /", "LANG": "ADQL", "QUERY": GOOD_QUERY},
    "lang-junk": {"REQUEST": "doQuery", "LANG": "ADQL' OR 1=1 --", "QUERY": GOOD_QUERY},
    "lang-sql-injection": {"REQUEST": "doQuery", "LANG": "POSTGRESQL", "QUERY": f"DROP TABLE {OBJECT}"},
    "maxrec-injection": _adql(GOOD_QUERY, MAXREC=f"10; DROP TABLE {OBJECT}"),
    "maxrec-negative": _adql(GOOD_QUERY, MAXREC="-5"),
    "maxrec-not-a-number": _adql(GOOD_QUERY, MAXREC="lots"),
    "format-path-traversal": _adql(GOOD_QUERY, RESPONSEFORMAT="../../../../etc/passwd"),
    "no-query": {"REQUEST": "doQuery", "LANG": "ADQL"},
    "two-megabyte-query": _adql(f"SELECT TOP 1 ra FROM {OBJECT} WHERE ra > 0 -- " + "x" * (2 * 1024 * 1024)),
}


@pytest.fixture(scope="module")
def object_rows(tap_url: str) -> int:
    return _count(tap_url)


def _count(tap_url: str) -> int:
    answer = tap_sync(tap_url, _adql(COUNT_QUERY))
    assert answer.ok and answer.first_cell is not None, f"count query failed: {answer}"
    return int(str(answer.first_cell))


def _still_healthy(tap_url: str, object_rows: int) -> None:
    good = tap_sync(tap_url, _adql(GOOD_QUERY))
    assert good.ok and good.rows == 3, f"service unhealthy after bad input: {good}"
    assert _count(tap_url) == object_rows, f"{OBJECT} lost rows after bad input"


def _expect_error(answer: TapAnswer) -> None:
    """A client error: QUERY_STATUS=ERROR or HTTP 4xx. A 5xx or a dropped connection is a server fault."""
    rejected = answer.query_status == "ERROR" or 400 <= answer.http_status < 500
    assert rejected, f"expected a rejection, got {answer}"


@pytest.mark.parametrize("query", MALFORMED_ADQL.values(), ids=MALFORMED_ADQL.keys())
def test_malformed_adql_is_rejected(tap_url: str, object_rows: int, query: str) -> None:
    _expect_error(tap_sync(tap_url, _adql(query)))
    _still_healthy(tap_url, object_rows)


@pytest.mark.parametrize("query", INJECTIONS.values(), ids=INJECTIONS.keys())
def test_injection_is_rejected(tap_url: str, object_rows: int, query: str) -> None:
    _expect_error(tap_sync(tap_url, _adql(query)))
    _still_healthy(tap_url, object_rows)


@pytest.mark.parametrize("params", BAD_PARAMETERS.values(), ids=BAD_PARAMETERS.keys())
def test_bad_protocol_parameters_are_rejected(tap_url: str, object_rows: int, params: dict[str, str]) -> None:
    _expect_error(tap_sync(tap_url, params))
    _still_healthy(tap_url, object_rows)


@pytest.mark.parametrize("maxrec", [1, 5, 50])
def test_maxrec_truncates_oversized_results(tap_url: str, object_rows: int, maxrec: int) -> None:
    """An oversized result is cut at MAXREC and flagged OVERFLOW (TAP 1.1 §2.7.4), never streamed whole."""
    assert object_rows > maxrec, "the local catalog is too small for this test"
    answer = tap_sync(tap_url, _adql(f"SELECT ra, dec FROM {OBJECT}", MAXREC=str(maxrec)))
    assert answer.http_status == 200 and answer.query_status == "OVERFLOW", answer
    assert answer.rows == maxrec
    _still_healthy(tap_url, object_rows)


def test_unbounded_select_is_capped(tap_url: str, object_rows: int) -> None:
    """Without MAXREC the service's default limit applies: a full-table select is not returned whole
    when the table is larger than the limit, and the service stays up."""
    answer = tap_sync(tap_url, _adql(f"SELECT TOP 100000000 ra FROM {OBJECT}"), timeout_s=120)
    assert answer.http_status == 200 and answer.query_status in {"OK", "OVERFLOW"}, answer
    if answer.query_status == "OK":
        assert answer.rows == object_rows
    _still_healthy(tap_url, object_rows)


def test_oversized_query_text_is_refused(tap_url: str, object_rows: int) -> None:
    """A query text far above any real one is refused before parsing (cheap to send, cheap to refuse).

    The padding is a string literal, which parses fast: if the cap is missing the query simply
    succeeds, and this test fails without loading the service.
    """
    pad = "x" * (2 * MAX_QUERY_BYTES)
    answer = tap_sync(tap_url, _adql(f"SELECT TOP 1 ra FROM {OBJECT} WHERE '{pad}' = '{pad}'"))
    assert answer.query_status == "ERROR" or 400 <= answer.http_status < 500, (
        f"a {4 * MAX_QUERY_BYTES // 1024} KB query was parsed and run ({answer.query_status}); cap query "
        f"text at {MAX_QUERY_BYTES // 1024} KB in front of DaCHS (balancer client_max_body_size / "
        "DaCHS request limit)"
    )
    _still_healthy(tap_url, object_rows)
