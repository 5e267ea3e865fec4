"""A client of the JupyterHub REST API: users, servers (spawn followed on the progress event stream),
and running code in a user's kernel over its websocket (Jupyter messaging protocol).

The admin token comes from :func:`idf_clients.secrets.read_hub_token` (the `notebook` role's
generated service token in the stack's ``secrets_dir``).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

import requests
import websocket

from idf_core.errors import OperationFailed

__all__ = ["HubClient", "HubRequest", "SpawnEvent", "authorization"]


def authorization(token: str) -> str:
    """The ``Authorization`` header of a hub or lab request: the Bearer scheme, which JupyterHub and
    Jupyter Server accept beside their own ``token`` scheme, and the only one of the two that
    Gafaelfawr's ingress (Nublado on the cloud stacks) takes."""
    return f"Bearer {token}"


class SpawnEvent(dict[str, Any]):
    """One event of ``/hub/api/users/{name}/server/progress`` (progress, message, ready, failed, url)."""


@dataclass(frozen=True)
class HubRequest:
    """One finished hub API request, as passed to the ``on_request`` hook of :class:`HubClient`.

    ``label`` names the step (``user.get``, ``user.create``, ``user.delete``, ``token.create``,
    ``server.start``, ``server.progress``, ``server.stop``); ``failure`` is None when the answer was
    one the step accepts. ``server.progress`` is reported once, when its event stream ends.
    """

    label: str
    method: str
    path: str
    elapsed_s: float
    status: int | None
    length: int
    failure: str | None


