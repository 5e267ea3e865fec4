"""`idf outputs pull`: a live stack's outputs -> var/stacks/<stack>/outputs.json, checked first.

The document written is what `pulumi stack output --json` prints (the contract plus the
program-only keys, read back by :func:`idf_core.contract.load_outputs`), but only after it met
the stack outputs contract, and atomically: a failed pull leaves the previous file as it was.
Secret outputs are never written (the contract has none: a secret export is a program bug).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from idf_clients.pulumi_stack import StackOutput, stack_outputs
from idf_core.contract import StackOutputs, contract_of, outputs_path
from idf_core.errors import OperationFailed
from idf_core.paths import validate_stack_name

__all__ = ["pull_outputs"]

Reader = Callable[[str], dict[str, StackOutput]]


def pull_outputs(stack: str, reader: Reader = stack_outputs) -> tuple[Path, StackOutputs]:
    """Read, check and write the live outputs of ``stack``; the file and the contract in it."""
    validate_stack_name(stack, option="STACK")
    live = reader(stack)
    source = f"pulumi stack output -s {stack}"
    secret = sorted(key for key, out in live.items() if out.secret)
    if secret:
        raise OperationFailed(
            f"{source}: output(s) {', '.join(secret)} are secrets; the outputs contract carries no "
            "secret (passwords stay in Pulumi): stop exporting them. Nothing was written."
        )
    exports = {key: out.value for key, out in live.items()}
    if exports.get("offline_plan"):
        raise OperationFailed(f"{source}: the stack says offline_plan: true; these are not live outputs")
    try:
        contract = contract_of(exports, source=source)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise OperationFailed(
            f"{source}: the live outputs do not meet the stack outputs contract ({problems}); the "
            "program and idf_core.contract are out of step. Nothing was written."
        ) from exc
    path = outputs_path(stack)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".outputs.", suffix=".json.tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(exports, indent=2, sort_keys=True) + "\n")
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path, contract
