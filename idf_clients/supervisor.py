"""supervisord (the local stack's process supervisor): its XML-RPC interface over the unix socket.

The transport is supervisor's own (``supervisor.xmlrpc.SupervisorTransport``, the one
``supervisorctl`` uses): the standard library's ``xmlrpc.client`` speaks only TCP.
"""

from __future__ import annotations

import http.client
import xmlrpc.client
from dataclasses import dataclass
from typing import Any

from supervisor.xmlrpc import SupervisorTransport

from idf_core.errors import OperationFailed

__all__ = ["DEFAULT_SOCKET", "ProcessInfo", "SupervisorClient"]

#: Debian's socket (unix_http_server.file in /etc/supervisor/supervisord.conf).
DEFAULT_SOCKET = "/var/run/supervisor.sock"


@dataclass(frozen=True)
class ProcessInfo:
    """One program as supervisord sees it (``supervisor.getAllProcessInfo``)."""

    name: str
    state: str  # RUNNING, STARTING, BACKOFF, EXITED, FATAL, STOPPED, ...
    pid: int
    started_at: int  # epoch seconds of the last start (0: never)
    now: int  # supervisord's clock when it answered
    exit_status: int
    spawn_error: str

    @property
    def running(self) -> bool:
        """supervisord considers the program up."""
        return self.state == "RUNNING"

    @property
    def uptime_s(self) -> int:
        """Seconds since the last start (0 when not running)."""
        return max(self.now - self.started_at, 0) if self.running else 0


class SupervisorClient:
    """Calls to supervisord; every failure to reach it is OperationFailed naming the socket and the fix."""

    def __init__(self, socket_path: str = DEFAULT_SOCKET) -> None:
        self.socket_path = socket_path

    def _call(self, method: str, *args: object) -> Any:
        # One connection per call: a transport holds one HTTP connection and is not thread-safe
        # (the health listener calls from its probe threads). The URL's host is ignored.
        transport = SupervisorTransport(None, None, f"unix://{self.socket_path}")
        proxy: Any = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)
        try:
            namespace, name = method.split(".")
            return getattr(getattr(proxy, namespace), name)(*args)
        except xmlrpc.client.Fault as exc:
            raise OperationFailed(f"supervisord: {method}{args}: {exc.faultString}") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise OperationFailed(
                f"supervisord does not answer on {self.socket_path} ({exc}); start it with "
                "`idf local up --only supervisor`."
            ) from exc

    def pid(self) -> int:
        """supervisord's own pid (proves it answers)."""
        return int(self._call("supervisor.getPID"))

    def processes(self) -> list[ProcessInfo]:
        """Every program, in supervisord's order."""
        return [_info(raw) for raw in self._call("supervisor.getAllProcessInfo")]

    def process(self, name: str) -> ProcessInfo:
        """One program (``name`` as in ``[program:name]``)."""
        return _info(self._call("supervisor.getProcessInfo", name))

    def stop(self, name: str) -> None:
        """Stop a program and wait until it has stopped."""
        self._call("supervisor.stopProcess", name, True)

    def start(self, name: str, *, wait: bool = True) -> None:
        """Start a program; with ``wait``, until it is RUNNING (or supervisord gives up)."""
        self._call("supervisor.startProcess", name, wait)

    def restart(self, name: str) -> None:
        """Stop (when running) and start a program, waiting for each step."""
        if self.process(name).state in {"RUNNING", "STARTING", "BACKOFF"}:
            self._call("supervisor.stopProcess", name, True)
        self._call("supervisor.startProcess", name, True)


def _info(raw: dict[str, Any]) -> ProcessInfo:
    return ProcessInfo(
        name=str(raw["name"]),
        state=str(raw["statename"]),
        pid=int(raw["pid"]),
        started_at=int(raw["start"]),
        now=int(raw["now"]),
        exit_status=int(raw["exitstatus"]),
        spawn_error=str(raw.get("spawnerr", "")),
    )
