"""Every `idf` command of runbooks/qserv-scale-test.md runs here, offline, with the outcome the
runbook states: offline steps succeed; steps that need the cloud stop with the one clear
"Pulumi CLI is not installed" error (exit 1) instead of half-running; the collect step without
copied reports and the gate on an offline plan fail honestly. A command added to the runbook that
this table does not know fails the test, so the runbook and the CLI cannot drift apart.
"""

from __future__ import annotations

import pytest

from idf_core.paths import REPO_ROOT
from support.runbooks import Expected, offline_env, run_all, runbook_commands

RUNBOOK = REPO_ROOT / "runbooks" / "qserv-scale-test.md"
NO_CLI = "the Pulumi CLI is not installed"
# (pattern of the command, expected exit code, text its output must contain)
EXPECTED: Expected = [
    (r"^scale plan ", 0, ""),
    (r"^config validate qserv-scale75$", 0, ""),
    (r"^scale up .*--dry-run", 0, "none stateful"),
    (r"^plan qserv-scale75$", 0, "resources"),
    (r"^cost qserv-scale75", 0, "TOTAL"),
    (r"^scale up --expires-in", 1, NO_CLI),
    (r"^scale ingest --follow qserv-scale75$", 2, "idf outputs pull qserv-scale75"),
    (r"^loadtest run qserv-kpm-75pct --stack qserv-scale75", 0, "idf loadtest collect"),
    (r"^loadtest collect ", 2, "offline plan (mock values), so no GKE run uploaded reports"),
    (r"^gates check TL-QSERV-SCALE-TEST --stack qserv-scale75$", 1, "no load-test summary for profile"),
    (r"^scale down --dry-run", 0, ""),
    (r"^scale down --stack", 1, NO_CLI),
    (r"^scale status --stack", 1, NO_CLI),
    (r"^scale reap$", 1, NO_CLI),
    (r"^scale reap --unattended$", 1, NO_CLI),
    (r"^plan dev$", 0, "idf scale reap"),
    (r"^scale reap --dry-run", 0, ""),
]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Offline: state under a temporary directory, no `pulumi` on PATH, a stand-in hub token file."""
    tmp = tmp_path_factory.mktemp("runbook")
    token = tmp / "hub-token"
    token.write_text("offline-placeholder\n")
    return offline_env(tmp, IDF_HUB_TOKEN_FILE=str(token))


def test_the_runbook_names_the_lifecycle() -> None:
    verbs = {" ".join(c.split()[:2]) for c in runbook_commands(RUNBOOK)}
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
    seen = run_all(RUNBOOK, EXPECTED, env)
    assert len(seen) >= 14
