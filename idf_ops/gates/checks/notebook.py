"""L3-PR-0010 (Science Platform available), notebook side: the hub API and a lab spawn."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


HUB_TOKEN_FILE = "jupyterhub_api_token"  # noqa: S105 (a file name, not a secret)


def _hub_token(out: StackOutputs) -> str:
    """The hub's admin API token: $IDF_HUB_TOKEN, else the stack's secrets dir (never the repo)."""
    token = os.environ.get("IDF_HUB_TOKEN")
    if token:
        return token.strip()
    if not out.secrets_dir:
        raise CheckFailedError("no hub admin token: set IDF_HUB_TOKEN or publish secrets_dir in the outputs")
    path = Path(out.secrets_dir) / HUB_TOKEN_FILE
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise CheckFailedError(
            f"hub admin token {path} unreadable ({exc.strerror}); set IDF_HUB_TOKEN"
        ) from exc


def _hub_api(out: StackOutputs) -> str:
    return out.hub_url.rstrip("/") + "/hub/api"


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
        url = None
        while not budget.expired():
            status, model = _http_json("GET", user_url, budget, token)
            server = (model or {}).get("servers", {}).get("", {}) if isinstance(model, dict) else {}
            if server.get("ready"):
                url = server.get("url")
                break
            time.sleep(0.3)
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
