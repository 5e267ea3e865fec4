"""Run `idf` in a child process, as an operator's shell would (exit code, stdout, stderr)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping

from idf_core.paths import REPO_ROOT

__all__ = ["run_idf"]

# The console script's own entry, run with this interpreter (the venv's) from the repository root.
_ENTRY = "import sys; from idf_ops.cli.main import main; sys.exit(main(sys.argv[1:]))"


def run_idf(
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 300,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`idf ARGS` with ``env`` overlaid on this process's environment."""
    return subprocess.run(
        [sys.executable, "-c", _ENTRY, *args],
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
        preexec_fn=preexec_fn,
    )
