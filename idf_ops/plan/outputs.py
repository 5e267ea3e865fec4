"""Offline plan exports -> the stack outputs contract (`idf_core.contract.StackOutputs`)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from idf_core.contract import StackOutputs, contract_of, outputs_path, write_outputs
from idf_core.errors import OperationFailed
from idf_ops.plan.engine import OfflinePlan

__all__ = ["stack_outputs_of", "write_plan_outputs"]


def stack_outputs_of(plan: OfflinePlan) -> StackOutputs:
    """The contract in the program's exports, marked as an offline plan. The same reader as for live
    exports (:func:`idf_core.contract.contract_of`): an unknown export is refused (BadInput)."""
    try:
        source = f"stack {plan.stack} (offline plan)"
        return contract_of({**plan.outputs, "offline_plan": True}, source=source)
    except ValidationError as exc:
        raise OperationFailed(
            f"stack {plan.stack}: the program's exports do not meet the stack outputs contract ({exc})"
        ) from exc


def _holds_live_outputs(path: Path) -> bool:
    """Whether ``path`` holds outputs of a real stack (not marked ``offline_plan: true``)."""
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and document.get("offline_plan") is not True


def write_plan_outputs(plan: OfflinePlan) -> Path:
    """Write `var/stacks/<stack>/outputs.json` from an offline plan.

    Live outputs there (from `idf scale up` or `pulumi stack output --json`) are what gates and load
    tests must use, so they are never replaced by mock values: the plan's outputs then go to
    `outputs.offline.json` beside them.
    """
    outputs = stack_outputs_of(plan)
    live = outputs_path(plan.stack)
    if _holds_live_outputs(live):
        offline = live.with_name("outputs.offline.json")
        offline.write_text(outputs.model_dump_json(indent=2) + "\n")
        return offline
    return write_outputs(outputs)
