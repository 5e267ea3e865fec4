"""Every `idf` command of runbooks/pulumi.md runs here, offline, in the runbook's order and with
the outcome it states: offline steps succeed; `idf outputs pull` stops with the one "Pulumi CLI is
not installed" error (exit 2); rendering from offline outputs is refused unless asked for; the gate
on an offline plan fails honestly. A command added to the runbook that this table does not know
fails the test, so the runbook and the CLI cannot drift apart.
"""

from __future__ import annotations

import pytest

from idf_core.paths import REPO_ROOT
from support.runbooks import Expected, offline_env, run_all, runbook_commands

RUNBOOK = REPO_ROOT / "runbooks" / "pulumi.md"
# (pattern of the command, expected exit code, text its output must contain)
EXPECTED: Expected = [
    (r"^config validate dp01$", 0, "valid"),
    (r"^config schema --check$", 0, ""),
    (r"^plan dp01$", 0, "Kubernetes objects valid"),
    (r"^policy check dp01$", 0, "0 violation(s)"),
    (r"^outputs pull dp01$", 2, "the Pulumi CLI is not installed"),
    (r"^phalanx render dp01$", 2, "idf outputs pull dp01"),
    (r"^phalanx render dp01 --allow-offline$", 0, "values-idf-dp01.yaml"),
    (r"^catalogs stage dp01$", 1, "gcloud auth application-default login"),
    (r"^gates check L2-DP-0010 --stack dp01$", 1, "did not pass"),
]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Offline: state under a temporary directory, no `pulumi` on PATH."""
    return offline_env(tmp_path_factory.mktemp("pulumi-runbook"))


def test_the_runbook_follows_the_deployment_order() -> None:
    text = RUNBOOK.read_text()
    steps = ["## 3. `pulumi up`", "## 4. The secrets", "## 5. Phalanx sync", "## 6. Ingest", "## 7. Gates"]
    positions = [text.index(step) for step in steps]
    assert positions == sorted(positions), "pulumi up, secrets, Phalanx sync, ingest, gates"
    verbs = {" ".join(c.split()[:2]) for c in runbook_commands(RUNBOOK)}
    assert {"outputs pull", "phalanx render", "gates check", "plan dp01"} <= verbs


def test_every_runbook_command_runs_offline_as_documented(env: dict[str, str]) -> None:
    seen = run_all(RUNBOOK, EXPECTED, env)
    assert len(seen) == len(EXPECTED)
