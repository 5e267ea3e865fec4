"""Health-driven restarts of supervisord programs: the ``idf-health`` event listener.

supervisord restarts a program whose process dies (``autorestart``); this listener restarts one
that is alive but does not answer: every check of ``/etc/idf/health/*.json`` (one file per program,
written by the program's role, see ansible/roles/supervisor/README.md) runs its real request in its
own thread, and a program is restarted only after ``failures_before_restart`` consecutive failures,
each a probe that failed or took longer than ``timeout_s``. A long but legitimate answer is not a
failure, and one timeout is not a restart (issue 16, finding 3).

It also ends what is left of a program's process group when its main process exits: supervisord
starts each program in a process group of its own, and a killed nginx master leaves workers that
keep its port, a killed hub leaves its proxy.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, TextIO

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from idf_clients.probes import Probe
from idf_clients.supervisor import SupervisorClient
from idf_core.errors import BadInput, OperationFailed

__all__ = [
    "HEALTH_STATE_FILE",
    "CheckState",
    "HealthCheck",
    "HealthListener",
    "load_checks",
    "program_states",
    "read_health_state",
    "run_probe",
]

#: Where the listener writes its state (`idf local status` reads it).
HEALTH_STATE_FILE = Path("/var/lib/idf/supervisor/health.json")


class HealthCheck(BaseModel):
    """One program's health check (``/etc/idf/health/<program>.json``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    program: str = Field(title="Program", description="supervisord program name ([program:NAME]).")
    probe: Literal["tap", "postgres", "mysql", "hub", "http"] = Field(
        title="Probe", description="Kind of real request: ADQL, SQL (PostgreSQL, MySQL), hub API, HTTP GET."
    )
    url: str = Field("", title="URL", description="tap, hub, http: the service's base URL.")
    query: str = Field("", title="Query", description="ADQL (tap) or SQL (postgres, mysql); empty: default.")
    host: str = Field("127.0.0.1", title="Host", description="postgres, mysql: server address.")
    port: int = Field(0, title="Port", description="postgres, mysql: server port.")
    database: str = Field("", title="Database", description="postgres, mysql: database to query.")
    user: str = Field("", title="User", description="postgres, mysql: account.")
    password_file: str = Field("", title="Password file", description="postgres, mysql: root-only file.")
    token_file: str = Field("", title="Token file", description="hub: root-only admin API token file.")
    timeout_s: float = Field(60.0, gt=0, title="Timeout (s)", description="Longer answers are failures.")
    interval_s: float = Field(15.0, gt=0, title="Interval (s)", description="Seconds between two probes.")
    failures_before_restart: int = Field(
        3, ge=1, title="Failures before restart", description="Consecutive failed probes before a restart."
    )
    start_grace_s: float = Field(
        60.0, ge=0, title="Start grace (s)", description="No probe this soon after the program started."
    )


def load_checks(checks_dir: Path) -> list[HealthCheck]:
    """Every ``*.json`` check of ``checks_dir``; a bad file is BadInput naming it."""
    checks = []
    for path in sorted(checks_dir.glob("*.json")):
        try:
            checks.append(HealthCheck.model_validate_json(path.read_text(encoding="utf-8")))
        except (OSError, ValidationError, UnicodeDecodeError) as exc:
            first = str(exc).splitlines()[0:3]
            raise BadInput(
                f"{path}: not a health check ({' '.join(first)}); fix or remove the file."
            ) from exc
    return checks


def _secret(path: str) -> str:
    from idf_clients.secrets import read_secret  # noqa: PLC0415 - only checks that need one

    return read_secret(Path(path), "health check credential") if path else ""


def _probe_mysql(check: HealthCheck) -> Probe:
    import pymysql  # noqa: PLC0415

    from idf_clients import qserv  # noqa: PLC0415

    endpoint = f"mysql://{check.host}:{check.port}/{check.database}"
    started = time.perf_counter()
    try:
        connection = qserv.connect(
            check.host,
            check.port,
            check.user,
            _secret(check.password_file),
            check.database,
            connect_timeout_s=check.timeout_s,
            read_timeout_s=check.timeout_s,
        )
        try:
            with connection.cursor() as cursor:
                cursor.execute(check.query or "SELECT @@port")
                row = cursor.fetchone()
        finally:
            connection.close()
    except OperationFailed as exc:
        return Probe(False, endpoint, str(exc))
    except pymysql.MySQLError as exc:
        return Probe(False, endpoint, f"query failed: {exc}")
    return Probe(True, endpoint, f"{row} in {(time.perf_counter() - started) * 1000:.0f} ms")


