"""L3-PR-0010 (Science Platform available), notebook side: the hub API and a lab spawn."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from idf_core.errors import BadInput, OperationFailed
from idf_ops.gates.checks._common import os_reason
from idf_ops.gates.checks.base import Budget, CheckContext, CheckFailedError, Outcome, check

if TYPE_CHECKING:
    from idf_clients.hub import HubClient
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


def _unreachable(exc: BaseException) -> str:
    """Why a hub request got no answer, from the requests error the client wraps."""
    import requests  # noqa: PLC0415 - loaded when the check runs

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, requests.exceptions.Timeout | TimeoutError):
            return "timed out"
        if isinstance(seen, ConnectionRefusedError) or "Connection refused" in str(seen):
            return "connection refused"
        seen = seen.__cause__ or seen.__context__
    return type(exc.__cause__ or exc).__name__


def _hub_call(client: HubClient, method: str, path: str, budget: Budget) -> tuple[int, Any]:
    """(HTTP status, JSON body or text) of one hub API request within the remaining budget."""
    client.timeout_s = max(0.1, budget.remaining())
    try:
        answer = client._api(method, path)  # noqa: SLF001 - HubClient has no call that returns the status
    except OperationFailed as exc:
        raise CheckFailedError(
            f"{method} {client.base_url}/hub/api{path} not reachable ({_unreachable(exc)})"
        ) from exc
    try:
        return answer.status_code, answer.json() if answer.content else None
    except ValueError:
        return answer.status_code, answer.content[:200].decode(errors="replace")


def _hub_client(out: StackOutputs, token: str, budget: Budget) -> HubClient:
    from idf_clients.hub import HubClient  # noqa: PLC0415 - loaded when the check runs

    return HubClient(out.hub_url, token, timeout_s=max(0.1, budget.remaining()))


def _hub_token(out: StackOutputs) -> str:
    """The hub's admin API token, found by :func:`idf_clients.secrets.read_hub_token`."""
    from idf_clients.secrets import read_hub_token  # noqa: PLC0415 - loaded when the check runs

    try:
        return read_hub_token(out.secrets_dir)
    except BadInput as exc:
        if out.kind == "gcp":
            from idf_core.facts import HUB_TOKEN_ENV  # noqa: PLC0415 - loaded when the check runs

            raise CheckFailedError(
                f"no token for Nublado's hub at {out.hub_url}: set ${HUB_TOKEN_ENV} to a file holding a "
                f"Gafaelfawr token of the probe's bot user ({PROBE_USER}) with the scopes exec:notebook "
                "and admin:jupyterlab (Gafaelfawr's admin token API), then retry"
            ) from exc
        raise CheckFailedError(str(exc)) from exc


def _follow_spawn(client: HubClient, budget: Budget, evidence: list[str]) -> str | None:
    """Follow the hub's spawn-progress event stream until ready (its URL), failed, or out of budget."""
    client.timeout_s = max(1.0, budget.remaining())
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
    client = _hub_client(ctx.outputs, _hub_token(ctx.outputs), budget)
    api = f"{client.base_url}/hub/api"
    status, body = _hub_call(client, "GET", "", budget)
    if status != 200 or not isinstance(body, dict) or "version" not in body:
        raise CheckFailedError(f"GET {api} -> HTTP {status}: {str(body)[:120]}")
    status, info = _hub_call(client, "GET", "/info", budget)
    evidence = [f"JupyterHub {body['version']} at {api}"]
    if status == 200 and isinstance(info, dict):
        spawner = info.get("spawner", {}).get("class", "?")
        evidence.append(f"spawner {spawner}")
    else:
        raise CheckFailedError(f"GET /hub/api/info with the admin token -> HTTP {status}", evidence)
    return Outcome("hub API answers with the admin token", evidence)


@check(id="lab-spawn", live=True, stack_kinds={"local", "gcp"}, timeout_s=120)
def check_lab_spawn(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """Create the probe user, start a lab, see it answer through the proxy, stop it."""
    from idf_clients.hub import authorization  # noqa: PLC0415 - loaded when the check runs

    out = ctx.outputs
    token = _hub_token(out)
    client = _hub_client(out, token, budget)
    user_path = f"/users/{PROBE_USER}"
    evidence: list[str] = []
    status, body = _hub_call(client, "POST", user_path, budget)
    if status not in (201, 409):
        raise CheckFailedError(f"creating user {PROBE_USER}: HTTP {status}: {str(body)[:120]}")
    started = time.monotonic()
    try:
        status, body = _hub_call(client, "POST", f"{user_path}/server", budget)
        if status not in (201, 202, 400):  # 400: already running
            raise CheckFailedError(f"spawn request: HTTP {status}: {str(body)[:160]}")
        url = _follow_spawn(client, budget, evidence)
        if not url:
            raise CheckFailedError(f"lab of {PROBE_USER} not ready within {gate.timeout_s:g} s", evidence)
        evidence.append(f"lab ready at {url} after {time.monotonic() - started:.1f} s")
        # The event's url is a path on the hub's host that already holds the hub's base (Nublado:
        # /nb/user/<name>/), so it is joined to the host, not appended to the base URL.
        lab_status, _ = _http_get(
            urljoin(client.base_url + "/", url.rstrip("/") + "/api/status"),
            budget,
            headers={"Authorization": authorization(token)},
        )
        if lab_status != 200:
            raise CheckFailedError(f"lab answered HTTP {lab_status} through the proxy", evidence)
        evidence.append("lab /api/status answered 200 through the hub's proxy")
    finally:
        stop_status, _ = _hub_call(client, "DELETE", f"{user_path}/server", budget)
        evidence.append(f"stop requested (HTTP {stop_status})")
    return Outcome(f"user {PROBE_USER} spawned a lab that answered", evidence)
