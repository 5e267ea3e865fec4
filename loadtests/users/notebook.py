"""Science Platform users: drive JupyterHub's REST API and a kernel websocket, as mobu's notebook runner does.

Flow per user: (staggered start) -> create the hub user and a token with the admin token -> spawn a
lab and follow the hub's spawn-progress event stream until it is ready (``hub.spawn``) -> start a
kernel -> execute cells over the kernel websocket with the Jupyter messaging protocol and check
their output (``lab.execute.<cell>``) -> after ``executions_per_lab`` cells delete the kernel and
stop the lab (``hub.stop``), then respawn. The hub steps go through :class:`idf_clients.hub.HubClient`,
whose every API request is reported to Locust under a stable name (:data:`HUB_REQUEST_NAMES`).
Starts are staggered: users start spawning in batches of ``spawn_batch_size`` every
``spawn_batch_wait_s`` so that spawns do not overwhelm the hub.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gevent
import websocket
from locust import FastHttpUser, task
from locust.env import Environment
from locust.runners import WorkerRunner

from idf_clients.hub import HubClient, HubRequest
from idf_core.errors import OperationFailed
from loadtests.querysets import NotebookCell, load_cell_set
from loadtests.users.bounds import IterationBudget, fire_request
from loadtests.users.shared import run_config

__all__ = ["CellError", "NotebookUser", "execute_cell"]

_started_users = 0

#: Locust names of the hub API steps of :class:`idf_clients.hub.HubClient` (``hub.<label>`` otherwise).
HUB_REQUEST_NAMES = {
    "user.get": "hub.poll",
    "user.create": "hub.user.create",
    "token.create": "hub.token",
    "server.start": "hub.spawn.request",
    "server.progress": "hub.spawn.progress",
    "server.stop": "hub.stop.request",
}


class CellError(Exception):
    """A hub, lab or kernel step went wrong (or a cell's output was not the expected one)."""


def _message(msg_type: str, session: str, username: str, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "header": {
            "msg_id": uuid.uuid4().hex,
            "msg_type": msg_type,
            "session": session,
            "username": username,
            "date": datetime.now(UTC).isoformat(),
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": {},
        "content": content,
        "channel": "shell",
        "buffers": [],
    }


def execute_cell(ws: websocket.WebSocket, cell: NotebookCell, username: str, timeout_s: float) -> str:
    """Run one cell over an open kernel websocket; return its output or raise CellError."""
    request = _message(
        "execute_request",
        uuid.uuid4().hex,
        username,
        {
            "code": cell.code,
            "silent": False,
            "store_history": False,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        },
    )
    msg_id = request["header"]["msg_id"]
    ws.send(json.dumps(request))
    deadline = time.monotonic() + timeout_s
    output: list[str] = []
    reply_status = None
    idle = False
    while reply_status is None or not idle:
        if time.monotonic() > deadline:
            raise CellError(f"cell {cell.name}: no complete reply within {timeout_s:.0f} s")
        ws.settimeout(max(deadline - time.monotonic(), 0.1))
        try:
            raw = ws.recv()
        except websocket.WebSocketTimeoutException as exc:
            raise CellError(f"cell {cell.name}: no complete reply within {timeout_s:.0f} s") from exc
        if not isinstance(raw, str):
            continue  # binary frames belong to other protocols; we asked for JSON
        message = json.loads(raw)
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        msg_type = message["header"]["msg_type"]
        content = message.get("content", {})
        if msg_type == "stream":
            output.append(content.get("text", ""))
        elif msg_type in ("execute_result", "display_data"):
            output.append(str(content.get("data", {}).get("text/plain", "")))
        elif msg_type == "error":
            output.append(f"{content.get('ename')}: {content.get('evalue')}")
        elif msg_type == "execute_reply":
            reply_status = content.get("status")
        elif msg_type == "status" and content.get("execution_state") == "idle":
            idle = True
    text = "".join(output)
    if reply_status != "ok":
        raise CellError(f"cell {cell.name}: status {reply_status}: {text[-300:]}")
    if cell.expect_output not in text:
        raise CellError(f"cell {cell.name}: output {text[-200:]!r} lacks {cell.expect_output!r}")
    return text


class NotebookUser(FastHttpUser):
    """A Science Platform user: spawn a lab, run cells in a kernel, stop, respawn."""

    network_timeout = 120.0
    connection_timeout = 10.0

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        global _started_users  # noqa: PLW0603 - per-process counter for names and batches
        self.index = _started_users
        _started_users += 1
        config = run_config()
        self.settings = config.profile.notebook
        self.budget = IterationBudget(environment, config.profile.max_iterations_per_user)
        self.cells = load_cell_set().cells
        runner = environment.runner
        worker = runner.worker_index if isinstance(runner, WorkerRunner) else 0
        self.username = f"{self.settings.user_prefix}-{worker}-{self.index}"
        self.user_token: str | None = None
        self.hub: HubClient | None = None
        self.server_path: str | None = None
        self.kernel_id: str | None = None
        self.ws: websocket.WebSocket | None = None
        self.executions = 0

    # -- hub API (idf_clients.hub; every request reported to Locust) ---------------------------
    def _hub(self, token: str) -> HubClient:
        return HubClient(
            run_config().hub_url,
            token,
            timeout_s=self.network_timeout,
            on_request=self._report_hub_request,
        )

    def _report_hub_request(self, request: HubRequest) -> None:
        """Report one hub API request under its stable Locust name (e.g. ``hub.spawn.request``)."""
        fire_request(
            self.environment,
            request.method,
            HUB_REQUEST_NAMES.get(request.label, f"hub.{request.label}"),
            time.perf_counter() - request.elapsed_s,
            response_length=request.length,
            exception=CellError(request.failure) if request.failure else None,
        )

    def _admin_token(self) -> str:
        path = run_config().hub_token_file
        if not path:
            raise CellError("no hub admin token file in the run configuration")
        return Path(path).read_text().strip()

    def on_start(self) -> None:
        """Wait for this user's batch, then log in."""
        batch = self.index // self.settings.spawn_batch_size
        gevent.sleep(batch * self.settings.spawn_batch_wait_s)
        self._login()

    def _login(self) -> None:
        """Create the hub user and a token for it with the admin token."""
        started_at = time.perf_counter()
        try:
            admin = self._hub(self._admin_token())
            admin.ensure_user(self.username)
            token = admin.create_token(self.username, "idf loadtest", 4 * 3600)
        except (CellError, OperationFailed, OSError, ValueError) as exc:
            fire_request(self.environment, "HUB", "hub.login", started_at, exception=exc)
            return
        self.user_token = token
        self.hub = self._hub(token)

    def _spawn(self) -> None:
        """Spawn the lab and follow the hub's spawn progress until it is ready, then open a kernel."""
        started_at = time.perf_counter()
        if self.hub is None:
            raise CellError("not logged in to the hub")
        try:
            self.server_path = self.hub.start_server(self.username, timeout_s=self.settings.spawn_timeout_s)
        except (OperationFailed, ValueError) as exc:
            fire_request(self.environment, "HUB", "hub.spawn", started_at, exception=exc)
            raise CellError(str(exc)) from exc
        fire_request(self.environment, "HUB", "hub.spawn", started_at)
        self._open_kernel()

    def _kernels_path(self) -> str:
        return f"{(self.server_path or f'/user/{self.username}/').rstrip('/')}/api/kernels"

    def _open_kernel(self) -> None:
        started_at = time.perf_counter()
        base = self._kernels_path()
        with self.client.post(
            base,
            headers={"Authorization": f"token {self.user_token}"},
            json={"name": "python3"},
            name="lab.kernel.start",
            catch_response=True,
        ) as response:
            kernel_id = response.json().get("id") if response.status_code in (200, 201) else None
            if not kernel_id:
                response.failure(f"HTTP {response.status_code}, no id")
                raise CellError(f"kernel start answered HTTP {response.status_code}")
            response.success()
        self.kernel_id = str(kernel_id)
        ws_url = f"{run_config().hub_url.replace('http', 'ws', 1)}{base}/{kernel_id}/channels"
        try:
            self.ws = websocket.create_connection(
                ws_url, header=[f"Authorization: token {self.user_token}"], timeout=30
            )
        except (OSError, websocket.WebSocketException) as exc:
            fire_request(self.environment, "WS", "lab.kernel.connect", started_at, exception=exc)
            raise CellError(f"kernel websocket: {exc}") from exc
        fire_request(self.environment, "WS", "lab.kernel.connect", started_at)

    def _stop_lab(self) -> None:
        started_at = time.perf_counter()
        if self.ws is not None:
            self.ws.close()
            self.ws = None
        if self.kernel_id:
            self.client.delete(
                f"{self._kernels_path()}/{self.kernel_id}",
                headers={"Authorization": f"token {self.user_token}"},
                name="lab.kernel.delete",
            )
            self.kernel_id = None
        try:
            if self.hub is None:
                raise CellError("not logged in to the hub")
            self.hub.stop_server(self.username, timeout_s=self.settings.spawn_timeout_s)
        except (CellError, OperationFailed, ValueError) as exc:
            fire_request(self.environment, "HUB", "hub.stop", started_at, exception=exc)
            return
        fire_request(self.environment, "HUB", "hub.stop", started_at)
        self.server_path = None
        self.executions = 0

    # -- the task ------------------------------------------------------------------------
    @task
    def run_cell(self) -> None:
        """Run the next cell (spawning a lab first when none is up); respawn after a few cells."""
        self.budget.spend()
        if not self.user_token:
            self._login()
            if not self.user_token:
                return
        if self.ws is None:
            try:
                self._spawn()
            except CellError:
                return
        cell = self.cells[self.executions % len(self.cells)]
        started_at = time.perf_counter()
        try:
            if self.ws is None:
                raise OSError("no kernel websocket: the lab did not start")
            execute_cell(self.ws, cell, self.username, self.settings.cell_timeout_s)
        except (CellError, OSError, websocket.WebSocketException, ValueError) as exc:
            fire_request(self.environment, "WS", f"lab.execute.{cell.name}", started_at, exception=exc)
            self._stop_lab()
            return
        fire_request(self.environment, "WS", f"lab.execute.{cell.name}", started_at)
        self.executions += 1
        if self.executions >= self.settings.executions_per_lab:
            self._stop_lab()

    def on_stop(self) -> None:
        """Leave no lab behind."""
        if self.ws is not None or self.kernel_id:
            self._stop_lab()