def _probe_http(check: HealthCheck) -> Probe:
    import requests  # noqa: PLC0415

    try:
        response = requests.get(check.url, timeout=check.timeout_s)
    except requests.RequestException as exc:
        return Probe(False, check.url, f"GET failed: {exc}")
    ok = 200 <= response.status_code < 300
    return Probe(
        ok, check.url, f"HTTP {response.status_code} in {response.elapsed.total_seconds() * 1000:.0f} ms"
    )


def _probe_tap(check: HealthCheck) -> Probe:
    from idf_clients import probes  # noqa: PLC0415

    if check.query:
        return probes.probe_tap(check.url, check.query, timeout_s=check.timeout_s)
    return probes.probe_tap(check.url, timeout_s=check.timeout_s)


def _probe_postgres(check: HealthCheck) -> Probe:
    from idf_clients import probes  # noqa: PLC0415

    password = _secret(check.password_file)
    return probes.probe_postgres(
        check.host, check.port, check.database, check.user, password, timeout_s=check.timeout_s
    )


def _probe_hub(check: HealthCheck) -> Probe:
    from idf_clients import probes  # noqa: PLC0415

    return probes.probe_hub(check.url, _secret(check.token_file), timeout_s=check.timeout_s)


_PROBES: dict[str, Callable[[HealthCheck], Probe]] = {
    "tap": _probe_tap,
    "postgres": _probe_postgres,
    "hub": _probe_hub,
    "mysql": _probe_mysql,
    "http": _probe_http,
}


def run_probe(check: HealthCheck) -> Probe:
    """The check's real request (never raises for an unhealthy service)."""
    try:
        return _PROBES[check.probe](check)
    except (OperationFailed, BadInput) as exc:  # a credential file missing, for instance
        return Probe(False, check.url or f"{check.host}:{check.port}", str(exc))
    # A client may let its library's error through (an HTTP 503 while the hub starts): for the
    # listener any exception is a failed probe, never a dead probe thread.
    except Exception as exc:  # noqa: BLE001
        return Probe(False, check.url or f"{check.host}:{check.port}", f"{type(exc).__name__}: {exc}")


@dataclass
class CheckState:
    """What the listener knows of one program (written to the state file)."""

    program: str
    consecutive_failures: int = 0
    last_ok: bool | None = None
    last_detail: str = ""
    last_probe_at: float = 0.0
    last_duration_s: float = 0.0
    health_restarts: int = 0
    last_restart_at: float = 0.0
    last_restart_reason: str = ""
    exits: int = 0
    last_exit_at: float = 0.0
    group_cleanups: int = 0
    probing: bool = field(default=False, repr=False)


