"""The PostgreSQL, Qserv and hub clients and probes against the running local stack, and the hub's
spawn-progress stream against a canned one (a failed spawn must fail, not time out)."""

from __future__ import annotations

import json
import time

import pytest

from idf_clients.hub import HubClient, HubRequest
from idf_clients.probes import probe_hub, probe_postgres, probe_qserv
from idf_clients.qserv import reader_password
from idf_clients.secrets import pg_password_file, read_hub_token, read_secret
from idf_core.errors import OperationFailed

from .fake_http import serve

SECRETS = "/var/lib/idf/secrets"
LOCAL_HUB = "http://127.0.0.1:8000"


def _events(*events: dict[str, object]) -> bytes:
    return "".join(f"data: {json.dumps(e)}\n\n" for e in events).encode()


def test_the_spawn_progress_stream_is_followed_until_ready() -> None:
    stream = _events(
        {"progress": 10, "message": "spawning"}, {"progress": 100, "ready": True, "url": "/user/u/"}
    )
    with serve({"/hub/api/users/u/server/progress": (200, "text/event-stream", stream)}) as base:
        events = list(HubClient(base, "t").spawn_progress("u", timeout_s=5))
    assert [e.get("progress") for e in events] == [10, 100] and events[-1]["ready"]


def test_a_failed_spawn_fails_at_once() -> None:
    stream = _events({"progress": 10}, {"progress": 100, "failed": True, "message": "Spawn failed: no image"})
    routes = {
        "/hub/api/users/u/server": (202, "application/json", b""),
        "/hub/api/users/u/server/progress": (200, "text/event-stream", stream),
    }
    started = time.monotonic()
    with serve(routes) as base, pytest.raises(OperationFailed, match="Spawn failed: no image"):
        HubClient(base, "t").start_server("u", timeout_s=30)
    assert time.monotonic() - started < 10


def test_every_hub_request_is_reported_with_its_label_timing_and_verdict() -> None:
    stream = _events({"progress": 100, "failed": True, "message": "Spawn failed: no image"})
    routes = {
        "/hub/api/users/u": (404, "application/json", b"{}"),
        "/hub/api/users/u/tokens": (403, "application/json", b"{}"),
        "/hub/api/users/u/server": (202, "application/json", b""),
        "/hub/api/users/u/server/progress": (200, "text/event-stream", stream),
    }
    seen: list[HubRequest] = []
    with serve(routes) as base:
        client = HubClient(base, "t", on_request=seen.append)
        assert client.user("u") is None
        with pytest.raises(OperationFailed, match="token for 'u' was refused: HTTP 403"):
            client.create_token("u", "note", 60)
        with pytest.raises(OperationFailed, match="Spawn failed"):
            client.start_server("u", timeout_s=5)
    assert [(r.label, r.method, r.status, r.failure) for r in seen] == [
        ("user.get", "GET", 404, None),
        ("token.create", "POST", 403, "HTTP 403"),
        ("server.start", "POST", 202, None),
        ("server.progress", "GET", 200, "spawn failed: Spawn failed: no image"),
    ]
    assert all(r.elapsed_s >= 0 for r in seen) and seen[0].path == "/users/u"


@pytest.mark.local_stack
def test_postgres_probe_answers() -> None:
    password = read_secret(pg_password_file(SECRETS, "idf_catalogs"), "password")
    probe = probe_postgres("127.0.0.1", 5432, "postgres", "idf_catalogs", password)
    assert probe.ok, probe.detail
    assert password not in probe.detail


@pytest.mark.local_stack
def test_postgres_probe_reports_a_wrong_password() -> None:
    probe = probe_postgres("127.0.0.1", 5432, "postgres", "idf_catalogs", "wrong-password")
    assert not probe.ok and "idf_catalogs" in probe.detail and "wrong-password" not in probe.detail


@pytest.mark.local_stack
def test_qserv_probe_answers() -> None:
    probe = probe_qserv(
        "127.0.0.1", 4040, "qsmaster", reader_password(SECRETS, "qsmaster"), "dp01_dc2_catalogs"
    )
    assert probe.ok and "rows" in probe.detail, probe.detail


@pytest.mark.local_stack
def test_qserv_probe_reports_a_wrong_password() -> None:
    probe = probe_qserv("127.0.0.1", 4040, "qsmaster", "wrong-password", "dp01_dc2_catalogs")
    assert not probe.ok and "refused 'qsmaster'" in probe.detail


@pytest.mark.local_stack
def test_hub_probe_answers_and_refuses_a_bad_token() -> None:
    assert probe_hub(LOCAL_HUB, read_hub_token(SECRETS)).ok
    assert not probe_hub(LOCAL_HUB, "not-a-token").ok


@pytest.mark.local_stack
def test_a_spawn_on_the_local_hub_follows_the_progress_stream() -> None:
    client = HubClient(LOCAL_HUB, read_hub_token(SECRETS))
    name = "idf-clients-test"
    client.ensure_user(name)
    try:
        url = client.start_server(name, timeout_s=120)
        assert url == f"/user/{name}/"
        assert client.execute(url, "print(6 * 7)").strip() == "42"
    finally:
        client.stop_server(name)
        client.delete_user(name)