class HubClient:
    """JupyterHub API at ``base_url`` (e.g. ``http://127.0.0.1:8000``) with an API token.

    ``on_request``, when given, is called with a :class:`HubRequest` after every API request
    (timing and verdict), e.g. to report it to a load generator's statistics.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        timeout_s: float = 15.0,
        on_request: Callable[[HubRequest], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.on_request = on_request
        self._session = requests.Session()
        self._session.headers["Authorization"] = authorization(token)
        self._token = token

    def _report(
        self,
        label: str,
        method: str,
        path: str,
        started: float,
        *,
        status: int | None,
        length: int = 0,
        failure: str | None,
    ) -> None:
        if self.on_request is not None:
            self.on_request(
                HubRequest(label, method, path, time.perf_counter() - started, status, length, failure)
            )

    def _api(
        self, method: str, path: str, *, label: str = "", accept: Collection[int] = (200,), **kwargs: Any
    ) -> requests.Response:
        started = time.perf_counter()
        label = label or f"{method} {path}"
        try:
            answer = self._session.request(
                method, f"{self.base_url}/hub/api{path}", timeout=self.timeout_s, **kwargs
            )
        except requests.RequestException as exc:
            self._report(
                label, method, path, started, status=None, failure=f"no answer ({type(exc).__name__})"
            )
            raise OperationFailed(
                f"notebook: JupyterHub at {self.base_url} does not answer ({type(exc).__name__}); "
                "run `idf local up`."
            ) from exc
        failure = None if answer.status_code in accept else f"HTTP {answer.status_code}"
        self._report(
            label,
            method,
            path,
            started,
            status=answer.status_code,
            length=len(answer.content),
            failure=failure,
        )
        return answer

    def version(self) -> str:
        """The hub's version (the unauthenticated API root)."""
        answer = self._api("GET", "/", label="version")
        answer.raise_for_status()
        return str(answer.json()["version"])

    def users(self) -> list[dict[str, Any]]:
        """Every user's model (needs an admin token)."""
        answer = self._api("GET", "/users", label="users")
        if answer.status_code != 200:
            raise OperationFailed(f"notebook: the hub API refused the admin token: HTTP {answer.status_code}")
        return [dict(user) for user in answer.json()]

    def user(self, name: str) -> dict[str, Any] | None:
        """The user's model, None when absent."""
        answer = self._api("GET", f"/users/{name}", label="user.get", accept=(200, 404))
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        return dict(answer.json())

    def ensure_user(self, name: str) -> None:
        """Create the user unless it exists."""
        if self.user(name) is None:
            answer = self._api("POST", f"/users/{name}", label="user.create", accept=(201, 409))
            if answer.status_code not in {201, 409}:
                raise OperationFailed(
                    f"notebook: creating user {name!r} failed: HTTP {answer.status_code} {answer.text}"
                )

    def delete_user(self, name: str) -> None:
        """Remove the user (its server must be stopped)."""
        answer = self._api("DELETE", f"/users/{name}", label="user.delete", accept=(204, 404))
        if answer.status_code not in {204, 404}:
            raise OperationFailed(
                f"notebook: deleting user {name!r} failed: HTTP {answer.status_code} {answer.text}"
            )

    def _wait_stopped(self, name: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            model = self.user(name) or {}
            if not (model.get("servers") or {}).get(""):
                return
            time.sleep(0.5)
        raise OperationFailed(f"notebook: the server of {name!r} was not stopped within {timeout_s:.0f} s")

    def create_token(self, name: str, note: str, expires_in_s: int) -> str:
        """A new API token of the user (needs an admin token, or the user's own)."""
        answer = self._api(
            "POST",
            f"/users/{name}/tokens",
            label="token.create",
            accept=(200, 201),
            json={"note": note, "expires_in": expires_in_s},
        )
        token = answer.json().get("token") if answer.status_code in {200, 201} else None
        if not token:
            raise OperationFailed(
                f"notebook: a token for {name!r} was refused: HTTP {answer.status_code} {answer.text[:200]}"
            )
        return str(token)

    def spawn_progress(self, name: str, timeout_s: float = 120.0) -> Iterator[SpawnEvent]:
        """The events of the hub's spawn-progress stream (server-sent events) until ready or failed."""
        path = f"/users/{name}/server/progress"
        started = time.perf_counter()
        status: int | None = None
        failure: str | None = "the stream ended before the server was ready"
        try:
            try:
                answer = self._session.get(
                    f"{self.base_url}/hub/api{path}",
                    headers={"Accept": "text/event-stream"},
                    stream=True,
                    timeout=(self.timeout_s, timeout_s),
                )
            except requests.RequestException as exc:
                failure = f"no answer ({type(exc).__name__})"
                raise OperationFailed(
                    f"notebook: JupyterHub at {self.base_url} does not answer ({type(exc).__name__}); "
                    "run `idf local up`."
                ) from exc
            status = answer.status_code
            with answer:
                if answer.status_code != 200:
                    failure = f"HTTP {answer.status_code}"
                    raise OperationFailed(
                        f"notebook: spawn progress of {name!r}: HTTP {answer.status_code} {answer.text[:200]}"
                    )
                try:
                    for line in answer.iter_lines():
                        if line.startswith(b"data:"):
                            event = SpawnEvent(json.loads(line.removeprefix(b"data:").strip()))
                            if event.get("ready"):
                                failure = None
                            elif event.get("failed"):
                                failure = f"spawn failed: {event.get('message', '')}"
                            yield event
                            if event.get("ready") or event.get("failed"):
                                return
                except requests.RequestException as exc:
                    failure = f"the stream stopped ({type(exc).__name__})"
                    raise OperationFailed(
                        f"notebook: the spawn progress of {name!r} stopped ({type(exc).__name__}) "
                        f"within {timeout_s:.0f} s"
                    ) from exc
        finally:
            self._report("server.progress", "GET", path, started, status=status, failure=failure)

    def start_server(self, name: str, timeout_s: float = 120.0) -> str:
        """Spawn the user's default server and follow its progress until ready; return its URL path."""
        answer = self._api("POST", f"/users/{name}/server", label="server.start", accept=(201, 202, 400))
        if answer.status_code not in {201, 202, 400}:  # 400: already running
            raise OperationFailed(
                f"notebook: spawning for {name!r} failed: HTTP {answer.status_code} {answer.text}"
            )
        last: SpawnEvent = SpawnEvent()
        for last in self.spawn_progress(name, timeout_s):
            if last.get("failed"):
                raise OperationFailed(f"notebook: spawning for {name!r} failed: {last.get('message', '')}")
        if not last.get("ready"):
            raise OperationFailed(f"notebook: the server of {name!r} was not ready within {timeout_s:.0f} s")
        server = ((self.user(name) or {}).get("servers") or {}).get("") or {}
        return str(last.get("url") or server.get("url") or f"/user/{name}/")

    def stop_server(self, name: str, timeout_s: float = 60.0) -> None:
        """Stop the user's default server and wait until it is gone."""
        answer = self._api("DELETE", f"/users/{name}/server", label="server.stop", accept=(202, 204, 400))
        if answer.status_code not in {202, 204, 400}:
            raise OperationFailed(
                f"notebook: stopping {name!r} failed: HTTP {answer.status_code} {answer.text}"
            )
        self._wait_stopped(name, timeout_s)

    def execute(self, server_path: str, code: str, timeout_s: float = 60.0) -> str:
        """Start a Python kernel on the user's server, run ``code``, return its stdout and result text."""
        server_url = self.base_url + server_path.rstrip("/")
        headers = {"Authorization": authorization(self._token)}
        answer = requests.post(
            f"{server_url}/api/kernels", json={"name": "python3"}, headers=headers, timeout=timeout_s
        )
        if answer.status_code != 201:
            raise OperationFailed(
                f"notebook: starting a kernel failed: HTTP {answer.status_code} {answer.text[:200]}"
            )
        kernel_id = answer.json()["id"]
        try:
            return self._run_in_kernel(server_url, kernel_id, code, headers, timeout_s)
        finally:
            requests.delete(f"{server_url}/api/kernels/{kernel_id}", headers=headers, timeout=timeout_s)

    @staticmethod
    def _run_in_kernel(
        server_url: str, kernel_id: str, code: str, headers: dict[str, str], timeout_s: float
    ) -> str:
        ws_url = server_url.replace("http://", "ws://", 1) + f"/api/kernels/{kernel_id}/channels"
        connection = websocket.create_connection(
            ws_url, header=[f"{k}: {v}" for k, v in headers.items()], timeout=timeout_s
        )
        msg_id = uuid.uuid4().hex
        request = {
            "header": {
                "msg_id": msg_id,
                "username": "idf",
                "session": uuid.uuid4().hex,
                "msg_type": "execute_request",
                "version": "5.3",
            },
            "parent_header": {},
            "metadata": {},
            "content": {"code": code, "silent": False, "store_history": False, "allow_stdin": False},
            "channel": "shell",
            "buffers": [],
        }
        output: list[str] = []
        deadline = time.monotonic() + timeout_s
        try:
            connection.send(json.dumps(request))
            while time.monotonic() < deadline:
                message = json.loads(connection.recv())
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = message["msg_type"]
                content = message["content"]
                if kind == "stream":
                    output.append(content["text"])
                elif kind == "execute_result":
                    output.append(content["data"].get("text/plain", ""))
                elif kind == "error":
                    raise OperationFailed(
                        f"notebook: the kernel raised {content['ename']}: {content['evalue']}"
                    )
                elif kind == "status" and content["execution_state"] == "idle":
                    return "".join(output)
        finally:
            connection.close()
        raise OperationFailed(f"notebook: the kernel did not finish within {timeout_s:.0f} s")
