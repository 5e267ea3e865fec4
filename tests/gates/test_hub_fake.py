"""The hub checks through idf_clients.hub against a fake JupyterHub API (offline)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from idf_core.contract import StackOutputs
from idf_ops.gates.checks.base import Budget, CheckContext, CheckFailedError
from idf_ops.gates.checks.notebook import check_hub_api
from idf_ops.gates.registry import PlainGate

from .conftest import local_outputs

ANSWERS: dict[str, tuple[int, object]] = {}
SEEN_AUTH: list[str] = []


class _Hub(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        SEEN_AUTH.append(self.headers.get("Authorization", ""))
        status, body = ANSWERS.get(self.path, (404, {"message": "no route"}))
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_hub() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ANSWERS.clear()
    SEEN_AUTH.clear()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def _ctx(tmp_path: Path, port: int) -> CheckContext:
    outputs = StackOutputs.model_validate(local_outputs("fakehub", port, tmp_path))
    return CheckContext(outputs=outputs, now=dt.datetime.now(dt.UTC), loadtests_dir=tmp_path)


GATE = PlainGate(id="hub-api", check="hub-api", title="the hub API answers", timeout_s=5)


def _budget() -> Budget:
    return Budget(deadline=time.monotonic() + 5)


def test_hub_api_passes_with_version_and_spawner(state_dir: Path, tmp_path: Path, fake_hub: int) -> None:
    ANSWERS["/hub/api"] = (200, {"version": "4.1.5"})
    ANSWERS["/hub/api/info"] = (200, {"spawner": {"class": "SimpleLocalProcessSpawner"}})
    outcome = check_hub_api(_ctx(tmp_path, fake_hub), GATE, _budget())
    assert outcome.reason == "hub API answers with the admin token"
    assert outcome.evidence == [
        f"JupyterHub 4.1.5 at http://127.0.0.1:{fake_hub}/hub/api",
        "spawner SimpleLocalProcessSpawner",
    ]
    assert SEEN_AUTH == ["Bearer not-a-real-token"] * 2


def test_hub_api_refused_info_fails_with_the_status(state_dir: Path, tmp_path: Path, fake_hub: int) -> None:
    ANSWERS["/hub/api"] = (200, {"version": "4.1.5"})
    ANSWERS["/hub/api/info"] = (403, {"message": "Forbidden"})
    with pytest.raises(CheckFailedError) as caught:
        check_hub_api(_ctx(tmp_path, fake_hub), GATE, _budget())
    assert caught.value.reason == "GET /hub/api/info with the admin token -> HTTP 403"


def test_hub_api_without_a_version_fails(state_dir: Path, tmp_path: Path, fake_hub: int) -> None:
    ANSWERS["/hub/api"] = (500, {"message": "boom"})
    with pytest.raises(CheckFailedError) as caught:
        check_hub_api(_ctx(tmp_path, fake_hub), GATE, _budget())
    assert caught.value.reason == (
        f"GET http://127.0.0.1:{fake_hub}/hub/api -> HTTP 500: {{'message': 'boom'}}"
    )
