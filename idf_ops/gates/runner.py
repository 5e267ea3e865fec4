"""Run gates concurrently, each within its own timeout, and never let one hang the run.

:func:`resolve_check` decides from a check's record (:class:`~idf_ops.gates.checks.CheckSpec`)
what runs for a gate on this stack: nothing live on an offline plan (status offline), a refusal on
a stack kind the check does not declare (status fail, the reason says why), otherwise the
check itself once its client libraries are loaded.

Every gate runs in its own daemon thread. Checks pass their remaining budget to the client
libraries (connect and read timeouts), and the runner also stops waiting at the gate's deadline:
a check that has not answered by then is reported FAIL "timed out" and its thread is abandoned
(daemon threads do not keep the process alive). Any exception becomes FAIL with a one-line reason.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from idf_ops.gates.checks.base import (
    Budget,
    CheckContext,
    CheckFailedError,
    CheckFunction,
    CheckSpec,
    Outcome,
    import_within,
)
from idf_ops.gates.report import GateResult

if TYPE_CHECKING:
    from idf_ops.gates.registry import Gate

__all__ = [
    "Budget",
    "CheckContext",
    "CheckFailedError",
    "Outcome",
    "resolve_check",
    "run_gates",
]

# Extra time the runner waits past a gate's budget before declaring it hung: checks enforce
# their own budget through client timeouts, this margin only absorbs thread scheduling.
_GRACE_S = 0.5


def _offline(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    return Outcome(
        "offline plan only: the outputs are mock values, nothing live was checked",
        [f"stack {ctx.outputs.stack} outputs have offline_plan: true (from `idf plan`)"],
        status="offline",
    )


def _refused(reason: str) -> CheckFunction:
    def refuse(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
        raise CheckFailedError(reason)

    return refuse


def _with_imports(check: CheckFunction, modules: tuple[str, ...]) -> CheckFunction:
    def run(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
        import_within(modules, budget)
        return check(ctx, gate, budget)

    return run


def resolve_check(spec: CheckSpec, ctx: CheckContext) -> CheckFunction:
    """What runs for a gate of check `spec` on this stack (see the module docstring)."""
    outputs = ctx.outputs
    if outputs.offline_plan and spec.live:
        return _offline
    if outputs.kind not in spec.stack_kinds:
        kinds = ", ".join(sorted(spec.stack_kinds))
        return _refused(f"check {spec.id} runs only on {kinds} stacks, not on this {outputs.kind} stack")
    return _with_imports(spec.function, spec.requires)


def _one_line(text: str) -> str:
    first = " ".join(str(text).split())
    return first[:400] + ("…" if len(first) > 400 else "")


def _run_one(
    check: CheckFunction, ctx: CheckContext, gate: Gate, budget: Budget, sink: dict[str, GateResult]
) -> None:
    started = time.monotonic()
    try:
        outcome = check(ctx, gate, budget)
        status, reason, evidence = outcome.status, outcome.reason, outcome.evidence
    except CheckFailedError as exc:
        status, reason, evidence = "fail", exc.reason, exc.evidence
    except Exception as exc:  # noqa: BLE001 -- a check's bug or a client error: still a FAIL, never a traceback
        status, reason, evidence = "fail", f"{type(exc).__name__}: {exc}", []
    if budget.expired() and status == "pass":
        # An answer that arrived after the budget does not count: the gate is about answering in time.
        status, reason = "fail", f"answered after its {gate.timeout_s:g} s budget ({reason})"
    sink["result"] = GateResult(
        id=gate.id,
        check=gate.check,
        title=gate.title,
        required=gate.required,
        status=status,  # type: ignore[arg-type]
        reason=_one_line(reason),
        evidence=[_one_line(line) for line in evidence],
        duration_s=round(time.monotonic() - started, 3),
        timeout_s=gate.timeout_s,
    )


def run_gates(
    jobs: list[tuple[str, Gate]],
    ctx: CheckContext,
    resolve: Callable[[Gate], CheckFunction],
    on_done: Callable[[str, GateResult], None] | None = None,
) -> dict[tuple[str, str], GateResult]:
    """Run (checkpoint id, gate) jobs concurrently; return (checkpoint id, gate id) -> result."""
    started = time.monotonic()
    running = []
    for checkpoint_id, gate in jobs:
        budget = Budget(deadline=started + gate.timeout_s)
        sink: dict[str, GateResult] = {}
        thread = threading.Thread(
            target=_run_one,
            args=(resolve(gate), ctx, gate, budget, sink),
            name=f"gate {checkpoint_id}/{gate.id}",
            daemon=True,
        )
        thread.start()
        running.append((checkpoint_id, gate, budget, thread, sink))

    results: dict[tuple[str, str], GateResult] = {}
    pending = list(running)
    while pending:
        # Wait on whichever gate ends first (by deadline); report gates as they finish.
        pending.sort(key=lambda item: item[2].deadline)
        still = []
        for checkpoint_id, gate, budget, thread, sink in pending:
            thread.join(timeout=0.02)
            if "result" in sink:
                result = sink["result"]
            elif time.monotonic() > budget.deadline + _GRACE_S:
                result = GateResult(
                    id=gate.id,
                    check=gate.check,
                    title=gate.title,
                    required=gate.required,
                    status="fail",
                    reason=f"timed out after {gate.timeout_s:g} s: no answer within the gate's budget",
                    evidence=[],
                    duration_s=round(time.monotonic() - started, 3),
                    timeout_s=gate.timeout_s,
                )
            else:
                still.append((checkpoint_id, gate, budget, thread, sink))
                continue
            results[(checkpoint_id, gate.id)] = result
            if on_done is not None:
                on_done(checkpoint_id, result)
        pending = still
    return results
