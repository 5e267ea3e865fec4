"""Table 2 scale tests: the newest load-test summary of a profile passed its SLOs and is recent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from idf_core.facts import SCALE_STACK_PREFIX, is_scale_stack
from idf_ops.gates.checks.base import Budget, CheckContext, CheckFailedError, Outcome, check

if TYPE_CHECKING:
    from idf_ops.gates.registry import Gate, LoadtestGate

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

    class _DataScale(BaseModel):
        model_config = ConfigDict(extra="ignore")
        source: str
        detail: str
        rows_per_table: dict[str, int]

    class _Provenance(BaseModel):
        model_config = ConfigDict(extra="ignore")
        stack: str
        stack_kind: Literal["local", "gcp", "scale"]
        data_scale: _SummaryView._DataScale
        repository_commit: str | None
        profile_sha256: str | None

    schema_version: Literal[1]
    profile: str
    stack: str
    finished_at: dt.datetime
    duration_s: float
    users: int
    verdict: Literal["pass", "fail"]
    slos: list[_Slo]
    provenance: _Provenance | None = None


def _provenance_line(summary: _SummaryView) -> str:
    prov = summary.provenance
    if prov is None:
        return "provenance: none recorded (summary written before provenance was recorded)"
    scale = prov.data_scale
    rows = ", ".join(f"{table} {n:,}" for table, n in sorted(scale.rows_per_table.items())) or "no rows known"
    commit = (prov.repository_commit or "unknown")[:12]
    profile_hash = (prov.profile_sha256 or "unknown")[:12]
    return (
        f"provenance: stack {prov.stack} ({prov.stack_kind}); data scale from {scale.source} "
        f"({scale.detail}): {rows}; commit {commit}; profile sha256 {profile_hash}"
    )


def _scale_refusal(summary: _SummaryView, percent: float) -> str | None:
    """Why this summary cannot prove a scale test at `percent` of DR1, or None when it can."""
    prov = summary.provenance
    if prov is None:
        return "it records no provenance (stack kind, data scale); run the profile again with this version"
    if prov.stack_kind != "scale":
        return (
            f"it ran on stack {prov.stack!r} of kind {prov.stack_kind}, not on a scale-test stack "
            f"(idf scale up; stack names start with {SCALE_STACK_PREFIX!r})"
        )
    rows = {table.lower(): n for table, n in prov.data_scale.rows_per_table.items()}
    short = []
    for table, needed in _needed_rows(rows, percent).items():
        have = rows.get(table.lower())
        if have is None or have < needed:
            have_text = "no rows recorded" if have is None else f"{have:,} rows"
            short.append(f"{table} {have_text} < {needed:,.0f} needed")
    if short:
        return (
            f"its data scale ({prov.data_scale.source}) is below {percent:g}% of DR1 "
            f"(idf_ops/scale/sizing.py): {'; '.join(short)}"
        )
    if prov.data_scale.source not in COUNTED_SOURCES:
        return (
            f"its rows come from {prov.data_scale.source} ({prov.data_scale.detail}): planned, not counted; "
            "load the catalog with the ingest step (`idf scale run --ingest-from DIR`), which records the "
            "rows it loaded, and run the profile again"
        )
    return None


#: Data-scale sources whose rows were counted, not planned (idf_ops/loadtest/provenance.py).
COUNTED_SOURCES = frozenset({"ingest-record", "load-manifest"})


def _needed_rows(rows: dict[str, int], percent: float) -> dict[str, float]:
    """Rows each table must hold: the scale catalog's dp01 tables when the record names them
    (forced_photometry & co. at DR1's Object count, idf_ops/scale/sizing.py), else DR1's tables.
    truth_match is not gated: its size follows the seed's truth-per-object ratio."""
    from idf_ops.scale.sizing import (  # noqa: PLC0415 (sphgeom: only scale gates)
        DR1_ROWS_PER_TABLE,
        SCALE_CATALOG_ROWS_PER_OBJECT,
    )

    fraction = percent / 100
    if "forced_photometry" in rows:
        objects = DR1_ROWS_PER_TABLE["Object"] * fraction
        return {
            table: objects * per_object
            for table, per_object in SCALE_CATALOG_ROWS_PER_OBJECT.items()
            if table != "truth_match"
        }
    return {table: dr1 * fraction for table, dr1 in DR1_ROWS_PER_TABLE.items()}


def _read_summaries(ctx: CheckContext, gate: LoadtestGate) -> list[tuple[_SummaryView, Path]]:
    """Every summary of the gate's profile on this stack; CheckFailedError when none or one is invalid."""
    profile_dir = ctx.loadtests_dir / gate.profile
    paths = sorted(profile_dir.glob("*/summary.json"))
    if not paths:
        how = f"`idf loadtest run {gate.profile} --stack {ctx.outputs.stack}`"
        if ctx.outputs.kind == "gcp":  # the run happens on GKE; its reports are collected afterwards
            how += (
                f" (renders the GKE job), then `idf loadtest collect {gate.profile} --stack "
                f"{ctx.outputs.stack} --from <reports copied from the master pod>`"
            )
        if gate.min_percent_of_dr1 is not None and not is_scale_stack(ctx.outputs.stack):
            how = (
                f"it on a scale-test stack: this checkpoint accepts only a {SCALE_STACK_PREFIX}* stack "
                f"holding >= {gate.min_percent_of_dr1:g}% of DR1 (`idf scale up`, then `idf loadtest run "
                f"{gate.profile} --stack <scale stack>`; runbooks/qserv-scale-test.md)"
            )
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
    return summaries


@check(id="loadtest-summary", live=False, stack_kinds={"local", "gcp"}, timeout_s=10, gate="loadtest")
def check_loadtest_summary(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """The newest load-test summary of the profile passed every SLO and is recent enough.

    With the gate's `min_percent_of_dr1` set (scale tests), the summary must also record a
    provenance from a scale-kind stack whose data scale meets that percent of DR1 in every table of
    the sizing model; otherwise the gate fails and its reason says why the summary was refused.

    Summaries follow the documented contract (loadtests/README.md, schema_version 1); a file that
    does not validate against :class:`_SummaryView` fails the gate.
    """
    from idf_ops.gates.registry import LoadtestGate  # noqa: PLC0415 (the registry imports the checks)

    if not isinstance(gate, LoadtestGate):  # the record's gate_type guarantees it
        raise TypeError(f"{gate!r} is not a LoadtestGate")
    summaries = _read_summaries(ctx, gate)
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
    evidence.append(_provenance_line(summary))
    if gate.min_percent_of_dr1 is not None:
        refusal = _scale_refusal(summary, gate.min_percent_of_dr1)
        if refusal:
            raise CheckFailedError(
                f"{path}: refused for the {gate.min_percent_of_dr1:g}% of DR1 checkpoint: {refusal}", evidence
            )
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
