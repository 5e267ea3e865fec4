"""Offline tests of `idf batch`: inputs checked before anything runs, BPS output parsed, the run
record's completeness rule, the gates' evidence rules, and facts that must agree across the two
Python environments (the host's and the batch environment's)."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import jinja2
import pytest
import yaml

from idf_clients.batch import BatchClient
from idf_core.contract import StackOutputs
from idf_core.errors import OperationFailed
from idf_core.facts import BATCH_ENVIRONMENT
from idf_core.paths import REPO_ROOT
from idf_ops.batch import service
from idf_ops.gates.checks import batch as batch_checks
from idf_ops.gates.checks.base import Budget, CheckContext, CheckFailedError
from support.cli import run_idf

INPUTS = REPO_ROOT / "batch" / "src" / "idf_batch_tasks" / "inputs.py"


def _module_constant(path: Path, name: str) -> object:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not found in {path}")


def test_batch_environment_tracts_and_bands_agree_with_the_service() -> None:
    # The batch package runs under another Python and cannot import idf_core: the lists are kept
    # twice, and this test is what keeps them equal.
    tracts = _module_constant(INPUTS, "DC2_TRACTS")
    assert isinstance(tracts, tuple)
    assert tracts[: len(service.DC2_TRACTS)] == service.DC2_TRACTS
    assert _module_constant(INPUTS, "BANDS") == service.BANDS
    assert _module_constant(INPUTS, "INPUT_COLLECTION") == "2.2i/inputs/dp02-small"


def test_role_defaults_agree_with_the_batch_facts() -> None:
    defaults = yaml.safe_load((REPO_ROOT / "ansible/roles/batch/defaults/main.yml").read_text())
    render = jinja2.Environment(autoescape=False).from_string  # noqa: S701 - paths, not HTML
    env = BATCH_ENVIRONMENT
    expected = {
        "batch_root": env.root,
        "batch_user": env.user,
        "batch_uid": env.uid,
        "batch_venv": env.venv,
        "batch_share": env.share,
        "batch_data": env.data,
        "batch_database": env.database,
        "batch_processing_role": env.processing_role,
    }
    actual = {
        k: defaults[k] if isinstance(defaults[k], int) else render(defaults[k]).render() for k in expected
    }
    assert actual == expected
    small = (defaults["batch_input_tracts"], defaults["batch_input_patches"], defaults["batch_input_bands"])
    assert small == service.SMALL_DATASET


def test_bps_output_is_parsed_and_a_missing_run_id_is_an_error() -> None:
    client = BatchClient()
    out = (
        "lsst.ctrl.bps.htcondor.htcondor_service INFO: Submitting from directory: "
        "/var/lib/idf-batch/submit/2.2i/runs/DP0.2/small/20261202T020148Z\n"
        "Run Id: 12.0\nRun Name: 2.2i_runs_DP0.2_small_20261202T020148Z\n"
    )
    started = client.started_run(out)
    assert (started.run_id, started.run_name) == ("12.0", "2.2i_runs_DP0.2_small_20261202T020148Z")
    assert started.submit_path.endswith("/small/20261202T020148Z")
    with pytest.raises(OperationFailed, match="no run id"):
        client.started_run("lsst.ctrl.bps.drivers INFO: nothing submitted\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--label", "Bad Label!"], "--label"),
        (["--inject-failure", "3828:0:u"], "TRACT-PATCH-BAND"),
        (["--where", "x" * 2001], "--where"),
    ],
)
def test_bad_submit_input_exits_2_before_anything_runs(args: list[str], message: str) -> None:
    result = run_idf("batch", "submit", *args, env={"IDF_STATE_DIR": "/nonexistent-state"})
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def _record(**changes: object) -> service.RunRecord:
    base: dict[str, object] = {
        "run_name": "2.2i_runs_DP0.2_t_20261202T000000Z",
        "run_id": "3.0",
        "submit_path": "/var/lib/idf-batch/submit/2.2i/runs/DP0.2/t/20261202T000000Z",
        "output_run": "2.2i/runs/DP0.2/t/20261202T000000Z",
        "label": "t",
        "where": "",
        "submitted_at": "2026-12-02T00:00:00+00:00",
        "state": "SUCCEEDED",
        "quanta": {"measurePatch": 4, "mergeBands": 2, "tractSummary": 1, "runSummary": 1},
        "outputs": {
            "dp02_patch_measurement": 4,
            "dp02_patch_object": 2,
            "dp02_tract_summary": 1,
            "dp02_run_summary": 1,
        },
    }
    return service.RunRecord.model_validate(base | changes)


@pytest.mark.parametrize(
    ("changes", "complete"),
    [
        ({}, True),
        ({"state": "FAILED"}, False),
        ({"duplicates": 1}, False),
        ({"outputs": {"dp02_patch_measurement": 3, "dp02_patch_object": 2}}, False),
        ({"quanta": {}}, False),
    ],
)
def test_a_run_is_complete_only_when_every_output_exists_once(
    changes: dict[str, object], complete: bool
) -> None:
    record = _record(**changes)
    assert record.complete is complete
    assert record.total_quanta == (8 if "quanta" not in changes else 0)


def _context() -> CheckContext:
    outputs = StackOutputs.model_validate_json((REPO_ROOT / "var/stacks/local/outputs.json").read_text())
    return CheckContext(
        outputs=outputs, now=dt.datetime.now(dt.UTC), loadtests_dir=REPO_ROOT / "var/loadtests"
    )


def _write(tmp: Path, *records: service.RunRecord) -> None:
    folder = tmp / "local" / "batch" / "runs"
    folder.mkdir(parents=True)
    for record in records:
        (folder / f"{record.run_name}.json").write_text(record.model_dump_json())


def test_restart_gate_needs_a_restarted_run_with_injected_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not (REPO_ROOT / "var/stacks/local/outputs.json").exists():
        pytest.fail("var/stacks/local/outputs.json is missing: `idf local up` writes it")
    monkeypatch.setenv("IDF_STATE_DIR", str(tmp_path))
    budget = Budget(deadline=float("inf"))
    ctx = _context()
    _write(tmp_path, _record(run_name="plain"))
    with pytest.raises(CheckFailedError, match="no restarted run"):
        batch_checks.check_batch_restart(ctx, None, budget)  # type: ignore[arg-type]
    _write_more = tmp_path / "local" / "batch" / "runs" / "restarted.json"
    _write_more.write_text(
        _record(
            run_name="restarted", injected_failures=["3828-0-u"], restarts=["4.0"], duplicates=1
        ).model_dump_json()
    )
    with pytest.raises(CheckFailedError, match="did not complete"):
        batch_checks.check_batch_restart(ctx, None, budget)  # type: ignore[arg-type]
    _write_more.write_text(
        _record(run_name="restarted", injected_failures=["3828-0-u"], restarts=["4.0"]).model_dump_json()
    )
    outcome = batch_checks.check_batch_restart(ctx, None, budget)  # type: ignore[arg-type]
    assert "3828-0-u" in outcome.reason
    assert "1 restart(s)" in outcome.evidence[0]


def test_small_dataset_gate_ignores_runs_over_a_subset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not (REPO_ROOT / "var/stacks/local/outputs.json").exists():
        pytest.fail("var/stacks/local/outputs.json is missing: `idf local up` writes it")
    monkeypatch.setenv("IDF_STATE_DIR", str(tmp_path))
    budget = Budget(deadline=float("inf"))
    _write(tmp_path, _record(run_name="subset", where="tract = 3828"))
    with pytest.raises(CheckFailedError, match="whole small dataset"):
        batch_checks.check_batch_small_dataset(_context(), None, budget)  # type: ignore[arg-type]
