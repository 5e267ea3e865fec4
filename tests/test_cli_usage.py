"""Usage errors of every `idf` command: exit 2, the problem in one line, never a traceback.

typer 0.29 raises its own vendored copy of click's exceptions; a handler that only knew click's
let them escape as tracebacks with exit 1 (found by an audit, fixed in idf_ops/cli/main.py).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from idf_core.paths import REPO_ROOT
from idf_ops.catalogs.schema import felis_yaml_path
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
    "qserv-local-missing-felis": (
        ["qserv-local", "schema", "--felis-bin", "/nonexistent", "--derived", "x"],
        "'/nonexistent' does not exist",
    ),
    "qserv-local-no-manifest": (
        ["qserv-local", "load", "--manifest", "/nonexistent/manifest.json"],
        "no load manifest",
    ),
    "catalogs-unknown-table": (["catalogs", "bench-ingest", "--table", "nope"], "not a catalog table"),
    "tap-probe-missing-url": (["tap", "probe"], "Missing argument"),
    "tap-rd-bad-served-names": (
        ["tap", "rd", "--output", "/nonexistent/q.rd", "--served-names", "{"],
        "--served-names: not JSON",
    ),
}


@pytest.mark.parametrize("case", sorted(USAGE_ERRORS))
def test_usage_error_exits_2_with_the_problem(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv, expected = USAGE_ERRORS[case]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert "Traceback" not in err


def test_usage_error_from_the_console_script_has_no_traceback() -> None:
    result = subprocess.run(
        [IDF, "plan", "dp01", "--bogus"], capture_output=True, text=True, timeout=120, check=False
    )
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
    result = subprocess.run(
        [IDF, "plan", "dp01", "--json", "-q"], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    types = [r["type"] for r in plan["resources"]]
    assert len(types) >= 25 and types.count("gcp:container/cluster:Cluster") == 1


# The Python entries the Ansible roles run are `idf` subcommands, never module internals
# (`python -m idf_ops...`, `python -c "from idf_ops..."`), supervisord's health listener included.
ROLE_TASK_FILES = sorted((REPO_ROOT / "ansible" / "roles").glob("*/tasks/*.yml"))


@pytest.mark.parametrize("path", ROLE_TASK_FILES, ids=lambda p: str(p.relative_to(REPO_ROOT / "ansible")))
def test_roles_call_idf_not_python_internals(path: Path) -> None:
    text = path.read_text()
    internals = re.findall(r"idf_ops\.[\w.]+", text)
    assert not internals, f"{path}: call `{{{{ <role>_venv_bin }}}}/idf <subcommand>` instead of {internals}"


def test_role_subcommands_exist() -> None:
    called = set()
    for path in ROLE_TASK_FILES:
        called |= set(re.findall(r"_venv_bin }}/idf\"?\s*\n\s*- (\S+)\n\s*- (\S+)", path.read_text()))
    assert called >= {
        ("catalogs", "felis-path"),
        ("qserv-local", "schema"),
        ("qserv-local", "load"),
        ("tap", "heal"),
        ("tap", "probe"),
    }
    for group, command in sorted(called):
        assert main([group, command, "--help"]) == 0, f"idf {group} {command}"


def test_felis_path_prints_the_installed_dp01_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalogs", "felis-path"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == str(felis_yaml_path()) and Path(printed).is_file()


@pytest.mark.parametrize(("restarted", "aborted"), [([], []), (["8091"], []), ([], ["job-1"])])
def test_tap_heal_output_says_whether_it_changed_anything(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    restarted: list[str],
    aborted: list[str],
) -> None:
    # The `tap` role's changed_when reads this output: "restarted:" or "aborted " mean a change.
    from idf_ops.tap import instances  # noqa: PLC0415 -- patched here only

    monkeypatch.setattr(instances, "restart_unhealthy", lambda: restarted)
    monkeypatch.setattr(instances, "abort_orphaned_jobs", lambda: aborted)
    assert main(["tap", "heal"]) == 0
    out = capsys.readouterr().out
    assert ("restarted:" in out or "aborted " in out) == bool(restarted or aborted)
    role = (REPO_ROOT / "ansible" / "roles" / "tap" / "tasks" / "main.yml").read_text()
    assert "'restarted:' in __tap_queue.stdout or 'aborted ' in __tap_queue.stdout" in role
