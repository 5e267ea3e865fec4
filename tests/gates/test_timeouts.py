"""Unreachable or silent services fail with their reason within each gate's timeout: no hang."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from idf_core.contract import StackOutputs
from idf_ops.gates.registry import PlainGate
from idf_ops.gates.report import GateResult
from idf_ops.gates.runner import CheckContext, Outcome, run_gates
from idf_ops.gates.service import check_gates

from .conftest import LIVE_CHECKPOINTS, local_outputs, registry_with_timeouts, write_outputs

TIMEOUT_S = 1.5
GRACE_S = 1.0  # runner grace (0.5 s) + scheduling on a busy 2-core machine


def _run(state: Path, tmp_path: Path, port: int) -> tuple[float, list[tuple[str, GateResult]]]:
    write_outputs(state, local_outputs("deadstack", port, tmp_path))
    registry = registry_with_timeouts(tmp_path, TIMEOUT_S)
    started = time.monotonic()
    report = check_gates("deadstack", LIVE_CHECKPOINTS, today=dt.date(2021, 1, 1), registry_path=registry)
    wall = time.monotonic() - started
    gates = [(row.id, gate) for row in report.checkpoints for gate in row.gates]
    assert not report.ok
    return wall, gates


def test_silent_service_fails_within_timeouts(state_dir: Path, tmp_path: Path, silent_port: int) -> None:
    wall, gates = _run(state_dir, tmp_path, silent_port)
    # All gates run concurrently: the whole run is bounded by one budget, not the sum.
    assert wall < TIMEOUT_S + GRACE_S + 3.0, f"run took {wall:.1f} s"
    for checkpoint_id, gate in gates:
        if gate.check in ("outputs-present", "compute-ready"):
            # The document is complete and the silent port does accept TCP connections.
            assert gate.status == "pass", (gate.id, gate.reason)
            continue
        assert gate.status == "fail", (checkpoint_id, gate.id, gate.reason)
        assert gate.duration_s <= TIMEOUT_S + GRACE_S, (checkpoint_id, gate.id, gate.duration_s)
        assert gate.reason, (checkpoint_id, gate.id)
    by_check = {gate.check: gate for _, gate in gates}
    for check in ("tap-availability", "tap-query", "hub-api", "qserv-frontend", "database-reachable"):
        assert re.search("timed out|timeout expired", by_check[check].reason), (check, by_check[check].reason)


def test_closed_port_fails_fast_with_refused(state_dir: Path, tmp_path: Path, closed_port: int) -> None:
    wall, gates = _run(state_dir, tmp_path, closed_port)
    assert wall < TIMEOUT_S + GRACE_S + 3.0
    by_check = {gate.check: gate for _, gate in gates}
    assert by_check["compute-ready"].status == "fail"
    assert "local services down: tap, hub, qserv, postgresql" in by_check["compute-ready"].reason
    for check in ("tap-availability", "tap-capabilities", "tap-query", "tap-schema-complete", "butler-read"):
        assert "connection refused" in by_check[check].reason, (check, by_check[check].reason)
    assert "Connection refused" in by_check["database-reachable"].reason
    assert "Connection refused" in by_check["qserv-frontend"].reason
    assert "not reachable" in by_check["hub-api"].reason


def test_runner_abandons_a_check_that_ignores_its_budget(tmp_path: Path) -> None:
    """A check stuck in a call without timeout is reported FAIL at its deadline, not waited for."""
    outputs = StackOutputs.model_validate(local_outputs("x", 1, tmp_path))
    ctx = CheckContext(outputs=outputs, now=dt.datetime.now(dt.UTC), loadtests_dir=tmp_path)
    stuck = PlainGate(id="stuck", check="hub-api", title="a stuck check", timeout_s=0.5)
    quick = PlainGate(id="quick", check="hub-api", title="a quick check", timeout_s=5)

    def resolve(gate: PlainGate) -> Callable[..., Outcome]:
        def check(*_: object) -> Outcome:
            if gate.id == "stuck":
                time.sleep(30)
            return Outcome("answered")

        return check

    started = time.monotonic()
    results = run_gates([("A", stuck), ("A", quick)], ctx, resolve)  # type: ignore[arg-type]
    assert time.monotonic() - started < 2.0
    assert results[("A", "stuck")].status == "fail"
    assert "timed out after 0.5 s" in results[("A", "stuck")].reason
    assert results[("A", "quick")].status == "pass"


def test_exception_in_check_is_a_fail_not_a_traceback(tmp_path: Path) -> None:
    outputs = StackOutputs.model_validate(local_outputs("x", 1, tmp_path))
    ctx = CheckContext(outputs=outputs, now=dt.datetime.now(dt.UTC), loadtests_dir=tmp_path)
    gate = PlainGate(id="boom", check="hub-api", title="a broken check", timeout_s=2)

    def boom(*_: object) -> Outcome:
        raise ZeroDivisionError("division by zero")

    results = run_gates([("A", gate)], ctx, lambda _: boom)
    assert results[("A", "boom")].status == "fail"
    assert results[("A", "boom")].reason == "ZeroDivisionError: division by zero"


@pytest.mark.parametrize("late_s", [0.3])
def test_answer_after_budget_does_not_pass(tmp_path: Path, late_s: float) -> None:
    outputs = StackOutputs.model_validate(local_outputs("x", 1, tmp_path))
    ctx = CheckContext(outputs=outputs, now=dt.datetime.now(dt.UTC), loadtests_dir=tmp_path)
    gate = PlainGate(id="late", check="hub-api", title="a late check", timeout_s=0.2)

    def late(*_: object) -> Outcome:
        time.sleep(late_s)
        return Outcome("answered")

    results = run_gates([("A", gate)], ctx, lambda _: late)
    assert results[("A", "late")].status == "fail"
