"""Runbooks whose `idf` commands the tests run offline, in order, with the outcome each states.

A runbook test gives the runbook's path and a table of (pattern of the command, expected exit code,
text its output must contain); :func:`run_all` runs every `.venv/bin/idf ...` line of the runbook's
bash blocks against that table. A command the table does not know fails the test, so a runbook and
the CLI cannot drift apart.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

from idf_core.paths import REPO_ROOT

IDF = str(REPO_ROOT / ".venv" / "bin" / "idf")
Expected = list[tuple[str, int, str]]


def runbook_commands(runbook: Path) -> list[str]:
    """The `.venv/bin/idf ...` lines of the runbook's bash blocks (continuations joined, comments
    and a trailing output redirection dropped), in order, without the `idf`."""
    text = runbook.read_text().replace("\\\n", " ")
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL):
        for raw in block.splitlines():
            if raw.strip().startswith(".venv/bin/idf "):
                line = re.sub(r"\s+#.*$", "", raw.strip())
                line = re.sub(r"\s+>\s*\S+$", "", line)
                commands.append(" ".join(line.split()[1:]))
    return commands


def expected_outcome(command: str, table: Expected) -> tuple[int, str]:
    for pattern, code, text in table:
        if re.search(pattern, command):
            return code, text
    raise AssertionError(f"runbook command not covered by this test: idf {command}")


def offline_env(tmp: Path, **extra: str) -> dict[str, str]:
    """State under `tmp`, no `pulumi` on PATH (so every cloud step takes its offline branch)."""
    path = os.pathsep.join(
        p for p in os.environ["PATH"].split(os.pathsep) if not (Path(p) / "pulumi").exists()
    )
    return {**os.environ, "IDF_STATE_DIR": str(tmp / "var"), "PATH": path, **extra}


def run_all(runbook: Path, table: Expected, env: dict[str, str]) -> list[str]:
    """Run every command of `runbook` in order (an earlier `plan` writes the outputs a later step
    reads); assert each one's exit code and text, and that none prints a traceback."""
    seen = []
    for command in runbook_commands(runbook):
        code, text = expected_outcome(command, table)
        done = subprocess.run(
            [IDF, *shlex.split(command)],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        output = done.stdout + done.stderr
        shown = f"idf {command}: exit {done.returncode}\n{output[-2000:]}"
        assert done.returncode == code, f"expected exit {code}; {shown}"
        assert text in " ".join(output.split()), f"{text!r} not in the output; {shown}"
        assert "Traceback" not in output, f"a traceback; {shown}"
        seen.append(command)
    return seen
