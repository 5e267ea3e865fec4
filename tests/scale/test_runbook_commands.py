"""Every `idf` command of runbooks/qserv-scale-test.md runs here, offline, with the outcome the
runbook states: offline steps succeed; steps that need the cloud stop with the one clear
"Pulumi CLI is not installed" error (exit 1) instead of half-running; the collect step without
copied reports and the gate on an offline plan fail honestly. A command added to the runbook that
this table does not know fails the test, so the runbook and the CLI cannot drift apart.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from idf_core.paths import REPO_ROOT

RUNBOOK = REPO_ROOT / "runbooks" / "qserv-scale-test.md"
NO_CLI = "the Pulumi CLI is not installed"
# (pattern of the command, expected exit code, text its output must contain)
EXPECTED: list[tuple[str, int, str]] = [
    (r"^scale plan ", 0, ""),
    (r"^config validate qserv-scale75$", 0, ""),
    (r"^scale up .*--dry-run", 0, "none stateful"),
    (r"^plan qserv-scale75$", 0, "resources"),
    (r"^cost qserv-scale75", 0, "TOTAL"),
    (r"^scale up --expires-in", 1, NO_CLI),
    (r"^loadtest run qserv-kpm-75pct --stack qserv-scale75", 0, "idf loadtest collect"),
    (r"^loadtest collect ", 2, "gke-reports"),  # no reports copied from a GKE run here
    (r"^gates check TL-QSERV-SCALE-TEST --stack qserv-scale75$", 1, "no load-test summary for profile"),
    (r"^scale down --dry-run", 0, ""),
    (r"^scale down --stack", 1, NO_CLI),
    (r"^scale status --stack", 1, NO_CLI),
    (r"^scale reap$", 1, NO_CLI),
    (r"^scale reap --dry-run", 0, ""),
]


def runbook_commands() -> list[str]:
    """The `.venv/bin/idf ...` lines of the runbook's code blocks (continuations joined, comments
    and output redirections dropped), in order."""
    text = RUNBOOK.read_text().replace("\\\n", " ")
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL):
        for raw in block.splitlines():
            if raw.strip().startswith(".venv/bin/idf "):
                line = re.sub(r"\s+#.*$", "", raw.strip())
                line = re.sub(r"\s+>\s*\S+$", "", line)
                commands.append(" ".join(line.split()[1:]))
    return commands


def _expected(command: str) -> tuple[int, str]:
    for pattern, code, text in EXPECTED:
        if re.search(pattern, command):
            return code, text
    raise AssertionError(f"runbook command not covered by this test: idf {command}")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Offline: state under a temporary directory, no `pulumi` on PATH, a stand-in hub token file."""
    tmp = tmp_path_factory.mktemp("runbook")
    token = tmp / "hub-token"
    token.write_text("offline-placeholder\n")
    path = os.pathsep.join(
        p for p in os.environ["PATH"].split(os.pathsep) if not (Path(p) / "pulumi").exists()
    )
    return {**os.environ, "IDF_STATE_DIR": str(tmp / "var"), "IDF_HUB_TOKEN_FILE": str(token), "PATH": path}


def test_the_runbook_names_the_lifecycle() -> None:
    verbs = {" ".join(c.split()[:2]) for c in runbook_commands()}
    assert {
        "scale plan",
        "scale up",
        "loadtest run",
        "loadtest collect",
        "gates check",
        "scale down",
        "scale reap",
    } <= verbs


def test_every_runbook_command_runs_offline_as_documented(env: dict[str, str]) -> None:
    idf = str(REPO_ROOT / ".venv" / "bin" / "idf")
    seen = []
    for command in runbook_commands():  # in runbook order: `plan` writes the outputs `loadtest run` reads
        code, text = _expected(command)
        done = subprocess.run(
            [idf, *shlex.split(command)],
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
    assert len(seen) >= 14
