"""The milestone registry: typed models of `milestones/registry.yaml` and `attestations.yaml`.

Owns the shape of a milestone (seed Table 1), of an internal-timeline entry (seed Table 2), of
the gates (automated checks, each with its own timeout) a checkpoint lists, and of the manual
attestations people sign for checkpoints without machine checks. Loading parses YAML at the edge
and turns every problem into a :class:`~idf_core.errors.BadInput` naming file, key and fix.

The check ids a gate may name are not listed here: they are the ids of the checks declared in
:mod:`idf_ops.gates.checks` (each with its record), split by the gate model that carries their
parameters; a gate's `timeout_s` may not exceed its check's declared `timeout_s`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, model_validator
from pydantic_core import ErrorDetails

from idf_core.errors import BadInput
from idf_core.paths import REPO_ROOT
from idf_ops.gates.checks import CHECKS
from idf_ops.gates.checks.base import MAX_TIMEOUT_S, GateShape

__all__ = [
    "ATTESTATIONS_PATH",
    "REGISTRY_PATH",
    "Attestation",
    "AttestationFile",
    "Checkpoint",
    "Gate",
    "LoadtestGate",
    "Milestone",
    "PlainGate",
    "Registry",
    "TableGate",
    "TimelineEntry",
    "export_schemas",
    "load_attestations",
    "load_registry",
]

MILESTONES_DIR = REPO_ROOT / "milestones"
REGISTRY_PATH = MILESTONES_DIR / "registry.yaml"
ATTESTATIONS_PATH = MILESTONES_DIR / "attestations.yaml"

DP01_TABLES = ("position", "reference", "forced_photometry", "object", "truth_match")


def _check_ids(shape: GateShape) -> tuple[str, ...]:
    """Ids of the declared checks whose gates have this shape, in declaration order."""
    ids = tuple(spec.id for spec in CHECKS.values() if spec.gate == shape)
    if not ids:
        raise RuntimeError(f"no check declares gate={shape!r}: remove its gate model or declare one")
    return ids


if TYPE_CHECKING:  # the type checker sees plain strings; pydantic sees the declared ids
    PlainCheckId = str
    TableCheckId = str
    LoadtestCheckId = str
else:
    PlainCheckId = Literal[_check_ids("plain")]
    TableCheckId = Literal[_check_ids("table")]
    LoadtestCheckId = Literal[_check_ids("loadtest")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _GateBase(_Model):
    id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        title="Gate id",
        description="Identifier of the gate, unique within its checkpoint (JUnit test case name).",
    )
    title: str = Field(min_length=5, title="Title", description="What the gate proves, in one line.")
    timeout_s: float = Field(
        gt=0, le=MAX_TIMEOUT_S, title="Timeout (seconds)", description="Wall-clock budget of this check."
    )
    required: bool = Field(
        default=True,
        title="Required",
        description="Whether the checkpoint (and the exit code) needs this gate to pass.",
    )
    check: str

    @model_validator(mode="after")
    def _within_the_check_timeout(self) -> _GateBase:
        ceiling = CHECKS[self.check].timeout_s
        if self.timeout_s > ceiling:
            raise ValueError(
                f"timeout_s {self.timeout_s:g} exceeds the {ceiling:g} s that check {self.check} allows "
                f"(its record in {CHECKS[self.check].function.__module__}): lower the gate's timeout_s"
            )
        return self


class PlainGate(_GateBase):
    """A check that needs nothing but the stack outputs."""

    check: PlainCheckId = Field(
        title="Check", description="Name of the check function (idf_ops.gates.checks)."
    )


class TableGate(_GateBase):
    """A check about one DP0.1 catalog table."""

    check: TableCheckId = Field(
        title="Check", description="Name of the check function (idf_ops.gates.checks)."
    )
    table: Literal["position", "reference", "forced_photometry", "object", "truth_match"] = Field(
        title="Table", description="DP0.1 table of schema dp01_dc2_catalogs."
    )


class LoadtestGate(_GateBase):
    """A check that the latest load-test summary of a profile passed and is recent."""

    check: LoadtestCheckId = Field(title="Check", description="Load-test summary check.")
    profile: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        title="Load-test profile",
        description="Profile name under var/loadtests/<stack>/<profile>/.",
    )
    max_age_hours: float = Field(
        gt=0,
        title="Maximum age (hours)",
        description="A summary finished longer ago than this does not count (overridable on the CLI).",
    )
    min_percent_of_dr1: float | None = Field(
        default=None,
        gt=0,
        le=100,
        title="Minimum percent of DR1",
        description="Scale tests: the summary must come from a scale-kind stack whose recorded data scale "
        "holds at least this percent of DR1's rows in every table of the sizing model "
        "(idf_ops/scale/sizing.py DR1_ROWS_PER_TABLE); null: any stack kind and data scale.",
    )


Gate = Annotated[PlainGate | TableGate | LoadtestGate, Field(discriminator="check")]


class _CheckpointBase(_Model):
    gates: list[Gate] = Field(
        default_factory=list,
        title="Gates",
        description="Automated checks; empty for a manual checkpoint.",
    )
    manual_reason: str | None = Field(
        default=None,
        title="Why manual",
        description="Why no machine can check this; required exactly when there are no gates.",
    )

    @model_validator(mode="after")
    def _gates_or_manual(self) -> _CheckpointBase:
        if not self.gates and not self.manual_reason:
            raise ValueError("lists no gates: add gates, or `manual_reason` to make it a manual checkpoint")
        if self.gates and self.manual_reason:
            raise ValueError("has gates and `manual_reason`: a checkpoint is automated or manual, not both")
        gate_ids = [gate.id for gate in self.gates]
        duplicates = sorted({gid for gid in gate_ids if gate_ids.count(gid) > 1})
        if duplicates:
            raise ValueError(f"duplicate gate ids {duplicates}")
        return self

    @property
    def is_manual(self) -> bool:
        """A checkpoint without gates is attested by a person."""
        return not self.gates


class Milestone(_CheckpointBase):
    """One row of the seed's Table 1 (FY21 milestones)."""

    kind: Literal["milestone"] = Field(default="milestone", title="Kind", description="Table 1 milestone.")
    id: str = Field(pattern=r"^L[23]-[A-Z]{2}-[0-9]{4}$", title="Rubin ID", description="Rubin milestone ID.")
    jira_id: str = Field(pattern=r"^PREOPS-[0-9]+$", title="Jira ID", description="PREOPS Jira issue.")
    title: str = Field(min_length=5, title="Title", description="Milestone title as in the seed.")
    due_date: dt.date = Field(title="Due date", description="Date the milestone is due.")
    level: Literal[2, 3] = Field(title="Level", description="Milestone level (2 or 3).")
    team: str = Field(min_length=3, title="Team", description="Responsible team.")

    @property
    def due(self) -> dt.date | None:
        """Due date used for overdue status."""
        return self.due_date

    @property
    def due_label(self) -> str:
        """Due date as shown on the board."""
        return self.due_date.isoformat()