def read_health_state(path: Path = HEALTH_STATE_FILE) -> dict[str, dict[str, Any]]:
    """The listener's last written state per program ({} when it never ran)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class HealthListener:
    """Probe scheduling, the restart decision and process-group cleanup (no I/O of its own protocol)."""

    def __init__(
        self,
        checks_dir: Path,
        state_file: Path,
        client: SupervisorClient,
        *,
        probe: Callable[[HealthCheck], Probe] = run_probe,
        log: TextIO = sys.stderr,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.checks_dir = checks_dir
        self.state_file = state_file
        self.client = client
        self.probe = probe
        self.log = log
        self.clock = clock
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        # Counters survive a restart of the listener itself.
        known = {f.name for f in fields(CheckState)}
        self.states: dict[str, CheckState] = {
            name: CheckState(**{k: v for k, v in saved.items() if k in known and k != "probing"})
            for name, saved in read_health_state(state_file).items()
            if isinstance(saved, dict)
        }

    def say(self, message: str) -> None:
        self.log.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} idf-health: {message}\n")
        self.log.flush()

    def tick(self) -> list[threading.Thread]:
        """Start the probes that are due; returns their threads (tests join them)."""
        try:
            checks = load_checks(self.checks_dir)
        except BadInput as exc:
            self.say(str(exc))
            return []
        try:
            processes = {p.name: p for p in self.client.processes()}
        except OperationFailed as exc:
            self.say(str(exc))
            return []
        threads = []
        now = self.clock()
        for check in checks:
            with self._lock:
                state = self.states.setdefault(check.program, CheckState(check.program))
                info = processes.get(check.program)
                due = now - state.last_probe_at >= check.interval_s
                # Not running (supervisord is restarting it) or just started: nothing to judge yet.
                settled = info is not None and info.running and info.uptime_s >= check.start_grace_s
                if state.probing or not due or not settled:
                    continue
                state.probing = True
                state.last_probe_at = now
            thread = threading.Thread(target=self._probe_one, args=(check,), daemon=True)
            thread.start()
            threads.append(thread)
        self.save()
        return threads

    def _probe_one(self, check: HealthCheck) -> None:
        started = time.perf_counter()
        result = self.probe(check)
        duration_s = time.perf_counter() - started
        ok = result.ok and duration_s <= check.timeout_s
        detail = result.detail
        if result.ok and not ok:
            detail = f"answered after {duration_s:.1f} s, over the {check.timeout_s:.0f} s timeout"
        restart = False
        with self._lock:
            state = self.states[check.program]
            state.probing = False
            state.last_ok = ok
            state.last_detail = detail
            state.last_duration_s = round(duration_s, 3)
            state.consecutive_failures = 0 if ok else state.consecutive_failures + 1
            if state.consecutive_failures >= check.failures_before_restart:
                restart = True
                state.consecutive_failures = 0
                state.health_restarts += 1
                state.last_restart_at = self.clock()
                state.last_restart_reason = detail
        if not ok:
            self.say(f"{check.program}: probe failed ({detail})")
        if restart:
            self.say(
                f"{check.program}: {check.failures_before_restart} consecutive failed probes, restarting"
            )
            try:
                self.client.restart(check.program)
            except OperationFailed as exc:
                self.say(f"{check.program}: restart failed: {exc}")
        self.save()

    def process_exited(self, program: str, pid: int) -> None:
        """End what is left of the exited main process's group (supervisord made it a group leader)."""
        with self._lock:
            state = self.states.setdefault(program, CheckState(program))
            state.exits += 1
            state.last_exit_at = self.clock()
        self.save()
        if pid <= 1:
            return
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            return  # nothing left: the usual case
        except PermissionError as exc:
            self.say(f"{program}: cannot signal process group {pid}: {exc}")
            return
        self.say(f"{program}: main process {pid} exited; ended its leftover process group")
        with self._lock:
            self.states.setdefault(program, CheckState(program)).group_cleanups += 1
        threading.Thread(target=self._kill_group_later, args=(pid,), daemon=True).start()
        self.save()

    @staticmethod
    def _kill_group_later(pgid: int, grace_s: float = 3.0) -> None:
        time.sleep(grace_s)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)

    def save(self) -> None:
        """Write the state file atomically (readers never see half a file)."""
        with self._lock:
            data = {
                name: {k: v for k, v in asdict(state).items() if k != "probing"}
                for name, state in self.states.items()
            }
        temporary = self.state_file.with_suffix(".tmp")
        with self._write_lock:  # probe threads save too: one writer of the temporary file at a time
            try:
                temporary.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
                temporary.replace(self.state_file)
            except OSError as exc:
                self.say(f"cannot write {self.state_file}: {exc}")


def serve(listener: HealthListener, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    """supervisord's event-listener protocol (``supervisor.childutils``) until stdin closes."""
    from supervisor import childutils  # noqa: PLC0415

    while True:
        headers, payload = childutils.listener.wait(stdin, stdout)
        try:
            if headers["eventname"].startswith("TICK"):
                listener.tick()
            elif headers["eventname"] == "PROCESS_STATE_EXITED":
                fields, _ = childutils.eventdata(payload + "\n")
                listener.process_exited(fields["processname"], int(fields["pid"]))
        # One bad round must not end the listener (supervisord would restart it, but the events of
        # the meantime would be lost): log it and acknowledge the event.
        except Exception as exc:  # noqa: BLE001
            listener.say(f"event {headers['eventname']} failed: {type(exc).__name__}: {exc}")
        finally:
            childutils.listener.ok(stdout)


def program_states(
    client: SupervisorClient | None = None, state_file: Path = HEALTH_STATE_FILE
) -> list[dict[str, object]]:
    """Every supervisord program with its state, pid, uptime and what the listener saw (exits,
    health restarts, last probe): the `programs` part of ``idf local status``."""
    supervisor = client or SupervisorClient()
    health = read_health_state(state_file)
    rows = []
    for info in supervisor.processes():
        seen = health.get(info.name, {})
        rows.append(
            {
                "program": info.name,
                "state": info.state,
                "pid": info.pid,
                "uptime_s": info.uptime_s,
                "started_at": info.started_at,
                "exits": seen.get("exits", 0),
                "health_restarts": seen.get("health_restarts", 0),
                "last_probe_ok": seen.get("last_ok"),
                "last_probe": seen.get("last_detail", ""),
            }
        )
    return rows
