"""Offline stand-ins for the Pulumi side of the lifecycle (`--dry-run`).

This module owns what `idf scale ... --dry-run` does without a Pulumi CLI or a cloud:

- :class:`StackFilesWorkspace`: a read-only ScaleWorkspace over `stacks/Pulumi.*.yaml` (the
  stacks the repository declares), so `idf scale reap --dry-run` lists what it would destroy;
- :func:`offline_plan`: runs the infra owner's Pulumi program (`infra.program.build`) for a stack
  document under Pulumi's mock engine, and reports the resources it would create and whether any
  is stateful (Cloud SQL, buckets, disks) - the scale stack must declare none.
"""

# the Pulumi program (pulumi_gcp, ~2 s) and infra.config load only for --dry-run.
# ruff: noqa: PLC0415

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from idf_ops.errors import OperationFailed
from idf_ops.paths import STACKS_DIR
from idf_ops.scale.lifecycle import Event, StackInfo
from idf_ops.scale.policy import STATEFUL_TYPES

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
    """Run the Pulumi program (`infra.program.build`) for `document` under Pulumi's mock engine.

    `document` is a stack file mapping; it is validated by `infra.config` first. Nothing leaves
    the process: the mocks echo inputs back as outputs and record every resource registered.
    """
    import pulumi

    from infra.config import validate_config_mapping
    from infra.program import build

    cfg = validate_config_mapping(document, f"stacks/Pulumi.{stack}.yaml (offline plan)", stack)
    recorded: list[tuple[str, str, dict[str, Any]]] = []

    class _RecordingMocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            recorded.append((args.typ, args.name, dict(args.inputs)))
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
            return {}, []

    pulumi.runtime.set_mocks(_RecordingMocks(), project="idf", stack=stack, preview=False)

    @pulumi.runtime.test
    def program() -> Any:
        return build(cfg)

    program()
    counts = Counter(typ for typ, _, _ in recorded)
    stateful = [f"{typ}::{name}" for typ, name, _ in recorded if typ in STATEFUL_TYPES]
    pools = {
        name: json.loads(json.dumps(inputs, default=str))
        for typ, name, inputs in recorded
        if typ == "gcp:container/nodePool:NodePool"
    }
    return OfflinePlan(
        engine="Pulumi mock engine (pulumi.runtime.set_mocks) running infra.program.build",
        resource_counts=dict(sorted(counts.items())),
        stateful_resources=stateful,
        node_pools=pools,
        resources=[
            {
                "type": typ,
                "name": name,
                "urn": f"urn:pulumi:{stack}::idf::{typ}::{name}",
                "inputs": json.loads(json.dumps(inputs, default=str)),
            }
            for typ, name, inputs in recorded
        ],
    )
