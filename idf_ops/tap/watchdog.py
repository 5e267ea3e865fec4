"""Keep the local TAP service healthy without a person: the DaCHS watchdog.

DaCHS 2.7 does not reopen its database connection pool after PostgreSQL restarts, and async jobs
of a dead worker block the UWS queue (see :mod:`idf_ops.tap.instances`). There is no systemd on
these machines to restart a failed unit, so the `tap` role starts this small supervisor: every
``--interval-s`` it waits for PostgreSQL to accept connections, then restarts the instances that
fail a real ADQL query and aborts orphaned async jobs. While PostgreSQL is down it does nothing
(restarting DaCHS then would not help).

    idf tap watchdog start|stop|status|run [--interval-s N]

``start`` detaches a ``run`` process and records its pid; it prints ``started`` or ``running``
(for the role's ``changed_when``). Its log is ``/var/log/idf-tap-watchdog.log``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from idf_core.errors import BadInput, OperationFailed
from idf_ops.tap.instances import abort_orphaned_jobs, restart_unhealthy

__all__ = ["ACTIONS", "RUN_ARGS", "heal_once", "watchdog_action"]

PID_FILE = Path("/run/idf-tap-watchdog.pid")
# The detached process runs `idf tap watchdog run`; its command line (NUL-separated in /proc)
# is how a pid from PID_FILE is known to still be the watchdog and not a recycled pid.
RUN_ARGS = ("tap", "watchdog", "run")
RUN_MARKER = b"\0".join(arg.encode() for arg in RUN_ARGS)
ACTIONS = ("start", "stop", "status", "run")
LOG_FILE = Path("/var/log/idf-tap-watchdog.log")


def _log(message: str) -> None:
    print(f"{datetime.now(UTC).isoformat(timespec='seconds')} {message}", flush=True)


def _postgres_ready() -> bool:
    result = subprocess.run(
        ["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432", "-t", "3"], check=False, timeout=10
    )
    return result.returncode == 0


def heal_once() -> str:
    """One round: return what was done (for the log)."""
    if not _postgres_ready():
        return "postgresql not ready: waiting"
    restarted = restart_unhealthy()
    aborted = abort_orphaned_jobs()
    if restarted or aborted:
        return f"restarted {len(restarted)} instance(s), aborted {len(aborted)} orphaned job(s)"
    return ""


def _run(interval_s: float) -> int:
    stopping = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    _log(f"watchdog running (pid {os.getpid()}, every {interval_s:g} s)")
    while not stopping:
        try:
            done = heal_once()
        except (OperationFailed, subprocess.SubprocessError, OSError) as exc:
            done = f"heal failed, retrying: {exc}"
        if done:
            _log(done)
        deadline = time.monotonic() + interval_s
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.5)
    _log("watchdog stopped")
    return 0


def _running_pid() -> int | None:
    try:
        pid = int(PID_FILE.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return pid if RUN_MARKER in cmdline else None


def _start(interval_s: float) -> int:
    if _running_pid() is not None:
        print("running")
        return 0
    with LOG_FILE.open("a") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "idf"), *RUN_ARGS, "--interval-s", str(interval_s)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    PID_FILE.write_text(f"{process.pid}\n")
    print("started")
    return 0


def _stop_running() -> int:
    pid = _running_pid()
    if pid is None:
        print("not running")
        return 0
    os.kill(pid, signal.SIGTERM)
    for _ in range(50):
        if not Path(f"/proc/{pid}").exists():
            break
        time.sleep(0.1)
    PID_FILE.unlink(missing_ok=True)
    print("stopped")
    return 0


def watchdog_action(action: str, interval_s: float = 10.0) -> int:
    """Carry out ``idf tap watchdog ACTION``; the exit code (``status``: 0 running, 1 not)."""
    if action not in ACTIONS:
        raise BadInput(f"watchdog action {action!r}: use one of {', '.join(ACTIONS)}")
    if interval_s <= 0:
        raise BadInput(f"--interval-s {interval_s:g}: must be positive")
    if action == "run":
        return _run(interval_s)
    if action == "start":
        return _start(interval_s)
    if action == "stop":
        return _stop_running()
    pid = _running_pid()
    print(f"running (pid {pid})" if pid else "not running")
    return 0 if pid else 1
