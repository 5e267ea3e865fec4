"""Table 2 scale tests: the newest load-test summary of a profile passed its SLOs and is recent."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from idf_ops.gates.checks.base import Budget, CheckContext, CheckFailedError, Outcome, check

if TYPE_CHECKING:
    from idf_ops.gates.registry import Gate

__all__ = ["check_loadtest_summary"]


class _SummaryView(BaseModel):
    """The fields of a load-test `summary.json` (schema_version 1, loadtests/README.md) a gate reads.

    A reader of another tool's document: fields the gate does not use are ignored (extra="ignore"),
    so the load-test tool may add some without breaking the gates; a missing or mistyped field the
    gate needs, or another schema version, is an invalid summary.
    """

    model_config = ConfigDict(extra="ignore")

    class _Check(BaseModel):
        model_config = ConfigDict(extra="ignore")
        kind: str
        metric: str
        threshold: float
        actual: float
        verdict: Literal["pass", "fail"]

    class _Slo(BaseModel):
        model_config = ConfigDict(extra="ignore")
        kind: str
        verdict: Literal["pass", "fail"]
        checks: list[_SummaryView._Check]

    schema_version: Literal[1]
    profile: str
    stack: str
    finished_at: dt.datetime
    duration_s: float
    users: int
    verdict: Literal["pass", "fail"]
    slos: list[_Slo]


@check(id="loadtest-summary", live=False, stack_kinds={"local", "gcp"}, timeout_s=10, gate="loadtest")
def check_loadtest_summary(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """The newest load-test summary of the profile passed every SLO and is recent enough.

    Summaries follow the documented contract (loadtests/README.md, schema_version 1); a file that
    does not validate against :class:`_SummaryView` fails the gate.
    """
    from idf_ops.gates.registry import LoadtestGate  # noqa: PLC0415 (the registry imports the checks)

    assert isinstance(gate, LoadtestGate)
    profile_dir = ctx.loadtests_dir / gate.profile
    paths = sorted(profile_dir.glob("*/summary.json"))
    if not paths:
        how = f"`idf loadtest run {gate.profile} --stack {ctx.outputs.stack}`"
        if ctx.outputs.kind == "gcp":  # the run happens on GKE; its reports are collected afterwards
            how += (f" (renders the GKE job), then `idf loadtest collect {gate.profile} --stack "
                    f"{ctx.outputs.stack} --from <reports copied from the master pod>`")
        raise CheckFailedError(
            f"no load-test summary for profile {gate.profile} under {profile_dir}; run {how}"
        )
    summaries = []
    for path in paths:
        try:
            summaries.append((_SummaryView.model_validate_json(path.read_text()), path))
        except (OSError, ValidationError) as exc:
            first = " ".join(str(exc).split())[:200]
            raise CheckFailedError(f"{path}: not a valid load-test summary ({first})") from exc
    summary, path = max(summaries, key=lambda item: item[0].finished_at)
    finished = summary.finished_at
    if finished.tzinfo is None:
        finished = finished.replace(tzinfo=dt.UTC)
    max_age_h = ctx.max_loadtest_age_hours or gate.max_age_hours
    age_h = (ctx.now - finished).total_seconds() / 3600
    evidence = [
        f"{path}",
        f"finished {finished.isoformat()} ({age_h:.1f} h before this run; limit {max_age_h:g} h), "
        f"{summary.users} users, {summary.duration_s:.0f} s",
    ]
    if summary.profile != gate.profile:
        raise CheckFailedError(f"{path}: profile {summary.profile!r}, expected {gate.profile!r}", evidence)
    if summary.stack != ctx.outputs.stack:
        raise CheckFailedError(f"{path}: stack {summary.stack!r}, expected {ctx.outputs.stack!r}", evidence)
    for slo in summary.slos:
        breaches = ", ".join(
            f"{c.metric} {c.actual:g} vs {c.threshold:g} ({c.kind})"
            for c in slo.checks
            if c.verdict != "pass"
        )
        evidence.append(f"SLO {slo.kind}: {slo.verdict}" + (f" — {breaches}" if breaches else ""))
    if age_h > max_age_h:
        raise CheckFailedError(
            f"newest {gate.profile} summary is {age_h:.1f} h old (limit {max_age_h:g} h): run it again",
            evidence,
        )
    if not summary.slos:
        raise CheckFailedError(f"{path}: lists no SLO verdicts", evidence)
    failed = [slo.kind for slo in summary.slos if slo.verdict != "pass"]
    if failed or summary.verdict != "pass":
        raise CheckFailedError(
            f"load test {gate.profile} failed SLOs: {', '.join(failed) or summary.verdict}", evidence
        )
    return Outcome(f"{gate.profile}: all {len(summary.slos)} SLOs held", evidence)
