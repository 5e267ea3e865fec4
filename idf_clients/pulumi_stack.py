"""Client of a Pulumi state backend: a live stack's outputs, through Pulumi's Automation API.

The Automation API drives the Pulumi CLI (`pulumi stack select`, then `pulumi stack output
--json` and `--show-secrets`) over the repository's `Pulumi.yaml`. These machines have no CLI
(FIELD-NOTES, "Pulumi without a CLI"): without one, :func:`stack_outputs` raises one BadInput
(exit 2) naming exactly what to install, instead of `FileNotFoundError: 'pulumi'`.
"""

# pulumi.automation is imported only once the CLI is known to exist.
# ruff: noqa: PLC0415

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import Any

from idf_core.errors import BadInput, OperationFailed
from idf_core.paths import REPO_ROOT

__all__ = ["INSTALL_HINT", "StackOutput", "stack_outputs"]

INSTALL_HINT = (
    "the Pulumi CLI is not installed (no `pulumi` on PATH); install it with "
    "`curl -fsSL https://get.pulumi.com | sh` (https://www.pulumi.com/docs/install/), put "
    "~/.pulumi/bin on PATH, log in to the state backend (`pulumi login gs://<state-bucket>`), "
    "then run this again"
)


@dataclass(frozen=True)
class StackOutput:
    """One output of a stack: its value and whether Pulumi holds it as a secret."""

    value: Any
    secret: bool


def stack_outputs(stack: str) -> dict[str, StackOutput]:
    """The live outputs of ``stack`` in the backend the CLI is logged in to."""
    if shutil.which("pulumi") is None:
        raise BadInput(INSTALL_HINT)
    from pulumi import automation as auto

    try:
        selected = auto.select_stack(stack_name=stack, work_dir=str(REPO_ROOT))
        outputs = selected.outputs()
    except FileNotFoundError as exc:  # the CLI vanished between the check and the call
        raise BadInput(INSTALL_HINT) from exc
    except auto.errors.StackNotFoundError as exc:
        raise OperationFailed(
            f"no stack {stack!r} in the Pulumi backend you are logged in to (`pulumi stack ls`); "
            f"log in to the team's backend, or `pulumi up -s {stack}` first"
        ) from exc
    except auto.errors.CommandError as exc:
        raise OperationFailed(f"pulumi stack output -s {stack} failed: {str(exc)[-2000:]}") from exc
    return {key: StackOutput(value=out.value, secret=bool(out.secret)) for key, out in outputs.items()}
