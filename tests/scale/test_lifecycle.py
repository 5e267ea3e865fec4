"""Teardown on failure and on signals, zone fallback, reap, expiry parsing (fake workspace)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from idf_core.errors import BadInput, OperationFailed
from idf_core.paths import REPO_ROOT
from idf_ops.scale.lifecycle import (
    ScaleInterrupted,
    expires_at_from,
    parse_duration,
    reap_expired,
    run_scale_test,
    scale_down,
    scale_up,
)
from scale.fake_workspace import FakeWorkspace, info

NOW = datetime(2026, 12, 15, 12, 0, tzinfo=UTC)
STACK = "qserv-scale75"


def _quiet(message: str) -> None:
    pass


# --- up -------------------------------------------------------------------------------------


def test_up_success_does_not_destroy() -> None:
    ws = FakeWorkspace()
    outputs = scale_up(ws, STACK, on_event=_quiet)
    assert outputs["qserv"]["port"] == 4040
    assert ws.verbs() == ["up"]


def test_up_failure_tears_down_and_reraises() -> None:
    ws = FakeWorkspace(fail_up=True)
    with pytest.raises(RuntimeError, match="quota"):
        scale_up(ws, STACK, on_event=_quiet)
    assert ws.verbs() == ["up", "destroy-start", "destroy"]


def test_stockout_retries_in_fallback_zones() -> None:
    ws = FakeWorkspace(stockouts=1)
    scale_up(ws, STACK, on_event=_quiet)
    assert [c[2]["use_zone_fallbacks"] for c in ws.calls if c[0] == "up"] == [False, True]
    assert "destroy" not in ws.verbs()


def test_stockout_in_fallback_zones_too_tears_down() -> None:
    ws = FakeWorkspace(stockouts=2)
    with pytest.raises(Exception, match="ZONE_RESOURCE_POOL_EXHAUSTED"):
        scale_up(ws, STACK, on_event=_quiet)
    assert ws.verbs() == ["up", "up", "destroy-start", "destroy"]


# --- run: always down -----------------------------------------------------------------------


def test_run_tears_down_after_success() -> None:
    ws = FakeWorkspace()
    assert run_scale_test(ws, STACK, lambda outputs: 0, on_event=_quiet) == 0
    assert ws.verbs() == ["up", "destroy-start", "destroy"]


def test_run_tears_down_when_the_test_fails() -> None:
    ws = FakeWorkspace()

    def body(outputs: dict[str, Any]) -> int:
        raise ValueError("load test crashed")

    with pytest.raises(ValueError, match="crashed"):
        run_scale_test(ws, STACK, body, on_event=_quiet)
    assert ws.verbs() == ["up", "destroy-start", "destroy"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_run_tears_down_on_signal_in_process(signum: int) -> None:
    ws = FakeWorkspace()
    # Whatever was installed before (pytest's default, or a handler another library left behind).
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def body(outputs: dict[str, Any]) -> int:
        os.kill(os.getpid(), signum)  # the handler raises ScaleInterrupted right here
        time.sleep(5)
        return 0

    with pytest.raises(ScaleInterrupted) as caught:
        run_scale_test(ws, STACK, body, on_event=_quiet)
    assert caught.value.signum == signum
    assert ws.verbs() == ["up", "destroy-start", "destroy"]
    # The previous handlers are restored afterwards.
    assert {sig: signal.getsignal(sig) for sig in before} == before


def test_signal_during_up_tears_down() -> None:
    class SignallingUp(FakeWorkspace):
        def up(self, stack: str, *, use_zone_fallbacks: bool, on_event: Any) -> dict[str, Any]:
            self._record("up", stack, {"use_zone_fallbacks": use_zone_fallbacks})
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
            return {}

    ws = SignallingUp()
    with pytest.raises(ScaleInterrupted):
        scale_up(ws, STACK, on_event=_quiet)
    assert ws.verbs() == ["up", "destroy-start", "destroy"]


def test_second_signal_does_not_abort_the_teardown() -> None:
    events: list[str] = []
    ws = FakeWorkspace(signal_during_destroy=signal.SIGINT)

    def body(outputs: dict[str, Any]) -> int:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_scale_test(ws, STACK, body, on_event=events.append)
    assert ws.verbs()[-1] == "destroy"  # the destroy completed despite the SIGINT inside it
    assert any("during teardown" in e for e in events)


def test_failed_teardown_says_what_to_do() -> None:
    ws = FakeWorkspace(fail_destroy=True)
    with pytest.raises(OperationFailed, match="idf scale down --stack qserv-scale75"):
        run_scale_test(ws, STACK, lambda outputs: 0, on_event=_quiet)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_real_signal_to_a_subprocess_tears_down(tmp_path: Path, signum: int) -> None:
    log = tmp_path / "calls.log"
    env = {**os.environ, "PYTHONPATH": f"{REPO_ROOT}:{REPO_ROOT / 'tests'}"}
    child = subprocess.Popen([sys.executable, "-m", "scale.fake_workspace", str(log)], cwd=REPO_ROOT, env=env)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (log.exists() and "body-started" in log.read_text()):
            time.sleep(0.05)
        assert log.exists() and "body-started" in log.read_text(), "the child never started its test body"
        child.send_signal(signum)
        code = child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    lines = log.read_text().splitlines()
    assert code == 130
    assert lines[0].startswith("up qserv-scale75")
    assert "destroy qserv-scale75 None" in lines
    assert f"interrupted {signal.Signals(signum).name}" in lines


# --- down and reap --------------------------------------------------------------------------


def test_down_destroys_then_removes() -> None:
    ws = FakeWorkspace({STACK: info(STACK, temporary=True, expires_at=NOW)})
    scale_down(ws, STACK, on_event=_quiet)
    assert ws.verbs() == ["destroy-start", "destroy", "remove"]


def test_reap_selects_only_expired_temporary_stacks() -> None:
    ws = FakeWorkspace(
        {
            "dp01": info("dp01", temporary=False, expires_at=None),
            "dev": info("dev", temporary=False, expires_at=NOW - timedelta(days=30)),
            "qserv-scale75": info("qserv-scale75", temporary=True, expires_at=NOW - timedelta(minutes=1)),
            "qserv-scale20": info("qserv-scale20", temporary=True, expires_at=NOW + timedelta(hours=3)),
            "qserv-scale-x": info("qserv-scale-x", temporary=True, expires_at=None),
        }
    )
    decisions = {d.stack: d.action for d in reap_expired(ws, NOW, dry_run=False, on_event=_quiet)}
    assert decisions == {
        "dev": "kept",  # not temporary: never reaped, whatever it says
        "dp01": "kept",
        "qserv-scale-x": "needs-attention",
        "qserv-scale20": "kept",
        "qserv-scale75": "destroyed",
    }
    assert [c[1] for c in ws.calls] == ["qserv-scale75"] * 3


def test_reap_dry_run_destroys_nothing() -> None:
    ws = FakeWorkspace({STACK: info(STACK, temporary=True, expires_at=NOW - timedelta(hours=1))})
    decisions = reap_expired(ws, NOW, dry_run=True, on_event=_quiet)
    assert [d.action for d in decisions] == ["would-destroy"]
    assert ws.calls == []


def test_reap_reports_a_failed_destroy() -> None:
    ws = FakeWorkspace({STACK: info(STACK, temporary=True, expires_at=NOW)}, fail_destroy=True)
    decisions = reap_expired(ws, NOW, dry_run=False, on_event=_quiet)
    assert decisions[0].action == "failed"


# --- expiry ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6h", timedelta(hours=6)),
        ("2d", timedelta(days=2)),
        ("1d12h", timedelta(hours=36)),
        ("90m", timedelta(minutes=90)),
        ("7d", timedelta(days=7)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "48", "2w", "-1h", "8d", "30m", "h"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(BadInput, match="--expires-in"):
        parse_duration(text)


def test_expiry_is_required() -> None:
    with pytest.raises(BadInput, match="--expires-in is required"):
        expires_at_from(None, NOW)
    assert expires_at_from("6h", NOW) == datetime(2026, 12, 15, 18, 0, tzinfo=UTC)


def test_run_tears_down_once_when_up_fails() -> None:
    ws = FakeWorkspace(fail_up=True)
    with pytest.raises(RuntimeError, match="quota"):
        run_scale_test(ws, STACK, lambda outputs: 0, on_event=_quiet)
    assert ws.verbs() == ["up", "destroy-start", "destroy"]


def test_run_uses_the_fallback_zones_too() -> None:
    ws = FakeWorkspace(stockouts=1)
    assert run_scale_test(ws, STACK, lambda outputs: 3, on_event=_quiet) == 3
    assert ws.verbs() == ["up", "up", "destroy-start", "destroy"]


def test_reap_carries_on_past_an_unreadable_stack() -> None:
    class Unreadable(FakeWorkspace):
        def info(self, stack: str) -> Any:
            if stack == "broken":
                raise RuntimeError("error: stack config is corrupt")
            return super().info(stack)

    ws = Unreadable(
        {
            "broken": info("broken", temporary=True, expires_at=None),
            STACK: info(STACK, temporary=True, expires_at=NOW - timedelta(hours=1)),
        }
    )
    decisions = {d.stack: d.action for d in reap_expired(ws, NOW, dry_run=False, on_event=_quiet)}
    assert decisions == {"broken": "needs-attention", STACK: "destroyed"}