class TimelineEntry(_CheckpointBase):
    """One row of the seed's Table 2 (internal timeline, dates as months)."""

    kind: Literal["timeline"] = Field(
        default="timeline", title="Kind", description="Table 2 internal-timeline entry."
    )
    id: str = Field(
        pattern=r"^TL-[A-Z0-9-]+$", title="Timeline id", description="Identifier (TL-...) of the entry."
    )
    month: str | None = Field(
        pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$",
        title="Month",
        description="Month (YYYY-MM) of the entry; null where the seed gives none.",
    )
    title: str = Field(min_length=5, title="Description", description="Description as in the seed.")
    reference: str | None = Field(
        default=None,
        title="Reference",
        description="Section of the seed or Rubin ID of the related milestone.",
    )

    @property
    def due(self) -> dt.date | None:
        """Last day of the month; None when the seed gives no date."""
        if self.month is None:
            return None
        year, month = (int(part) for part in self.month.split("-"))
        return dt.date(year, month, calendar.monthrange(year, month)[1])

    @property
    def due_label(self) -> str:
        """Month as shown on the board."""
        return self.month or "no date"

    @property
    def team(self) -> str:
        """Table 2 names no team."""
        return ""


Checkpoint = Milestone | TimelineEntry


class Registry(_Model):
    """The whole registry file."""

    source: str = Field(title="Source", description="Document the rows were taken from.")
    milestones: list[Milestone] = Field(title="Milestones", description="Table 1 rows.")
    timeline: list[TimelineEntry] = Field(title="Internal timeline", description="Table 2 rows.")

    @model_validator(mode="after")
    def _unique_and_resolved(self) -> Registry:
        ids = [item.id for item in self.checkpoints]
        duplicates = sorted({cid for cid in ids if ids.count(cid) > 1})
        if duplicates:
            raise ValueError(f"duplicate checkpoint ids {duplicates}")
        jira = [m.jira_id for m in self.milestones]
        duplicates = sorted({j for j in jira if jira.count(j) > 1})
        if duplicates:
            raise ValueError(f"duplicate Jira ids {duplicates}")
        milestone_ids = {m.id for m in self.milestones}
        for entry in self.timeline:
            ref = entry.reference
            if ref and ref.startswith("L") and ref not in milestone_ids:
                raise ValueError(f"timeline entry {entry.id} references unknown milestone {ref}")
        return self

    @property
    def checkpoints(self) -> list[Checkpoint]:
        """Milestones then timeline entries, in registry order."""
        return [*self.milestones, *self.timeline]

    def get(self, checkpoint_id: str) -> Checkpoint | None:
        """The checkpoint with this id (case-insensitive), or None."""
        wanted = checkpoint_id.upper()
        return next((c for c in self.checkpoints if c.id.upper() == wanted), None)


