"""Provenance of a piece of evidence: which stack, of which kind, at which data scale, from which commit.

A load-test summary (and the gates report) records it so a reader can tell a scale test on the
temporary scale stack from the same profile run against the local stand-in:

- stack kind: ``scale`` for a temporary scale-test stack (:func:`idf_core.facts.is_scale_stack`),
  otherwise the outputs' own kind (``local`` or ``gcp``);
- data scale: rows per table from the stack's catalog load manifest (contract field
  ``catalog_load_manifest``) when this machine can read it; for a scale stack without a readable
  manifest, the rows its plan was sized for (the ``--percent`` its generated stack file
  ``stacks/Pulumi.<stack>.yaml`` was rendered at, through the sizing model); otherwise unknown,
  with the reason;
- the commit of this repository (``git rev-parse HEAD``; None outside a checkout) and whether the
  working tree had uncommitted changes;
- the profile's content hash: SHA-256 of the validated profile as canonical JSON, the same for a
  local run and for a GKE run collected later (the run configuration carries the profile).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from idf_core.contract import StackOutputs, load_outputs
from idf_core.errors import BadInput
from idf_core.facts import is_scale_stack
from idf_core.paths import REPO_ROOT

__all__ = [
    "DataScale",
    "Provenance",
    "ProvenanceKind",
    "collected_provenance",
    "data_scale",
    "profile_sha256",
    "repository_commit",
    "stack_kind",
    "stack_provenance",
]

ProvenanceKind = Literal["local", "gcp", "scale"]
STACKS_DIR = REPO_ROOT / "stacks"
_PERCENT_LINE = re.compile(r"^#\s+idf scale render-stack\b.*--percent\s+([0-9.]+)", re.MULTILINE)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataScale(_Model):
    """How much data the stack held: rows per table, and where the numbers come from."""

    source: Literal["ingest-record", "load-manifest", "scale-plan", "unknown"] = Field(
        title="Source",
        description="ingest-record: rows the scale stack's ingest step loaded, counted per chunk "
        "(idf_ops/scale/ingest.py); load-manifest: counted rows of the last load; scale-plan: rows the "
        "scale stack was sized for (not counted); unknown: none was available (see `detail`).",
    )
    detail: str = Field(title="Detail", description="The manifest or stack file read, or why none was.")
    rows_per_table: dict[str, int] = Field(
        default_factory=dict, title="Rows per table", description="Table -> rows (empty when unknown)."
    )
    percent_of_dr1: float | None = Field(
        default=None, title="Percent of DR1", description="The scale plan's percent of DR1 (scale-plan only)."
    )


class Provenance(_Model):
    """Where a piece of evidence comes from."""

    stack: str = Field(title="Stack", description="Stack the evidence was produced against.")
    stack_kind: ProvenanceKind = Field(
        title="Stack kind", description="local, gcp, or scale (a temporary scale-test stack)."
    )
    data_scale: DataScale = Field(title="Data scale", description="Rows per table the stack held.")
    repository_commit: str | None = Field(
        title="Repository commit", description="Commit of this repository (null outside a git checkout)."
    )
    repository_dirty: bool | None = Field(
        default=None, title="Uncommitted changes", description="The working tree differed from the commit."
    )
    profile_sha256: str | None = Field(
        default=None,
        title="Profile hash",
        description="SHA-256 of the validated load-test profile as canonical JSON (sorted keys).",
    )


def stack_kind(outputs: StackOutputs) -> ProvenanceKind:
    """``scale`` for a temporary scale-test stack, else the outputs' kind."""
    return "scale" if is_scale_stack(outputs.stack) else outputs.kind


