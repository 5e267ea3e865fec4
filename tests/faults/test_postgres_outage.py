"""PostgreSQL stops under a TAP load: requests fail while it is down and heal with no manual step.

A short, bounded probe load (two threads, 127.0.0.1 only, at most ~40 s in all) queries TAP; the
test stops the cluster for a few seconds, starts it again with ``pg_ctlcluster`` (in a ``finally``,
so a failing test never leaves PostgreSQL down), and measures the recovery time: from the
restart to the first good answer, after which every request must succeed. The figures are written
to ``var/reports/faults/postgres_outage.json``.

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

import pytest

from faults.tap_probe import GOOD_QUERY, tap_sync, wait_until_good
from idf_ops.paths import state_dir

pytestmark = pytest.mark.local_stack

PG_CLUSTER = ("15", "main")
DOWN_FOR_S = 6.0
HEAL_BUDGET_S = 60.0
STEADY_AFTER_S = 5.0
GOOD = {"REQUEST": "doQuery", "LANG": "ADQL", "QUERY": GOOD_QUERY}


def pg_ctl(action: str) -> None:
    subprocess.run(["pg_ctlcluster", *PG_CLUSTER, action, *(["-m", "fast"] if action == "stop" else [])],
                   check=True, capture_output=True, timeout=60)


def pg_is_up() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], check=False).returncode == 0


@dataclass
class ProbeLoad:
    """Two threads sending the good query back to back; every answer timestamped."""

    tap_url: str
    samples: list[tuple[float, bool]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            answer = tap_sync(self.tap_url, GOOD, timeout_s=10)
            self.samples.append((started, answer.ok and answer.rows > 0))
            time.sleep(0.2)

    def __enter__(self) -> ProbeLoad:
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(2)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)

    def between(self, start: float, end: float) -> list[bool]:
        return [ok for t, ok in list(self.samples) if start <= t < end]


def _recovery_seconds(tap_url: str) -> float | None:
    try:
        return wait_until_good(tap_url, timeout_s=HEAL_BUDGET_S)
    except AssertionError:
        return None


def test_tap_fails_during_outage_and_recovers(tap_url: str) -> None:
    assert pg_is_up(), "PostgreSQL is not running before the test; run `idf local up`"
    wait_until_good(tap_url, timeout_s=30)
    with ProbeLoad(tap_url) as load:
        time.sleep(2.0)
        stopped_at = time.monotonic()
        try:
            pg_ctl("stop")
            time.sleep(DOWN_FOR_S)
        finally:
            if not pg_is_up():
                pg_ctl("start")
        started_at = time.monotonic()
        recovery_s = _recovery_seconds(tap_url)
        healed_at = time.monotonic()
        if recovery_s is not None:
            time.sleep(STEADY_AFTER_S)
        end = time.monotonic()

    before = load.between(0, stopped_at)
    during = load.between(stopped_at + 1.0, started_at)
    after = load.between(healed_at, end)
    report = {
        "scenario": f"postgresql stopped for {DOWN_FOR_S:.0f} s under a 2-thread TAP probe load",
        "requests_before_ok": f"{sum(before)}/{len(before)}",
        "requests_during_outage_ok": f"{sum(during)}/{len(during)}",
        "recovered": recovery_s is not None,
        "recovery_s_from_restart_to_first_good_answer": None if recovery_s is None else round(recovery_s, 2),
        "outage_total_s": round(healed_at - stopped_at, 2),
        "requests_after_recovery_ok": f"{sum(after)}/{len(after)}",
    }
    (state_dir("reports", "faults") / "postgres_outage.json").write_text(json.dumps(report, indent=2) + "\n")
    assert before and all(before), f"TAP was not healthy before the outage: {report}"
    assert during and not any(during), f"requests succeeded while PostgreSQL was down: {report}"
    assert recovery_s is not None, (
        f"TAP did not recover within {HEAL_BUDGET_S:.0f} s of PostgreSQL's restart without a manual step "
        f"(DaCHS keeps a closed connection pool): {report}. The TAP role must heal it, e.g. a watchdog "
        "that health-checks with a real query and runs `dachs serve restart`."
    )
    assert after and all(after), f"requests failed after recovery (no self-healing): {report}"
