"""L3-PR-0010 (Science Platform available), notebook side: the hub API and a lab spawn."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from idf_core.errors import BadInput, OperationFailed
from idf_ops.gates.checks._common import os_reason
from idf_ops.gates.checks.base import Budget, CheckContext, CheckFailedError, Outcome, check

if TYPE_CHECKING:
    from idf_core.contract import StackOutputs
    from idf_ops.gates.registry import Gate

__all__ = ["PROBE_USER", "check_hub_api", "check_lab_spawn"]

PROBE_USER = "gates-probe"


def _http_get(url: str, budget: Budget, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (http(s) from outputs)
    try:
        with urllib.request.urlopen(request, timeout=budget.remaining()) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        text = os_reason(reason) if isinstance(reason, BaseException) else str(reason)
        raise CheckFailedError(f"{url} not reachable ({text})") from exc


def _http_json(
    method: str, url: str, budget: Budget, token: str, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 (hub URL from the stack outputs)
        url, data=data, method=method, headers={"Authorization": f"token {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=budget.remaining()) as response:  # noqa: S310
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    except (urllib.error.URLError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        text = os_reason(reason) if isinstance(reason, BaseException) else str(reason)
        raise CheckFailedError(f"{method} {url} not reachable ({text})") from exc
    try:
        return status, json.loads(raw) if raw else None
    except json.JSONDecodeError:
        return status, raw[:200].decode(errors="replace")


def _hub_token(out: StackOutputs) -> str:
    """The hub's admin API token, found by :func:`idf_clients.secrets.read_hub_token`."""
    from idf_clients.secrets import read_hub_token  # noqa: PLC0415 - loaded when the check runs

    try:
        return read_hub_token(out.secrets_dir)
    except BadInput as exc:
        raise CheckFailedError(str(exc)) from exc


def _hub_api(out: StackOutputs) -> str:
    return out.hub_url.rstrip("/") + "/hub/api"


def _follow_spawn(hub_url: str, token: str, budget: Budget, evidence: list[str]) -> str | None:
    """Follow the hub's spawn-progress event stream until ready (its URL), failed, or out of budget."""
    from idf_clients.hub import HubClient  # noqa: PLC0415 - loaded when the check runs

    client = HubClient(hub_url, token, timeout_s=max(1.0, budget.remaining()))
    try:
        for event in client.spawn_progress(PROBE_USER, timeout_s=max(1.0, budget.remaining())):
            if event.get("failed"):
                raise CheckFailedError(f"spawn of {PROBE_USER} failed: {event.get('message', '')}", evidence)
            if event.get("ready"):
                return str(event.get("url") or f"/user/{PROBE_USER}/")
    except OperationFailed as exc:
        raise CheckFailedError(str(exc), evidence) from exc
    return None


@check(id="hub-api", live=True, stack_kinds={"local", "gcp"}, timeout_s=30)
def check_hub_api(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """The hub API answers an authenticated request."""
    out = ctx.outputs
    token = _hub_token(out)
    status, body = _http_json("GET", _hub_api(out), budget, token)
    if status != 200 or not isinstance(body, dict) or "version" not in body:
        raise CheckFailedError(f"GET {_hub_api(out)} -> HTTP {status}: {str(body)[:120]}")
    status, info = _http_json("GET", _hub_api(out) + "/info", budget, token)
    evidence = [f"JupyterHub {body['version']} at {_hub_api(out)}"]
    if status == 200 and isinstance(info, dict):
        spawner = info.get("spawner", {}).get("class", "?")
        evidence.append(f"spawner {spawner}")
    else:
        raise CheckFailedError(f"GET /hub/api/info with the admin token -> HTTP {status}", evidence)
    return Outcome("hub API answers with the admin token", evidence)


@check(id="lab-spawn", live=True, stack_kinds={"local", "gcp"}, timeout_s=120)
def check_lab_spawn(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """Create the probe user, start a lab, see it answer through the proxy, stop it."""
    out = ctx.outputs
    token = _hub_token(out)
    api = _hub_api(out)
    user_url = f"{api}/users/{PROBE_USER}"
    evidence: list[str] = []
    status, body = _http_json("POST", user_url, budget, token)
    if status not in (201, 409):
        raise CheckFailedError(f"creating user {PROBE_USER}: HTTP {status}: {str(body)[:120]}")
    started = time.monotonic()
    try:
        status, body = _http_json("POST", f"{user_url}/server", budget, token)
        if status not in (201, 202, 400):  # 400: already running
            raise CheckFailedError(f"spawn request: HTTP {status}: {str(body)[:160]}")
        url = _follow_spawn(out.hub_url, token, budget, evidence)
        if not url:
            raise CheckFailedError(f"lab of {PROBE_USER} not ready within {gate.timeout_s:g} s", evidence)
        evidence.append(f"lab ready at {url} after {time.monotonic() - started:.1f} s")
        lab_status, _ = _http_get(
            out.hub_url.rstrip("/") + url.rstrip("/") + "/api/status",
            budget,
            headers={"Authorization": f"token {token}"},
        )
        if lab_status != 200:
            raise CheckFailedError(f"lab answered HTTP {lab_status} through the proxy", evidence)
        evidence.append("lab /api/status answered 200 through the hub's proxy")
    finally:
        stop_status, _ = _http_json("DELETE", f"{user_url}/server", budget, token)
        evidence.append(f"stop requested (HTTP {stop_status})")
    return Outcome(f"user {PROBE_USER} spawned a lab that answered", evidence)
