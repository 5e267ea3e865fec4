"""The health listener's restart policy (issue 16, finding 3) and its process-group cleanup, without
a running stack: a fake supervisord client records restarts, fake probes answer slowly or fail."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from idf_clients.probes import Probe
from idf_clients.supervisor import ProcessInfo
from idf_core.errors import BadInput
from idf_ops.local.supervision import HealthCheck, HealthListener, load_checks


@dataclass
class FakeSupervisor:
    uptime_s: int = 3600
    restarts: list[str] = field(default_factory=list)

    def processes(self) -> list[ProcessInfo]:
        now = int(time.time())
        return [ProcessInfo("idf-tap-1", "RUNNING", 4242, now - self.uptime_s, now, 0, "")]

    def restart(self, name: str) -> None:
        self.restarts.append(name)


def _listener(tmp_path: Path, check: dict[str, object], probe, client: FakeSupervisor) -> HealthListener:
    checks = tmp_path / "checks"
    checks.mkdir(exist_ok=True)
    (checks / "idf-tap-1.json").write_text(json.dumps(check))
    clock = iter(range(1_000, 100_000, 100))  # every tick is 100 s later: always due
    return HealthListener(
        checks,
        tmp_path / "health.json",
        client,
        probe=probe,
        log=io.StringIO(),
        clock=lambda: next(clock),
    )


def _rounds(listener: HealthListener, n: int) -> None:
    for _ in range(n):
        for thread in listener.tick():
            thread.join()


CHECK = {
    "program": "idf-tap-1",
    "probe": "tap",
    "url": "http://x/tap",
    "timeout_s": 1.0,
    "interval_s": 1.0,
    "failures_before_restart": 3,
    "start_grace_s": 10.0,
}


def test_a_slow_but_legitimate_answer_never_restarts(tmp_path: Path) -> None:
    def slow_ok(_check: HealthCheck) -> Probe:
        time.sleep(0.4)  # a long parse, still within the timeout
        return Probe(True, "x", "ADQL answered")

    client = FakeSupervisor()
    listener = _listener(tmp_path, {**CHECK, "failures_before_restart": 1}, slow_ok, client)
    _rounds(listener, 5)
    assert client.restarts == []
    assert listener.states["idf-tap-1"].last_ok is True


def test_an_answer_over_the_timeout_is_a_failure_but_one_is_not_a_restart(tmp_path: Path) -> None:
    def too_slow(check: HealthCheck) -> Probe:
        time.sleep(check.timeout_s + 0.1)
        return Probe(True, "x", "ADQL answered")

    client = FakeSupervisor()
    listener = _listener(tmp_path, {**CHECK, "timeout_s": 0.2}, too_slow, client)
    _rounds(listener, 2)
    assert client.restarts == [] and listener.states["idf-tap-1"].consecutive_failures == 2
    _rounds(listener, 1)
    assert client.restarts == ["idf-tap-1"]
    saved = json.loads((tmp_path / "health.json").read_text())["idf-tap-1"]
    assert saved["health_restarts"] == 1 and "over the" in saved["last_restart_reason"]


def test_only_consecutive_failures_count(tmp_path: Path) -> None:
    answers = iter([False, False, True, False, False, True, False, False, False])

    def flaky(_check: HealthCheck) -> Probe:
        return Probe(next(answers), "x", "answer")

    client = FakeSupervisor()
    listener = _listener(tmp_path, CHECK, flaky, client)
    _rounds(listener, 6)
    assert client.restarts == []
    _rounds(listener, 3)
    assert client.restarts == ["idf-tap-1"]


def test_a_program_in_its_start_grace_is_not_probed(tmp_path: Path) -> None:
    probed: list[str] = []

    def record(check: HealthCheck) -> Probe:
        probed.append(check.program)
        return Probe(False, "x", "down")

    client = FakeSupervisor(uptime_s=3)
    listener = _listener(tmp_path, {**CHECK, "failures_before_restart": 1}, record, client)
    _rounds(listener, 3)
    assert probed == [] and client.restarts == []


def test_the_counters_survive_a_listener_restart(tmp_path: Path) -> None:
    client = FakeSupervisor()
    first = _listener(tmp_path, CHECK, lambda _c: Probe(False, "x", "down"), client)
    _rounds(first, 3)
    second = _listener(tmp_path, CHECK, lambda _c: Probe(True, "x", "up"), client)
    assert second.states["idf-tap-1"].health_restarts == 1


def test_an_unknown_key_in_a_check_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "idf-x.json").write_text(json.dumps({**CHECK, "retries": 2}))
    with pytest.raises(BadInput, match=r"idf-x\.json"):
        load_checks(tmp_path)


def test_leftovers_of_an_exited_main_process_are_ended(tmp_path: Path) -> None:
    # A group leader with a child (as supervisord starts programs); the leader dies, the child stays.
    leader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, time; subprocess.Popen(['sleep', '300']); time.sleep(300)",
        ],
        start_new_session=True,
    )
    time.sleep(0.5)
    os.kill(leader.pid, signal.SIGKILL)
    leader.wait()
    leftovers = subprocess.run(["pgrep", "-g", str(leader.pid)], capture_output=True, text=True, check=False)
    assert leftovers.stdout.split(), "the child should have outlived its leader"

    listener = _listener(tmp_path, CHECK, lambda _c: Probe(True, "x", "up"), FakeSupervisor())
    listener.process_exited("idf-tap-1", leader.pid)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if subprocess.run(["pgrep", "-g", str(leader.pid)], capture_output=True, check=False).returncode:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the leftover child is still running")
    assert listener.states["idf-tap-1"].exits == 1
