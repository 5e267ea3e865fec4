"""L3-PR-0010's notebook side on a cloud stack: the hub-api and lab-spawn checks against Nublado's hub
API recorded in the shapes JupyterHub's REST API returns (``responses/nublado-*``; the spawn events'
texts are ours), under the hub URL the Pulumi program exports for dp01, with a Bearer token (the
scheme Gafaelfawr's ingress takes). Each failure a real deployment shows fails with its own message.

Not checked here (no Nublado to record from): that Nublado's hub accepts a bot user's Gafaelfawr
token on its REST API for these calls. Rubin's own client (rubin-nublado-client, which drives the
hub as a browser does) is not in this machine's package index.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pytest_httpserver import HTTPServer
from pytest_httpserver.httpserver import RequestHandler
from werkzeug import Response

from idf_core.facts import HUB_TOKEN_ENV
from idf_ops.gates.checks import CHECKS
from idf_ops.gates.checks.base import Budget, CheckFailedError, Outcome
from idf_ops.gates.checks.notebook import PROBE_USER
from idf_ops.gates.registry import PlainGate
from support.plans import OfflinePlans

from .conftest import RESPONSES, cloud_outputs, context, response

TOKEN = "gt-probe.not-a-real-token"  # noqa: S105 - a fake token of the recorded hub
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NUBLADO_HUB_API = "/nb/hub/api"


@pytest.fixture(scope="module")
def hub_path(plans: OfflinePlans) -> str:
    """The path of dp01's exported hub URL: the hub clients add ``/hub/api``, which must give the path
    Nublado serves its hub API at (Phalanx's nublado: JupyterHub's base URL ``/nb/``)."""
    path = urlsplit(plans["dp01"].outputs["hub_url"]).path.rstrip("/")
    assert f"{path}/hub/api" == NUBLADO_HUB_API, f"hub_url's path {path!r} does not lead to {NUBLADO_HUB_API}"
    return path


@pytest.fixture
def token_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "hub-token"
    path.write_text(TOKEN + "\n")
    path.chmod(0o600)
    monkeypatch.setenv(HUB_TOKEN_ENV, str(path))
    return path


def _run(check_id: str, hub_url: str, tmp_path: Path) -> Outcome:
    gate = PlainGate(id=check_id, check=check_id, title="a cloud notebook gate", timeout_s=20)
    ctx = context(cloud_outputs(hub_url=hub_url), tmp_path)
    return CHECKS[check_id].function(ctx, gate, Budget(deadline=time.monotonic() + 20))


def _api(server: HTTPServer, hub_path: str, path: str, method: str = "GET") -> RequestHandler:
    return server.expect_request(f"{hub_path}/hub/api{path}", method=method, headers=AUTH)


def _healthy_hub(server: HTTPServer, hub_path: str, *, events: str = "nublado-spawn-ready.events") -> None:
    _api(server, hub_path, "").respond_with_json(response("nublado-hub-root.json"))
    _api(server, hub_path, "/info").respond_with_json(response("nublado-hub-info.json"))
    user = f"/users/{PROBE_USER}"
    _api(server, hub_path, user, "POST").respond_with_json(response("nublado-user-created.json"), status=201)
    _api(server, hub_path, f"{user}/server", "POST").respond_with_data("", status=202)
    _api(server, hub_path, f"{user}/server/progress").respond_with_data(
        (RESPONSES / events).read_text(), content_type="text/event-stream"
    )
    _api(server, hub_path, f"{user}/server", "DELETE").respond_with_data("", status=204)


def _base(server: HTTPServer, hub_path: str) -> str:
    return server.url_for("").rstrip("/") + hub_path


def test_hub_api_passes_on_nublado(
    httpserver: HTTPServer, hub_path: str, token_file: Path, tmp_path: Path
) -> None:
    _healthy_hub(httpserver, hub_path)
    outcome = _run("hub-api", _base(httpserver, hub_path), tmp_path)
    assert "JupyterHub 5.2.1" in outcome.evidence[0]
    assert "NubladoSpawner" in outcome.evidence[1]


def test_lab_spawn_passes_on_nublado(
    httpserver: HTTPServer, hub_path: str, token_file: Path, tmp_path: Path
) -> None:
    _healthy_hub(httpserver, hub_path)
    lab = httpserver.expect_request(f"{hub_path}/user/{PROBE_USER}/api/status", headers=AUTH)
    lab.respond_with_json(response("nublado-lab-status.json"))
    outcome = _run("lab-spawn", _base(httpserver, hub_path), tmp_path)
    assert "lab /api/status answered 200 through the hub's proxy" in outcome.evidence
    assert any(e.startswith("lab ready at /nb/user/gates-probe/") for e in outcome.evidence)
    assert "stop requested (HTTP 204)" in outcome.evidence


def _ingress_503(server: HTTPServer, hub_path: str) -> None:
    html = "<html><head><title>503 Service Temporarily Unavailable</title></head></html>"
    server.expect_request(f"{hub_path}/hub/api").respond_with_response(
        Response(html, status=503, content_type="text/html")
    )


def _token_refused(server: HTTPServer, hub_path: str) -> None:
    _api(server, hub_path, "").respond_with_json(response("nublado-hub-root.json"))
    server.expect_request(f"{hub_path}/hub/api/info").respond_with_json(
        response("gafaelfawr-invalid-token.json"), status=401, headers={"WWW-Authenticate": "Bearer"}
    )


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (_ingress_503, "-> HTTP 503"),
        (_token_refused, "GET /hub/api/info with the admin token -> HTTP 401"),
    ],
    ids=["hub-down-behind-the-ingress", "token-refused-by-gafaelfawr"],
)
def test_hub_api_fails_on_each_recorded_failure(  # noqa: PLR0917 - fixtures and parameters
    httpserver: HTTPServer, hub_path: str, token_file: Path, tmp_path: Path, record: object, message: str
) -> None:
    record(httpserver, hub_path)  # type: ignore[operator]
    with pytest.raises(CheckFailedError, match=message.replace("/", ".")):
        _run("hub-api", _base(httpserver, hub_path), tmp_path)


def test_lab_spawn_fails_when_nublado_cannot_create_the_lab(
    httpserver: HTTPServer, hub_path: str, token_file: Path, tmp_path: Path
) -> None:
    _healthy_hub(httpserver, hub_path, events="nublado-spawn-failed.events")
    with pytest.raises(CheckFailedError, match=r"spawn of gates-probe failed: .*ImagePullBackOff") as failed:
        _run("lab-spawn", _base(httpserver, hub_path), tmp_path)
    assert "ImagePullBackOff" in str(failed.value)
    stops = [
        r
        for r, _ in httpserver.log
        if r.method == "DELETE" and r.path.endswith(f"/users/{PROBE_USER}/server")
    ]
    assert stops, "a failed spawn is still stopped"


def test_lab_spawn_fails_when_the_lab_does_not_answer(
    httpserver: HTTPServer, hub_path: str, token_file: Path, tmp_path: Path
) -> None:
    _healthy_hub(httpserver, hub_path)
    httpserver.expect_request(f"{hub_path}/user/{PROBE_USER}/api/status").respond_with_data(
        "Bad Gateway", status=502
    )
    with pytest.raises(CheckFailedError, match="lab answered HTTP 502 through the proxy"):
        _run("lab-spawn", _base(httpserver, hub_path), tmp_path)


def test_no_token_on_a_cloud_stack_says_which_token(
    hub_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(HUB_TOKEN_ENV, raising=False)
    with pytest.raises(
        CheckFailedError, match=f"set \\${HUB_TOKEN_ENV} .* exec:notebook and admin:jupyterlab"
    ):
        _run("hub-api", "https://data.lsst.cloud/nb", tmp_path)


def test_hub_not_reachable_says_so(hub_path: str, token_file: Path, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(CheckFailedError, match="not reachable \\(connection refused\\)"):
        _run("hub-api", f"http://127.0.0.1:{port}{hub_path}", tmp_path)
