"""One service process SIGKILLed comes back with no command typed, within 30 s (issue 12, item 5).

supervisord runs every local service (ansible/roles/supervisor/README.md). For each program this
test kills its main process with SIGKILL, then waits until supervisord runs it again under a new
pid AND the program's own health check (its real request: SQL, ADQL, the hub API) answers, and
requires that `idf local status --json` shows the exit (the health listener counts it) and the new
pid. The recovery times go to ``var/reports/faults/supervised_restarts.json``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from idf_clients.supervisor import SupervisorClient
from idf_core.paths import REPO_ROOT, state_dir
from idf_ops.local.supervision import HealthCheck, HealthListener, run_probe

pytestmark = [pytest.mark.local_stack, pytest.mark.slow]

IDF = str(REPO_ROOT / ".venv" / "bin" / "idf")
HEALTH_DIR = Path("/etc/idf/health")
RECOVERY_BUDGET_S = 30.0
# PostgreSQL, each DaCHS instance, the nginx master, MariaDB, the hub (issue 12's list).
PROGRAMS = [
    "idf-postgresql",
    "idf-tap-8091",
    "idf-tap-8092",
    "idf-nginx-tap",
    "idf-qserv-idf",
    "idf-notebook",
    "idf-notebook-proxy",
]
REPORT = state_dir("reports", "faults") / "supervised_restarts.json"


def _check(program: str) -> HealthCheck:
    return HealthCheck.model_validate_json((HEALTH_DIR / f"{program}.json").read_text())


def _front_check(program: str) -> HealthCheck:
    """The fronts have no check file of their own (a failing back end must not restart them): the
    request through them, ADQL through the balancer, the hub API through the proxy."""
    if program == "idf-nginx-tap":
        return HealthCheck(program=program, probe="tap", url="http://127.0.0.1:8080/tap", timeout_s=10)
    return _check("idf-notebook").model_copy(update={"program": program})


def _status_programs() -> dict[str, dict[str, object]]:
    status = subprocess.run(
        [IDF, "local", "status", "--json"], capture_output=True, text=True, timeout=120, check=False
    )
    return {p["program"]: p for p in json.loads(status.stdout)["programs"]}


def _wait_settled(client: SupervisorClient, program: str, check: HealthCheck, timeout_s: float) -> None:
    """Before killing: the program runs and answers (an earlier case may still be healing)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if client.process(program).running and run_probe(check).ok:
            return
        time.sleep(1)
    pytest.fail(f"{program} is not healthy before the test ({run_probe(check).detail})")


@pytest.mark.parametrize("program", PROGRAMS)
def test_a_killed_service_is_back_within_30_s(program: str) -> None:
    client = SupervisorClient()
    front = program in {"idf-nginx-tap", "idf-notebook-proxy"}
    check = _front_check(program) if front else _check(program)
    _wait_settled(client, program, check, 120)
    before = client.process(program)
    exits_before = int(str(_status_programs()[program]["exits"]))

    killed_at = time.monotonic()
    os.kill(before.pid, signal.SIGKILL)
    recovered_s = None
    while time.monotonic() - killed_at < RECOVERY_BUDGET_S:
        info = client.process(program)
        if info.running and info.pid != before.pid and run_probe(check).ok:
            recovered_s = time.monotonic() - killed_at
            break
        time.sleep(0.5)
    assert recovered_s is not None, (
        f"{program} not back {RECOVERY_BUDGET_S:.0f} s after SIGKILL of pid {before.pid}: "
        f"{client.process(program)}; probe: {run_probe(check).detail}; see /var/log/idf/"
    )

    after = _status_programs()[program]
    assert after["pid"] == client.process(program).pid != before.pid
    assert int(str(after["exits"])) == exits_before + 1, f"`idf local status` does not show the exit: {after}"

    report = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    report[program] = {
        "killed_pid": before.pid,
        "new_pid": after["pid"],
        "recovered_s": round(recovered_s, 1),
    }
    REPORT.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")


class _RecordingClient(SupervisorClient):
    """supervisord's real state, but restarts only recorded (the test must not restart anything)."""

    def __init__(self) -> None:
        super().__init__()
        self.restarts: list[str] = []

    def restart(self, name: str) -> None:
        self.restarts.append(name)


def test_a_slow_but_legitimate_health_answer_does_not_restart_an_instance(tmp_path: Path) -> None:
    """Issue 16, finding 3: a long parse (a 150-term predicate, under the 32 KB cap) answered within
    the probe timeout is health, even with the harshest policy (one failure restarts)."""
    program = "idf-tap-8092"
    slow_query = "SELECT TOP 1 ra FROM dp01_dc2_catalogs.object WHERE " + " OR ".join(  # noqa: S608 - constant
        f"ra = {i}" for i in range(150)
    )
    check = _check(program).model_copy(
        update={"query": slow_query, "failures_before_restart": 1, "start_grace_s": 0.0, "interval_s": 0.1}
    )
    checks_dir = tmp_path / "checks"
    checks_dir.mkdir()
    (checks_dir / f"{program}.json").write_text(check.model_dump_json())
    client = _RecordingClient()
    pid_before = client.process(program).pid
    listener = HealthListener(checks_dir, tmp_path / "health.json", client)
    for _ in range(2):
        for thread in listener.tick():
            thread.join()
        time.sleep(0.2)
    state = listener.states[program]
    assert state.last_ok, f"the slow query failed: {state.last_detail}"
    assert client.restarts == [] and state.health_restarts == 0
    assert client.process(program).pid == pid_before
    print(f"slow health answer: {state.last_duration_s:.1f} s (timeout {check.timeout_s:.0f} s), no restart")
