"""A ScaleWorkspace whose "cloud" is a directory: the scale-test lifecycle rehearsed offline.

What Pulumi's state backend is to :class:`~idf_ops.scale.automation.AutomationWorkspace`, a
directory is to :class:`LocalStateWorkspace`: `up` plans the committed stack file on the mock
engine (``idf_ops.plan.run_offline``, what `idf plan` runs) and records the stack's resources,
temporary flag and expiry in ``<dir>/<stack>.json`` as soon as they "exist"; `destroy` empties
that record and `remove` deletes it. Nothing leaves the machine.

It exists so that what the issue asks to survive can be shown without a cloud: `idf scale run`
killed with SIGKILL (no teardown runs) leaves its record behind exactly as a real run leaves its
nodes, and the reaper, a separate process that knows only the directory, finds and destroys it.
Select it with ``IDF_SCALE_LOCAL_STATE=<dir>`` (:func:`idf_ops.scale.service.workspace`);
runbooks/qserv-scale-test.md shows the rehearsal.
"""

# the Pulumi program (mock engine) loads only when a stack is brought up.
# ruff: noqa: PLC0415

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from idf_core.errors import BadInput, OperationFailed
from idf_core.paths import STACKS_DIR, validate_stack_name
from idf_ops.scale.lifecycle import Event, StackInfo

__all__ = ["LOCAL_STATE_ENV", "LocalStackState", "LocalStateWorkspace"]

LOCAL_STATE_ENV = "IDF_SCALE_LOCAL_STATE"


class LocalStackState(BaseModel):
    """One stack's record in the directory (what a state backend knows of it)."""

    model_config = ConfigDict(extra="forbid")

    stack: str = Field(title="Stack", description="Stack name.")
    temporary: bool = Field(title="Temporary", description="idf:meta.temporary of its config.")
    expires_at: datetime | None = Field(title="Expires at", description="Earliest pool expiry.")
    resources: list[str] = Field(title="Resources", description="URNs of the resources that exist.")
    outputs: dict[str, Any] = Field(default_factory=dict, title="Outputs", description="Stack outputs.")


class LocalStateWorkspace:
    """ScaleWorkspace over ``state_dir`` (one JSON record per stack) and the stack files."""

    def __init__(self, state_dir: Path, stacks_dir: Path = STACKS_DIR) -> None:
        if not state_dir.is_dir():
            raise BadInput(f"{LOCAL_STATE_ENV}={state_dir}: not a directory; create it or unset the variable")
        self._dir = state_dir
        self._stacks = stacks_dir

    def _path(self, stack: str) -> Path:
        return self._dir / f"{validate_stack_name(stack)}.json"

    def load(self, stack: str) -> LocalStackState:
        """The record of ``stack``; OperationFailed when there is none."""
        path = self._path(stack)
        if not path.is_file():
            raise OperationFailed(
                f"no stack {stack!r} in {self._dir}: it is not up (or was destroyed and removed)"
            )
        return LocalStackState.model_validate_json(path.read_text())

    def save(self, state: LocalStackState) -> None:
        """Write a record atomically (a SIGKILL leaves the old or the new one, never half)."""
        path = self._path(state.stack)
        partial = path.with_suffix(".json.partial")
        partial.write_text(state.model_dump_json(indent=2))
        partial.replace(path)

    def up(self, stack: str, *, use_zone_fallbacks: bool, on_event: Event) -> dict[str, Any]:
        """Plan the stack file on the mock engine and record what it declares as existing."""
        from idf_ops.plan.engine import run_offline
        from infra.config import config_mapping_from_file, load_stack_file

        path = self._stacks / f"Pulumi.{validate_stack_name(stack)}.yaml"
        document = config_mapping_from_file(path)
        if use_zone_fallbacks:
            for pool in document["config"]["idf:node_pools"].values():
                pool["use_zone_fallbacks"] = True
        cfg = load_stack_file(path)
        plan = run_offline(stack, document, source=str(path))
        stamps = [p.expires_at for p in cfg.node_pools.values() if p.expires_at is not None]
        resources = [r.urn for r in plan.resources if r.custom]
        self.save(
            LocalStackState(
                stack=stack,
                temporary=cfg.meta.temporary,
                expires_at=min(stamps) if stamps else None,
                resources=resources,
                outputs=json.loads(json.dumps(plan.outputs, default=str)),
            )
        )
        on_event(f"{stack}: {len(resources)} resources recorded in {self._dir}")
        return dict(plan.outputs)

    def destroy(self, stack: str, *, on_event: Event) -> None:
        """Delete every recorded resource (the record stays, empty, until `remove`)."""
        state = self.load(stack)
        for urn in reversed(state.resources):
            on_event(f"deleted {urn.rsplit('::', 1)[-1]}")
        self.save(state.model_copy(update={"resources": []}))

    def remove(self, stack: str) -> None:
        """Forget the (empty) stack."""
        state = self.load(stack)
        if state.resources:
            raise OperationFailed(f"{stack} still has {len(state.resources)} resources: destroy it first")
        self._path(stack).unlink()

    def list_stacks(self) -> list[str]:
        """Stacks recorded in the directory."""
        return sorted(p.stem for p in self._dir.glob("*.json"))

    def info(self, stack: str) -> StackInfo:
        """Temporary flag, expiry and resource count, from the record."""
        state = self.load(stack)
        return StackInfo(
            name=stack,
            temporary=state.temporary,
            expires_at=state.expires_at,
            resource_count=len(state.resources),
        )
