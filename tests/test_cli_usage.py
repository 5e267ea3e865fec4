"""Usage errors of every `idf` command: exit 2, the problem in one line, never a traceback.

typer 0.29 raises its own vendored copy of click's exceptions; a handler that only knew click's
let them escape as tracebacks with exit 1 (found by an audit, fixed in idf_ops/cli/main.py).
"""

from __future__ import annotations

import json
import subprocess

import pytest

from idf_core.paths import REPO_ROOT
from idf_ops.cli.main import _fill_optional_values, main

IDF = str(REPO_ROOT / ".venv" / "bin" / "idf")

USAGE_ERRORS = {
    "no-subcommand": (["local"], "Missing command"),
    "unknown-option": (["plan", "--bogus"], "No such option: --bogus"),
    "not-a-number": (["scale", "plan", "--percent", "abc"], "Invalid value for '--percent'"),
    "out-of-range": (["scale", "plan", "--percent", "0"], "Invalid value for '--percent'"),
    "missing-option-value": (["gates", "check", "--stack"], "Option '--stack' requires an argument"),
    "missing-argument": (["config", "validate"], "Missing argument"),
    "loadtest-unknown-option": (["loadtest", "run", "smoke", "--nope"], "No such option: --nope"),
    "cost-missing-stack": (["cost", "--json", "--bogus"], "No such option"),
}


@pytest.mark.parametrize("case", sorted(USAGE_ERRORS))
def test_usage_error_exits_2_with_the_problem(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv, expected = USAGE_ERRORS[case]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert "Traceback" not in err


def test_usage_error_from_the_console_script_has_no_traceback() -> None:
    result = subprocess.run([IDF, "plan", "dp01", "--bogus"], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 2
    assert "No such option: --bogus" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["plan", "dp01", "--json"], ["plan", "dp01", "--json", "-"]),
        (["plan", "dp01", "--json", "-q"], ["plan", "dp01", "--json", "-", "-q"]),
        (["plan", "dp01", "--json", "out.json"], ["plan", "dp01", "--json", "out.json"]),
        (["plan", "dp01", "--json", "-"], ["plan", "dp01", "--json", "-"]),
        (["cost", "dp01", "--json"], ["cost", "dp01", "--json"]),  # other commands untouched
    ],
)
def test_bare_plan_json_means_stdout(argv: list[str], expected: list[str]) -> None:
    assert _fill_optional_values(argv) == expected


def test_plan_json_without_a_file_prints_the_plan() -> None:
    result = subprocess.run([IDF, "plan", "dp01", "--json", "-q"], capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    types = [r["type"] for r in plan["resources"]]
    assert len(types) >= 25 and types.count("gcp:container/cluster:Cluster") == 1