def profile_sha256(profile: BaseModel) -> str:
    """SHA-256 of a validated profile's content (canonical JSON: sorted keys, no spaces)."""
    canonical = json.dumps(profile.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def repository_commit() -> tuple[str | None, bool | None]:
    """The repository's HEAD commit and whether the working tree has uncommitted changes."""
    head = _git("rev-parse", "HEAD")
    if head is None:
        return None, None
    status = _git("status", "--porcelain", "--untracked-files=no")
    return head.strip(), (bool(status.strip()) if status is not None else None)


def _manifest_rows(path: Path) -> dict[str, int]:
    from idf_ops.catalogs.load import read_manifest  # noqa: PLC0415 (only when a manifest is read)

    manifest = read_manifest(path)
    if manifest is None:
        raise FileNotFoundError(path)
    return {name: table.rows for name, table in manifest.tables.items()}


def _plan_percent(stack: str) -> tuple[float, Path] | None:
    path = STACKS_DIR / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        return None
    match = _PERCENT_LINE.search(path.read_text())
    return (float(match.group(1)), path) if match else None


def data_scale(outputs: StackOutputs) -> DataScale:
    """Rows per table of the stack's data (see the module docstring for the order of sources)."""
    if is_scale_stack(outputs.stack):
        from idf_ops.scale.ingest import RECORD_FILE, read_record  # noqa: PLC0415 (scale stacks only)

        record = read_record(outputs.stack)
        if record is not None:
            return DataScale(
                source="ingest-record",
                detail=f"var/stacks/{outputs.stack}/{RECORD_FILE}: "
                f"{record.chunks_loaded}/{record.chunks_total} chunks of {record.database} loaded by "
                f"the ingest step, finished {record.finished_at.isoformat()}",
                rows_per_table=record.rows_per_table,
            )
    manifest = outputs.catalog_load_manifest
    why = "the stack outputs name no catalog_load_manifest"
    if manifest:
        if "://" in manifest:
            why = f"load manifest {manifest} is remote: not readable from this machine"
        else:
            try:
                rows = _manifest_rows(Path(manifest))
            except FileNotFoundError:
                why = f"load manifest {manifest} does not exist (no load yet)"
            except (OSError, BadInput) as exc:
                why = f"load manifest {manifest} unreadable ({' '.join(str(exc).split())[:200]})"
            else:
                return DataScale(source="load-manifest", detail=manifest, rows_per_table=rows)
    if is_scale_stack(outputs.stack):
        planned = _plan_percent(outputs.stack)
        if planned is not None:
            from idf_ops.scale.sizing import DR1_ROWS_PER_TABLE  # noqa: PLC0415 (sphgeom is heavy)

            percent, path = planned
            rows = {table: round(dr1 * percent / 100) for table, dr1 in DR1_ROWS_PER_TABLE.items()}
            return DataScale(
                source="scale-plan",
                detail=f"{path.relative_to(REPO_ROOT)} rendered at {percent:g}% of DR1 ({why}); "
                "planned rows from idf_ops/scale/sizing.py, not counted",
                rows_per_table=rows,
                percent_of_dr1=percent,
            )
        why += f"; no generated stacks/Pulumi.{outputs.stack}.yaml with a --percent to read"
    return DataScale(source="unknown", detail=why)


def stack_provenance(outputs: StackOutputs, profile: BaseModel | None = None) -> Provenance:
    """The provenance of evidence produced now against `outputs` (and of the profile, if any)."""
    commit, dirty = repository_commit()
    return Provenance(
        stack=outputs.stack,
        stack_kind=stack_kind(outputs),
        data_scale=data_scale(outputs),
        repository_commit=commit,
        repository_dirty=dirty,
        profile_sha256=profile_sha256(profile) if profile is not None else None,
    )


def collected_provenance(stack: str, profile: BaseModel) -> Provenance:
    """The provenance of a GKE run collected here (`idf loadtest collect`).

    With the stack's outputs on this machine it is :func:`stack_provenance`; without them the run
    still happened on GKE, so the kind is ``scale`` for a scale-test stack and ``gcp`` otherwise,
    and the data scale is unknown (said so, never guessed).
    """
    try:
        outputs = load_outputs(stack)
    except BadInput:
        commit, dirty = repository_commit()
        return Provenance(
            stack=stack,
            stack_kind="scale" if is_scale_stack(stack) else "gcp",
            data_scale=DataScale(
                source="unknown",
                detail=f"no outputs of stack {stack!r} on this machine (`idf plan {stack}` writes them)",
            ),
            repository_commit=commit,
            repository_dirty=dirty,
            profile_sha256=profile_sha256(profile),
        )
    return stack_provenance(outputs, profile)
