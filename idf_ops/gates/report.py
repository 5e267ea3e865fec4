"""The report of one `idf gates check` run: gate results, checkpoint statuses, verdicts, summary.

Owns the status rules (how gate outcomes and attestations make a checkpoint's status, and due
dates its `overdue` flag), the two verdicts (are the automated gates green; is the selection
ready, i.e. gates green and every manual checkpoint attested) and the `gates.json` document every
renderer reads. Nothing here talks to a service.

Statuses partition the checkpoints (each row has exactly one): `pass` / `fail` for automated rows,
`attested` / `unattested` for manual ones. `overdue` is a due-date flag beside the status (not met
and past due as of `today`), counted on its own and never added into the status counts.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from idf_ops.gates.registry import Attestation, Checkpoint
from idf_ops.loadtest.provenance import Provenance, ProvenanceKind

__all__ = [
    "CHECKPOINT_STATUSES",
    "CheckpointResult",
    "CheckpointStatus",
    "GateResult",
    "GateStatus",
    "Report",
    "checkpoint_result",
]

GateStatus = Literal["pass", "fail", "offline"]
CheckpointStatus = Literal["pass", "fail", "attested", "unattested"]
CHECKPOINT_STATUSES: tuple[CheckpointStatus, ...] = ("pass", "fail", "attested", "unattested")

# 2: statuses attested/unattested (overdue is only a flag), verdicts ok/ready, provenance, synthetic data.
REPORT_FORMAT_VERSION = 2


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GateResult(_Model):
    """The outcome of one automated gate."""

    id: str = Field(title="Gate id", description="Gate id within its checkpoint.")
    check: str = Field(title="Check", description="Check function that ran.")
    title: str = Field(title="Title", description="What the gate proves.")
    required: bool = Field(title="Required", description="Counts for the checkpoint and the exit code.")
    status: GateStatus = Field(
        title="Status",
        description="pass; fail (with reason); offline (offline plan: nothing live was checked).",
    )
    reason: str = Field(title="Reason", description="One line: why it passed or failed.")
    evidence: list[str] = Field(
        default_factory=list, title="Evidence", description="What was observed, one fact per line."
    )
    duration_s: float = Field(title="Duration (seconds)", description="Wall time the check took.")
    timeout_s: float = Field(title="Timeout (seconds)", description="Budget of the check.")


class CheckpointResult(_Model):
    """One row of the board: a milestone or timeline entry with its status and evidence."""

    id: str = Field(title="Id", description="Rubin ID or TL- id.")
    kind: Literal["milestone", "timeline"] = Field(title="Kind", description="Table 1 or Table 2.")
    jira_id: str | None = Field(default=None, title="Jira ID", description="PREOPS issue (milestones).")
    title: str = Field(title="Title", description="Title as in the seed.")
    level: int | None = Field(default=None, title="Level", description="Milestone level.")
    team: str = Field(title="Team", description="Responsible team (empty for timeline entries).")
    due: str = Field(title="Due", description="Due date (YYYY-MM-DD), month (YYYY-MM) or 'no date'.")
    status: CheckpointStatus = Field(
        title="Status",
        description="pass/fail (automated: every required gate passed or not); attested/unattested (manual).",
    )
    overdue: bool = Field(
        title="Overdue", description="Due-date flag beside the status: not met and past due as of `today`."
    )
    ready: bool = Field(
        title="Ready", description="Gates pass (automated) or a person's attestation is present (manual)."
    )
    manual_reason: str | None = Field(default=None, title="Why manual", description="For manual rows.")
    attestation: Attestation | None = Field(
        default=None, title="Attestation", description="Latest manual attestation, if any."
    )
    gates: list[GateResult] = Field(default_factory=list, title="Gates", description="Gate results.")


class Summary(_Model):
    """Counts of checkpoint statuses (a partition), the overdue flag, and gate outcomes."""

    checkpoints: dict[str, int] = Field(
        title="Checkpoints by status", description="status -> count; the counts add up to the rows."
    )
    checkpoints_total: int = Field(title="Checkpoints", description="Rows of the board.")
    overdue: int = Field(
        title="Overdue (flag)",
        description="Rows not met and past due; a due-date flag shown beside the counts, not a status.",
    )
    gates_passed: int = Field(title="Gates passed", description="Gates with status pass.")
    gates_total: int = Field(title="Gates run", description="Gates run.")
    required_gates_failed: int = Field(
        title="Required gates not passing", description="Required gates that failed or were offline."
    )


class Report(_Model):
    """Everything `gates.json` holds."""

    format_version: int = Field(
        default=REPORT_FORMAT_VERSION, title="Format version", description="Bumped on breaking change."
    )
    stack: str = Field(title="Stack", description="Stack checked.")
    stack_kind: ProvenanceKind = Field(
        title="Stack kind", description="local, gcp, or scale (a temporary scale-test stack)."
    )
    provenance: Provenance = Field(
        title="Provenance",
        description="Stack, kind, data scale (rows per table) and repository commit of this run.",
    )
    offline_plan: bool = Field(title="Offline plan", description="Outputs come from the mock engine.")
    stand_ins: dict[str, str] = Field(
        title="Stand-ins", description="Service -> what stands in for it on this stack."
    )
    synthetic_data: dict[str, str] = Field(
        default_factory=dict,
        title="Synthetic or partial data",
        description="Data set -> what it is instead of the real one (e.g. generated catalog rows).",
    )
    today: dt.date = Field(title="Today", description="Date statuses are computed for (injectable).")
    generated_at: dt.datetime = Field(title="Generated at", description="UTC time the run finished.")
    wall_time_s: float = Field(title="Wall time (seconds)", description="Time of the whole run.")
    selected: list[str] = Field(title="Selected", description="Checkpoint ids asked for (all if empty).")
    summary: Summary = Field(title="Summary", description="Counts.")
    ok: bool = Field(
        title="Automated gates green",
        description="Every required gate of the selection passed (exit code without --require-attestations).",
    )
    ready: bool = Field(
        title="Ready",
        description="Gates green and every manual checkpoint of the selection attested "
        "(the exit code with --require-attestations).",
    )
    missing_attestations: list[str] = Field(
        title="Missing attestations",
        description="Manual checkpoints of the selection without an attestation.",
    )
    checkpoints: list[CheckpointResult] = Field(title="Checkpoints", description="Rows of the board.")


def _status(
    checkpoint: Checkpoint, gates: list[GateResult], attestation: Attestation | None, today: dt.date
) -> tuple[CheckpointStatus, bool]:
    """Status rules: machines decide automated rows, people manual ones; dates add the `overdue` flag."""
    past_due = checkpoint.due is not None and checkpoint.due < today
    if checkpoint.is_manual:
        if attestation is not None:
            return "attested", False
        return "unattested", past_due
    met = all(gate.status == "pass" for gate in gates if gate.required)
    if met:
        return "pass", False
    return "fail", past_due


def checkpoint_result(
    checkpoint: Checkpoint, gates: list[GateResult], attestation: Attestation | None, today: dt.date
) -> CheckpointResult:
    """Build one board row."""
    status, overdue = _status(checkpoint, gates, attestation, today)
    return CheckpointResult(
        id=checkpoint.id,
        kind=checkpoint.kind,
        jira_id=getattr(checkpoint, "jira_id", None),
        title=checkpoint.title,
        level=getattr(checkpoint, "level", None),
        team=checkpoint.team,
        due=checkpoint.due_label,
        status=status,
        overdue=overdue,
        ready=status in ("pass", "attested"),
        manual_reason=checkpoint.manual_reason,
        attestation=attestation,
        gates=gates,
    )


def summarize(rows: list[CheckpointResult]) -> Summary:
    """Count statuses and gate outcomes."""
    counts: dict[str, int] = dict.fromkeys(CHECKPOINT_STATUSES, 0)
    for row in rows:
        counts[row.status] += 1
    gates = [gate for row in rows for gate in row.gates]
    return Summary(
        checkpoints=counts,
        checkpoints_total=len(rows),
        overdue=sum(row.overdue for row in rows),
        gates_passed=sum(gate.status == "pass" for gate in gates),
        gates_total=len(gates),
        required_gates_failed=sum(gate.required and gate.status != "pass" for gate in gates),
    )
