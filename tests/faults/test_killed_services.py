"""Every local process killed at once (a session or machine ends), then `idf local down` and `up` recover.

When a machine stops, its processes get SIGKILL and leave their socket and pid files behind:
supervisord's ``/var/run/supervisor.sock`` and pid file, MariaDB's ``/run/mysqld/mysqld.sock``,
PostgreSQL's ``postmaster.pid``, nginx's pid file. A role that reads "running" from such a file
skips the start and then waits for a server that never comes (CI failed exactly so). This test
kills supervisord and every service process of the local stack with SIGKILL (supervisord first, so
nothing is respawned), checks that stale files are left, and requires that `idf local down` and
then `idf local up` finish with zero failed tasks, every service healthy and every supervisord
program RUNNING. The times go to ``var/reports/faults/killed_services.json``.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from idf_core.paths import REPO_ROOT, state_dir

pytestmark = [pytest.mark.local_stack]

IDF = str(REPO_ROOT / ".venv" / "bin" / "idf")
FAILED_COUNT = re.compile(r"(\d+) failed in")
# Files that a killed server leaves behind and that a start must not be fooled by.
STALE_FILES = [
    Path("/var/run/supervisor.sock"),
    Path("/var/run/supervisord.pid"),
    Path("/run/mysqld/mysqld.sock"),
    Path("/run/mysqld/mysqld.pid"),
]
# Service users of the local stack: every process of theirs belongs to a service.
SERVICE_USERS = {"postgres", "mysql", "gavo"}
# Root-owned service processes, recognised by their command line.
ROOT_SERVICE_MARKERS = (
    "supervisord",
    "nginx -c /etc/idf/",
    "/etc/idf/jupyterhub/",
    "configurable-http-proxy",
    "idf local health-listener",
    "cron -f",
)


def _service_processes() -> list[psutil.Process]:
    """Every process of a service, children included (nginx workers run as www-data)."""
    found: dict[int, psutil.Process] = {}
    for process in psutil.process_iter(["username", "cmdline", "status"]):
        if process.info["status"] == psutil.STATUS_ZOMBIE:  # dead, only not reaped yet by PID 1
            continue
        cmdline = " ".join(process.info["cmdline"] or [])
        if process.info["username"] in SERVICE_USERS or any(m in cmdline for m in ROOT_SERVICE_MARKERS):
            found[process.pid] = process
            with contextlib.suppress(psutil.NoSuchProcess):
                found.update((child.pid, child) for child in process.children(recursive=True))
    return list(found.values())


def _kill_every_service() -> int:
    """SIGKILL every service process, supervisord first so nothing is respawned."""

    def supervisor_first(process: psutil.Process) -> bool:
        with contextlib.suppress(psutil.NoSuchProcess):
            return "supervisord" not in " ".join(process.cmdline())
        return True

    processes = sorted(_service_processes(), key=supervisor_first)
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(signal.SIGKILL)
    psutil.wait_procs(processes, timeout=30)
    return len(processes)


def _run(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run(
        [IDF, *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=1500, check=False
    )
    return result, time.monotonic() - started


def test_down_and_up_recover_from_killed_services() -> None:
    killed = _kill_every_service()
    assert killed >= 5, f"expected the local stack's processes to be running, found {killed}"
    assert not _service_processes(), "a service process survived SIGKILL"
    stale = [str(path) for path in STALE_FILES if path.exists()]
    assert stale, "no stale socket or pid file was left: the test no longer reproduces a machine stop"

    down, down_s = _run("local", "down")
    assert down.returncode == 0, f"idf local down after a kill failed:\n{(down.stdout + down.stderr)[-3000:]}"

    up, up_s = _run("local", "up")
    output = up.stdout + up.stderr
    assert up.returncode == 0, f"idf local up after a kill failed (rc {up.returncode}):\n{output[-3000:]}"
    failed = [int(n) for n in FAILED_COUNT.findall(output)]
    assert failed and sum(failed) == 0, f"idf local up reported failed tasks {failed}:\n{output[-3000:]}"

    status, _ = _run("local", "status", "--json")
    services = json.loads(status.stdout)["services"]
    unhealthy = [s for s in services if not s["healthy"]]
    assert not unhealthy, f"unhealthy after recovery: {unhealthy}"
    programs = json.loads(status.stdout)["programs"]
    stopped = [p for p in programs if p["state"] != "RUNNING"]
    assert status.returncode == 0 and not stopped, f"supervisord programs not running: {stopped}"

    report = {
        "scenario": "every local service process killed with SIGKILL, then idf local down and idf local up",
        "processes_killed": killed,
        "stale_files_left": stale,
        "down_s": round(down_s, 1),
        "up_s": round(up_s, 1),
        "services_healthy": [s["service"] for s in services],
        "programs_running": [p["program"] for p in programs],
    }
    (state_dir("reports", "faults") / "killed_services.json").write_text(json.dumps(report, indent=2) + "\n")