class Attestation(_Model):
    """A person's signed statement that a manual checkpoint is met."""

    checkpoint: str = Field(
        title="Checkpoint", description="Rubin ID (L3-CE-0020) or timeline id (TL-...) attested."
    )
    attested_by: str = Field(min_length=3, title="Attested by", description="Who attests (name, role).")
    attested_on: dt.date = Field(title="Attested on", description="Date of the attestation.")
    evidence_url: HttpUrl = Field(
        title="Evidence link", description="Where the evidence lives (Jira, document, announcement)."
    )
    repository_commit: str = Field(
        pattern=r"^[0-9a-f]{40}$",
        title="Repository commit",
        description="Commit of this repository at signing (`idf gates attest` records it).",
    )
    note: str | None = Field(default=None, title="Note", description="Optional remark.")


class AttestationFile(_Model):
    """The attestations file."""

    attestations: list[Attestation] = Field(
        default_factory=list, title="Attestations", description="Manual attestations, newest last."
    )


def _read_yaml(path: Path) -> object:
    if not path.exists():
        raise BadInput(f"{path}: file not found; pass an existing file or restore it from git.")
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise BadInput(f"{path}: not valid YAML ({exc}); fix the syntax.") from exc


def _problem(err: ErrorDetails) -> str:
    key = ".".join(str(part) for part in err["loc"]) or "(top level)"
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        # A gate naming no check or one that is not declared: say which ids exist, and where.
        given = err.get("ctx", {}).get("tag")
        what = f"unknown check {given!r}" if given is not None else "no check"
        return f"{key}.check: {what}; known checks (idf_ops/gates/checks/): {', '.join(CHECKS)}"
    return f"{key}: {err['msg']}"


def _explain(path: Path, exc: ValidationError) -> BadInput:
    problems = [_problem(err) for err in exc.errors()]
    listed = "; ".join(problems[:5]) + (f"; … {len(problems) - 5} more" if len(problems) > 5 else "")
    return BadInput(
        f"{path}: invalid ({listed}); fix these keys (schema: {path.with_suffix('.schema.json').name})."
    )


def load_registry(path: Path = REGISTRY_PATH) -> Registry:
    """Load and validate the milestone registry."""
    data = _read_yaml(path)
    try:
        return Registry.model_validate(data)
    except ValidationError as exc:
        raise _explain(path, exc) from exc


def load_attestations(registry: Registry, path: Path = ATTESTATIONS_PATH) -> dict[str, Attestation]:
    """Load attestations: checkpoint id -> latest attestation (manual checkpoints only)."""
    data = _read_yaml(path)
    try:
        parsed = AttestationFile.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise _explain(path, exc) from exc
    latest: dict[str, Attestation] = {}
    for index, attestation in enumerate(parsed.attestations):
        checkpoint = registry.get(attestation.checkpoint)
        key = f"attestations.{index}.checkpoint"
        if checkpoint is None:
            raise BadInput(
                f"{path}: {key}: unknown checkpoint {attestation.checkpoint!r}; "
                "use a Rubin ID or TL- id from milestones/registry.yaml."
            )
        if not checkpoint.is_manual:
            raise BadInput(
                f"{path}: {key}: {checkpoint.id} has automated gates and cannot be attested by hand; "
                "remove this attestation (the gates decide)."
            )
        previous = latest.get(checkpoint.id)
        if previous is None or attestation.attested_on >= previous.attested_on:
            latest[checkpoint.id] = attestation
    return latest


def export_schemas(directory: Path = MILESTONES_DIR) -> list[Path]:
    """Write the JSON Schemas of the registry and attestation files; return their paths."""
    written = []
    for model, name in ((Registry, "registry.schema.json"), (AttestationFile, "attestations.schema.json")):
        path = directory / name
        path.write_text(json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written
