"""TAP gates against a small fake TAP service on 127.0.0.1: VOTable errors fail, aliases are visible."""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from idf_ops.gates.service import check_gates

from .conftest import local_outputs, write_outputs

ROWS = """<?xml version="1.0"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE type="results">
<INFO name="QUERY_STATUS" value="OK"/><TABLE><FIELD name="objectId" datatype="long"/>
<DATA><TABLEDATA><TR><TD>1</TD></TR><TR><TD>2</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>"""
EMPTY = ROWS.replace("<TR><TD>1</TD></TR><TR><TD>2</TD></TR>", "")
ERROR = """<?xml version="1.0"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE type="results">
<INFO name="QUERY_STATUS" value="ERROR">{message}</INFO></RESOURCE></VOTABLE>"""


class FakeTap(BaseHTTPRequestHandler):
    """/tap/sync: `position` unknown (served as `position_`), `object` errors, `reference` empty."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        query = urllib.parse.parse_qs(body).get("QUERY", [""])[0]
        if '."position"' in query:
            text = ERROR.format(message="Could not locate table 'dp01_dc2_catalogs.position'")
        elif '."object"' in query:
            text = ERROR.format(message="Syntax error near 'TOP'")
        elif '."reference"' in query:
            text = EMPTY
        else:
            text = ROWS
        payload = text.encode()
        self.send_response(200)  # DaCHS answers 200 with QUERY_STATUS=ERROR for bad ADQL
        self.send_header("Content-Type", "application/x-votable+xml")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def fake_tap() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeTap)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_tap_query_outcomes(state_dir: Path, tmp_path: Path, fake_tap: int) -> None:
    doc = local_outputs("faketap", 1, tmp_path, tap_url=f"http://127.0.0.1:{fake_tap}/tap")
    write_outputs(state_dir, doc)
    report = check_gates("faketap", ["L2-DP-0020"])
    gates = {g.id: g for g in report.checkpoints[0].gates}
    position = gates["tap-query-position"]
    assert position.status == "pass"
    assert "served as position_" in position.reason
    assert any("not served under this name" in line for line in position.evidence)
    assert gates["tap-query-object"].status == "fail"
    assert "Syntax error near 'TOP'" in gates["tap-query-object"].reason
    assert gates["tap-query-reference"].status == "fail"
    assert "returned no rows" in gates["tap-query-reference"].reason
    assert gates["tap-query-truth_match"].status == "pass"
    assert not report.ok
