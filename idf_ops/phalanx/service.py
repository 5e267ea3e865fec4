"""`idf phalanx render`: a stack's outputs -> its Phalanx environment's values files."""

from __future__ import annotations

from pathlib import Path

from idf_core.contract import load_outputs, outputs_path
from idf_core.errors import BadInput
from idf_core.paths import state_path, validate_output_dir, validate_stack_name
from idf_ops.phalanx.values import render, write_rendered

__all__ = ["default_out_dir", "render_stack"]


def default_out_dir(stack: str) -> Path:
    """Where the values files go by default: var/stacks/<stack>/phalanx/ (Phalanx's layout)."""
    return state_path("stacks", validate_stack_name(stack), "phalanx")


def render_stack(stack: str, out_dir: Path | None = None, *, allow_offline: bool = False) -> list[Path]:
    """Render and write the stack's values files; the paths written.

    Outputs of an offline plan hold placeholder addresses (the Qserv front end's IP): they are
    refused unless ``allow_offline`` (a preview), so no mock address reaches a Phalanx commit.
    """
    validate_stack_name(stack, option="STACK")
    outputs = load_outputs(stack)
    source = str(outputs_path(stack))
    if outputs.offline_plan and not allow_offline:
        raise BadInput(
            f"{source}: these are the outputs of an offline plan (placeholder addresses); pull the "
            f"live ones with `idf outputs pull {stack}` first, or pass --allow-offline to preview"
        )
    files = render(outputs, source)
    target = validate_output_dir(out_dir) if out_dir is not None else default_out_dir(stack)
    return write_rendered(files, target, stack)
