"""PostgreSQL stops under a TAP load: requests fail while it is down and heal with no manual step.

A short, bounded probe load (two threads, 127.0.0.1 only) queries TAP. The test stops the cluster
(at most ~45 s, while the readiness gates that depend on it run and must turn red), then heals the
way a database comes back: ``supervisorctl start idf-postgresql`` (in a ``finally``, so a failing
test never leaves PostgreSQL down). Nothing else is done: TAP must heal by itself within
:data:`HEAL_BUDGET_S`, either because DaCHS reconnects or because supervisord's health listener
(program ``idf-health``) restarts an instance stuck with a closed connection pool after its
consecutive failed ADQL probes. Afterwards every request must succeed and the gates must be green
again. The figures (recovery time, what the listener did) are written to
``var/reports/faults/postgres_outage.json``.

The probe is plain threads rather than Locust on purpose: this is a fault probe (did each request
succeed, and when), not a throughput measurement, and Locust's gevent patching does not belong
inside the pytest process.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import pytest

from faults.tap_probe import GOOD_QUERY, tap_sync, wait_until_good
from idf_core.paths import REPO_ROOT, state_dir

pytestmark = pytest.mark.local_stack

IDF = str(REPO_ROOT / ".venv" / "bin" / "idf")
# Readiness gates that depend on PostgreSQL directly (registry/catalog database) or through TAP.
DEPENDENT_GATES = ("database-reachable", "tap-query-object")
GATE_MILESTONES = ("L2-DP-0010", "L2-DP-0020")
DOWN_FOR_S = 6.0
# The listener restarts an instance after 3 failed probes 15 s apart; a DaCHS restart takes 5-20 s
# on 2 busy cores.
HEAL_BUDGET_S = 120.0
WATCHDOG_LOG = Path("/var/log/idf/health.log")


def _watchdog_lines_since(offset: int) -> list[str]:
    """What the health listener logged after ``offset`` (bytes)."""
    if not WATCHDOG_LOG.exists():
        return []
    with WATCHDOG_LOG.open("rb") as log:
        log.seek(offset)
        lines = log.read().decode(errors="replace").splitlines()
    return [line for line in lines if "waiting" not in line]


STEADY_AFTER_S = 5.0
GOOD = {"REQUEST": "doQuery", "LANG": "ADQL", "QUERY": GOOD_QUERY}


def pg_ctl(action: str) -> None:
    subprocess.run(
        ["supervisorctl", action, "idf-postgresql"],
        check=True,
        capture_output=True,
        timeout=60,
    )


def pg_is_up() -> bool:
    ready = subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], check=False, timeout=10)
    return ready.returncode == 0


@dataclass
class ProbeLoad:
    """Two threads sending the good query back to back; every answer timestamped."""

    tap_url: str
    # (sent, answered, ok, PostgreSQL down both before sending and after the answer)
    samples: list[tuple[float, float, bool, bool]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def _run(self) -> None:
        while not self._stop.is_set():
            down_before = not pg_is_up()
            started = time.monotonic()
            answer = tap_sync(self.tap_url, GOOD, timeout_s=10)
            answered = time.monotonic()
            down_throughout = down_before and not pg_is_up()
            self.samples.append((started, answered, answer.ok and answer.rows > 0, down_throughout))
            time.sleep(0.2)

    def __enter__(self) -> Self:
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(2)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)

    def between(self, start: float, end: float) -> list[bool]:
        """Outcomes of the requests sent and answered within [start, end): a request sent during the
        outage may wait for the database and succeed once it is back, which is not an outage answer."""
        return [ok for sent, answered, ok, _ in list(self.samples) if start <= sent and answered < end]

    def while_down(self) -> list[bool]:
        """Outcomes of the requests during which PostgreSQL was verifiably down (checked before and
        after): on a shared machine another process may start the cluster early."""
        return [ok for _, _, ok, down in list(self.samples) if down]


def gate_statuses(out_dir: Path) -> dict[str, str]:
    """Run the PostgreSQL-dependent readiness gates (`idf gates check`); gate id -> status."""
    subprocess.run(
        [IDF, "gates", "check", *GATE_MILESTONES, "--stack", "local", "--out", str(out_dir)],
        cwd=REPO_ROOT,
        capture_output=True,
        timeout=45,
        check=False,
    )
    board = json.loads((out_dir / "gates.json").read_text())
    gates = [g for checkpoint in board["checkpoints"] for g in checkpoint["gates"]]
    return {g["id"]: g["status"] for g in gates if g["id"] in DEPENDENT_GATES}


def _good_within(tap_url: str, timeout_s: float) -> float | None:
    try:
        return wait_until_good(tap_url, timeout_s=timeout_s)
    except AssertionError:
        return None


def test_tap_fails_during_outage_and_recovers(tap_url: str, tmp_path: Path) -> None:
    assert pg_is_up(), "PostgreSQL is not running before the test; run `idf local up`"
    watchdog = subprocess.run(
        ["supervisorctl", "status", "idf-health"], capture_output=True, text=True, timeout=30, check=False
    )
    assert "RUNNING" in watchdog.stdout, (
        f"the health listener is not running: {watchdog.stdout}{watchdog.stderr}"
    )
    log_offset = WATCHDOG_LOG.stat().st_size if WATCHDOG_LOG.exists() else 0
    wait_until_good(tap_url, timeout_s=30)
    with ProbeLoad(tap_url) as load:
        time.sleep(2.0)
        stop_requested_at = time.monotonic()
        try:
            pg_ctl("stop")
            stopped_at = time.monotonic()
            gates_during = gate_statuses(tmp_path / "during")
            time.sleep(max(0.0, DOWN_FOR_S - (time.monotonic() - stopped_at)))
        finally:
            if not pg_is_up():
                pg_ctl("start")
        started_at = time.monotonic()
        recovery_s = _good_within(tap_url, HEAL_BUDGET_S)  # no repair step: DaCHS or the listener
        healed_at = time.monotonic()
        time.sleep(STEADY_AFTER_S)
        end = time.monotonic()
    gates_after = gate_statuses(tmp_path / "after")

    before = load.between(0, stop_requested_at)
    during = load.while_down()
    after = load.between(healed_at, end)
    report = {
        "scenario": f"postgresql stopped for {DOWN_FOR_S:.0f} s under a 2-thread TAP probe load",
        "requests_before_ok": f"{sum(before)}/{len(before)}",
        "requests_during_outage_ok": f"{sum(during)}/{len(during)}",
        "self_healed": recovery_s is not None,
        "watchdog_actions": _watchdog_lines_since(log_offset),
        "recovery_s_from_restart_to_steady": round(healed_at - started_at, 2),
        "outage_total_s": round(healed_at - stopped_at, 2),
        "requests_after_recovery_ok": f"{sum(after)}/{len(after)}",
        "gates_during_outage": gates_during,
        "gates_after_recovery": gates_after,
    }
    (state_dir("reports", "faults") / "postgres_outage.json").write_text(json.dumps(report, indent=2) + "\n")
    assert before and all(before), f"TAP was not healthy before the outage: {report}"
    assert during and not any(during), f"requests succeeded while PostgreSQL was down: {report}"
    assert set(gates_during) == set(DEPENDENT_GATES), f"gates missing from the board: {report}"
    assert all(status == "fail" for status in gates_during.values()), f"gates stayed green: {report}"
    assert recovery_s is not None, (
        f"TAP did not heal by itself within {HEAL_BUDGET_S:.0f} s of PostgreSQL's restart: {report}"
    )
    assert after and all(after), f"requests failed after recovery: {report}"
    assert all(status == "pass" for status in gates_after.values()), f"gates still red: {report}"
