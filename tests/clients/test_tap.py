"""idf_clients.tap reads the status from the parsed VOTable: an ERROR after a partial table fails.

The canned answers are served by a tiny HTTP server on 127.0.0.1; the last tests query the local
stack's DaCHS (sync and async).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pyvo.dal.exceptions import DALOverflowWarning

from idf_clients.probes import probe_tap
from idf_clients.tap import TapClient, TapQueryError, TapUnavailable, body_status

from .fake_http import serve

VOTABLE = "application/x-votable+xml"
_HEAD = '<?xml version="1.0"?><VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">'
_TABLE = (
    '<TABLE><FIELD name="objectId" datatype="long"/><DATA><TABLEDATA>'
    "<TR><TD>1</TD></TR><TR><TD>2</TD></TR></TABLEDATA></DATA></TABLE>"
)


def _body(*parts: str) -> bytes:
    return (_HEAD + '<RESOURCE type="results">' + "".join(parts) + "</RESOURCE></VOTABLE>").encode()


OK = _body('<INFO name="QUERY_STATUS" value="OK"/>', _TABLE)
OVERFLOW = _body(
    '<INFO name="QUERY_STATUS" value="OK"/>', _TABLE, '<INFO name="QUERY_STATUS" value="OVERFLOW"/>'
)
# What a server writes when it fails while streaming: OK, a partial table, then the ERROR.
PARTIAL_THEN_ERROR = _body(
    '<INFO name="QUERY_STATUS" value="OK"/>',
    _TABLE,
    '<INFO name="QUERY_STATUS" value="ERROR">Database connection lost after 2 rows</INFO>',
)
ERROR = _body('<INFO name="QUERY_STATUS" value="ERROR">Could not parse your query</INFO>')


@pytest.fixture(scope="module")
def tap_url() -> object:
    routes = {
        "/ok/tap/sync": (200, VOTABLE, OK),
        "/overflow/tap/sync": (200, VOTABLE, OVERFLOW),
        "/partial/tap/sync": (200, VOTABLE, PARTIAL_THEN_ERROR),
        "/error/tap/sync": (200, VOTABLE, ERROR),
        "/broken/tap/sync": (500, "text/html", b"<html>Internal Server Error</html>"),
        "/html/tap/sync": (200, "text/html", b"<html>not a votable</html>"),
        "/ok/tap/availability": (200, "text/xml", b"<availability/>"),
    }
    with serve(routes) as base:
        yield base


def test_an_ok_answer_is_ok(tap_url: str) -> None:
    answer = TapClient(f"{tap_url}/ok/tap").query("SELECT objectId FROM t")
    assert (answer.status, answer.rows) == ("OK", 2)


def test_overflow_is_a_good_answer(tap_url: str) -> None:
    with pytest.warns(DALOverflowWarning):
        answer = TapClient(f"{tap_url}/overflow/tap").query("SELECT objectId FROM t")
    assert answer.status == "OVERFLOW"


def test_a_partial_table_then_error_fails(tap_url: str) -> None:
    with pytest.raises(TapQueryError, match="QUERY_STATUS=ERROR: Database connection lost"):
        TapClient(f"{tap_url}/partial/tap").query("SELECT objectId FROM t")


def test_the_probe_reports_the_partial_table_then_error_unhealthy(tap_url: str) -> None:
    probe = probe_tap(f"{tap_url}/partial/tap")
    assert not probe.ok and "Database connection lost" in probe.detail


def test_an_error_status_with_http_200_fails(tap_url: str) -> None:
    with pytest.raises(TapQueryError, match="QUERY_STATUS=ERROR: Could not parse your query"):
        TapClient(f"{tap_url}/error/tap").query("SELEKT")


def test_an_http_error_is_unavailable(tap_url: str) -> None:
    with pytest.raises(TapUnavailable, match="HTTP 500"):
        TapClient(f"{tap_url}/broken/tap").query("SELECT 1")


def test_a_body_that_is_not_a_votable_fails(tap_url: str) -> None:
    with pytest.raises(TapQueryError):
        TapClient(f"{tap_url}/html/tap").query("SELECT 1")


def test_a_closed_port_is_unavailable() -> None:
    with pytest.raises(TapUnavailable, match="no answer"):
        TapClient("http://127.0.0.1:9/tap", timeout_s=2).query("SELECT 1")


def test_get_returns_the_answer_with_any_status(tap_url: str) -> None:
    client = TapClient(f"{tap_url}/ok/tap/")
    assert client.get("availability").content == b"<availability/>"
    assert client.get("/capabilities", timeout_s=2).status_code == 404


def test_get_without_an_answer_is_unavailable() -> None:
    with pytest.raises(TapUnavailable, match=r"127\.0\.0\.1:9/tap/availability: no answer"):
        TapClient("http://127.0.0.1:9/tap").get("availability", timeout_s=2)


@pytest.mark.parametrize(
    ("body", "status"),
    [(OK, "OK"), (OVERFLOW, "OVERFLOW"), (PARTIAL_THEN_ERROR, "ERROR"), (ERROR, "ERROR")],
)
def test_body_status_reads_the_parsed_document(body: bytes, status: str) -> None:
    assert body_status(body)[0] == status


def test_body_status_refuses_a_body_that_is_not_a_votable() -> None:
    with pytest.raises(TapQueryError, match="not a VOTable"):
        body_status(b"<html>oops</html>")


LOCAL_TAP = "http://127.0.0.1:8080/tap"


@pytest.mark.local_stack
def test_the_local_tap_answers_a_sync_query() -> None:
    answer = TapClient(LOCAL_TAP).query("SELECT TOP 3 objectId FROM dp01_dc2_catalogs.object")
    assert (answer.status, answer.rows) == ("OK", 3)


@pytest.mark.local_stack
def test_the_local_tap_answers_an_async_job() -> None:
    answer = TapClient(LOCAL_TAP, timeout_s=30).query_async(
        "SELECT TOP 2 objectId FROM dp01_dc2_catalogs.object", timeout_s=60
    )
    assert (answer.status, answer.rows) == ("OK", 2)


@pytest.mark.local_stack
def test_the_local_tap_reports_bad_adql() -> None:
    with pytest.raises(TapQueryError, match="QUERY_STATUS=ERROR"):
        TapClient(LOCAL_TAP).query("SELECT nonexistent FROM dp01_dc2_catalogs.object")


@pytest.mark.parametrize(("route", "exit_code"), [("ok", 0), ("partial", 1), ("error", 1), ("broken", 1)])
def test_idf_tap_probe_exit_code_is_the_parsed_status(tap_url: str, route: str, exit_code: int) -> None:
    # The roles' health check (ansible/roles/tap): exit 0 only for a VOTable whose status is OK.
    idf = Path(sys.executable).parent / "idf"
    result = subprocess.run(
        [str(idf), "tap", "probe", f"{tap_url}/{route}/tap"], capture_output=True, text=True, check=False
    )
    assert result.returncode == exit_code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
