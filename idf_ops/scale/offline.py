"""Offline stand-ins for the Pulumi side of the lifecycle (`--dry-run`).

This module owns what `idf scale ... --dry-run` does without a Pulumi CLI or a cloud:

- :class:`StackFilesWorkspace`: a read-only ScaleWorkspace over `stacks/Pulumi.*.yaml` (the
  stacks the repository declares), so `idf scale reap --dry-run` lists what it would destroy;
- :func:`offline_plan`: plans a stack document with the infra owner's offline plan runner
  (`idf_ops.plan.run_offline`: the Pulumi program under Pulumi's mock engine) and reports the
  resources it would create and whether any is stateful (Cloud SQL, buckets, disks).
"""

# the Pulumi program (pulumi_gcp, ~2 s) and infra.config load only for --dry-run.
# ruff: noqa: PLC0415

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from idf_core.errors import OperationFailed
from idf_core.facts import STATEFUL_TYPES
from idf_core.paths import STACKS_DIR
from idf_ops.scale.lifecycle import Event, StackInfo

__all__ = ["OfflinePlan", "StackFilesWorkspace", "offline_plan"]


class StackFilesWorkspace:
    """Read-only workspace over the repository's stack files (no Pulumi CLI needed)."""

    def __init__(self, stacks_dir: Path = STACKS_DIR) -> None:
        self._dir = stacks_dir

    def list_stacks(self) -> list[str]:
        """Stacks declared in the repository."""
        return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in self._dir.glob("Pulumi.*.yaml"))

    def info(self, stack: str) -> StackInfo:
        """Temporary flag and earliest pool expiry from the stack file."""
        from infra.config import load_stack_file

        cfg = load_stack_file(self._dir / f"Pulumi.{stack}.yaml")
        stamps = [p.expires_at for p in cfg.node_pools.values() if p.expires_at is not None]
        return StackInfo(name=stack, temporary=cfg.meta.temporary, expires_at=min(stamps) if stamps else None)

    def _refuse(self, verb: str) -> OperationFailed:
        return OperationFailed(
            f"offline workspace cannot {verb}: only --dry-run works without the Pulumi CLI"
        )

    def up(self, stack: str, *, use_zone_fallbacks: bool, on_event: Event) -> dict[str, Any]:
        """Refused offline."""
        raise self._refuse("bring a stack up")

    def destroy(self, stack: str, *, on_event: Event) -> None:
        """Refused offline."""
        raise self._refuse("destroy a stack")

    def remove(self, stack: str) -> None:
        """Refused offline."""
        raise self._refuse("remove a stack")


class OfflinePlan(BaseModel):
    """What the mock engine says the stack would create."""

    model_config = ConfigDict(extra="forbid")

    engine: str = Field(title="Engine", description="Which offline engine produced the inventory.")
    resource_counts: dict[str, int] = Field(title="Resources", description="Type token -> count.")
    stateful_resources: list[str] = Field(
        title="Stateful resources", description="URNs of stateful resources."
    )
    node_pools: dict[str, dict[str, Any]] = Field(
        title="Node pools", description="Pool resource name -> the inputs the program gave it."
    )
    resources: list[dict[str, Any]] = Field(
        title="Resources",
        description="Every registered resource: type, name, urn, camelCase inputs.",
    )


def offline_plan(stack: str, document: dict[str, Any]) -> OfflinePlan:
    """Plan `document` (a stack file mapping) with the offline plan runner (`idf_ops.plan`).

    The runner validates the document, feeds it to the Pulumi program through `pulumi.Config` and
    records every resource under Pulumi's mock engine; nothing leaves the process.
    """
    from idf_ops.plan import run_offline

    plan = run_offline(stack, document, source=f"stacks/Pulumi.{stack}.yaml (rendered by the sizing model)")
    custom = [r for r in plan.resources if r.custom]
    return OfflinePlan(
        engine="idf_ops.plan.run_offline (Pulumi mock engine running infra.program.build)",
        resource_counts=plan.counts(),
        stateful_resources=[r.urn for r in custom if r.type in STATEFUL_TYPES],
        node_pools={r.name: r.inputs for r in plan.of_type("gcp:container/nodePool:NodePool")},
        resources=[r.to_json() for r in custom],
    )
