"""`idf scale` and `idf cost` as an operator runs them: exit codes, messages, no tracebacks."""

from __future__ import annotations

import json
import subprocess

import pytest

from idf_ops.cli import scale_cmd
from idf_ops.cli.main import main
from idf_ops.scale import sizing
from support.cli import run_idf


def _idf(*args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_idf(*args, env={"PATH": path} if path is not None else None)


def test_plan_json_gives_the_documented_75_percent_plan(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scale", "plan", "--percent", "75", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["sizing"]["workers"] == 38
    assert plan["nodes_total"] == 40  # 38 workers + czar + utility
    assert plan["sizing"]["chunks_in_footprint"] == 4745
    assert plan["cost"]["usd_per_hour"] == pytest.approx(70.89, abs=0.01)


def test_plan_with_hours_prices_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scale", "plan", "--hours", "10", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["usd_for_hours"] == pytest.approx(10 * plan["cost"]["usd_per_hour"])


def test_up_refuses_without_expires_in(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scale", "up"]) == 2
    assert "--expires-in is required" in capsys.readouterr().err


def test_up_refuses_an_unbounded_expiry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scale", "up", "--expires-in", "30d"]) == 2
    assert "within a week" in capsys.readouterr().err


@pytest.mark.parametrize("verb", [["up", "--expires-in", "48h"], ["down"], ["status"], ["reap"]])
def test_cli_absent_is_one_clear_error(verb: list[str]) -> None:
    # No `pulumi` on this PATH (and none on these machines at all: FIELD-NOTES).
    result = _idf("scale", *verb, path="/nonexistent")
    assert result.returncode == 1, result.stderr
    assert "the Pulumi CLI is not installed" in result.stderr
    assert ("--offline" if verb[0] == "status" else "--dry-run") in result.stderr
    assert "Traceback" not in result.stderr


def test_up_dry_run_works_offline() -> None:
    result = _idf("scale", "up", "--expires-in", "48h", "--dry-run", path="/nonexistent")
    assert result.returncode == 0, result.stderr
    assert "none stateful" in result.stdout
    assert "3 gcp:container/nodePool:NodePool" in result.stdout


def test_reap_dry_run_lists_only_expired_temporary_stacks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scale", "reap", "--dry-run", "--now", "2099-01-01T00:00:00Z", "--json"]) == 0
    decisions = {d["stack"]: d["action"] for d in json.loads(capsys.readouterr().out)}
    assert decisions["qserv-scale75"] == "would-destroy"
    assert decisions["dp01"] == "kept"
    assert main(["scale", "reap", "--dry-run", "--now", "2000-01-01T00:00:00Z", "--json"]) == 0
    decisions = {d["stack"]: d["action"] for d in json.loads(capsys.readouterr().out)}
    assert decisions["qserv-scale75"] == "kept"


def test_bad_machine_type_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scale", "plan", "--machine-type", "n2-standard-2"]) == 2
    assert "needs 12 GB" in capsys.readouterr().err


def test_cost_json_and_bad_bucket(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "dp01", "--json"]) == 0
    estimate = json.loads(capsys.readouterr().out)
    assert estimate["stack"] == "dp01"
    assert estimate["usd_per_month"] == pytest.approx(estimate["usd_per_hour"] * 730)
    assert main(["cost", "dp01", "--bucket-gb", "nope=5"]) == 2
    assert "no bucket role 'nope'" in capsys.readouterr().err
    assert main(["cost", "dp01", "--bucket-gb", "butler_datastore"]) == 2
    assert "ROLE=GB" in capsys.readouterr().err


def test_cost_reproduces_dmtn125(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--reproduce-dmtn125", "--json"]) == 0
    cmp = json.loads(capsys.readouterr().out)
    assert cmp["total_difference_percent"] == pytest.approx(-3.11, abs=0.01)


def test_cli_default_test_hours_is_the_models() -> None:
    assert scale_cmd.DEFAULT_TEST_HOURS == sizing.DEFAULT_TEST_HOURS


@pytest.mark.parametrize("verb", [["up"], ["run"]])
def test_short_expiry_is_warned_about_by_up_and_run(verb: list[str]) -> None:
    trailing = ["--", "true"] if verb == ["run"] else []
    command = ["scale", *verb, "--expires-in", "6h", "--dry-run", *trailing]
    short = _idf(*command, path="/nonexistent")
    assert short.returncode == 0, short.stderr
    assert "warning: --expires-in 6h is shorter than the recommended" in short.stderr
    long_enough = _idf(*[a if a != "6h" else "3d" for a in command], path="/nonexistent")
    assert long_enough.returncode == 0 and "warning" not in long_enough.stderr
