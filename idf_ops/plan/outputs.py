"""Offline plan exports -> the stack outputs contract (`idf_ops.stack_outputs.StackOutputs`)."""

from __future__ import annotations

from pathlib import Path

from idf_ops.errors import OperationFailed
from idf_ops.plan.engine import OfflinePlan
from idf_ops.stack_outputs import StackOutputs, write_outputs

__all__ = ["stack_outputs_of", "write_plan_outputs"]


def stack_outputs_of(plan: OfflinePlan) -> StackOutputs:
    """The contract fields of the program's exports, marked as an offline plan."""
    fields = set(StackOutputs.model_fields)
    data = {k: v for k, v in plan.outputs.items() if k in fields and v is not None}
    data["offline_plan"] = True
    try:
        return StackOutputs.model_validate(data)
    except ValueError as exc:
        raise OperationFailed(
            f"stack {plan.stack}: the program's exports do not meet the stack outputs contract ({exc})"
        ) from exc


def write_plan_outputs(plan: OfflinePlan) -> Path:
    """Write `var/stacks/<stack>/outputs.json` from an offline plan."""
    return write_outputs(stack_outputs_of(plan))
