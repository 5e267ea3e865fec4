"""`idf batch` against the local HTCondor pool and processing Butler (the README's main command
builds them): the small dataset processed, a restart after an injected failure, the evaluation,
and the batch milestones' gates reading that evidence. Minutes, not seconds: HTCondor schedules
each job through its negotiator, and the machine is small."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from idf_core.facts import BATCH_ENVIRONMENT
from idf_ops.batch import service
from idf_ops.batch.bench import load_evaluation
from idf_ops.gates.service import check_gates
from support.cli import run_idf

pytestmark = pytest.mark.local_stack

# Two patches in two bands of one tract: 4 measurements, 2 merges, 1 tract, 1 summary.
SUBSET = "tract = 3828 AND patch IN (0, 1) AND band IN ('u', 'g')"
RUN_TIMEOUT_S = 900


def _submitted(result: subprocess.CompletedProcess[str]) -> service.RunRecord:
    """The record of the run this `idf batch submit` started (it names it on stderr)."""
    match = re.search(r"^submitted (\S+) ", result.stderr, re.MULTILINE)
    assert match, result.stdout + result.stderr
    return service.load_record(match.group(1))


def test_the_small_dataset_is_processed_and_every_output_exists_once() -> None:
    result = run_idf("batch", "submit", "--label", "ci-small", timeout_s=RUN_TIMEOUT_S)
    assert result.returncode == 0, result.stdout + result.stderr
    record = _submitted(result)
    # 2 tracts x 9 patches x 3 bands measured, 18 merged, 2 tracts gathered, 1 summary.
    assert record.quanta == {"measurePatch": 54, "mergeBands": 18, "tractSummary": 2, "runSummary": 1}
    assert record.complete, record
    assert record.output_run.startswith("2.2i/runs/DP0.2/ci-small/")


def test_an_injected_failure_is_restarted_to_completion_with_each_output_once() -> None:
    failed = run_idf(
        "batch",
        "submit",
        "--label",
        "ci-restart",
        "--where",
        SUBSET,
        "--inject-failure",
        "3828-0-u",
        timeout_s=RUN_TIMEOUT_S,
    )
    assert failed.returncode == 1, failed.stdout + failed.stderr
    record = _submitted(failed)
    assert record.state == "FAILED"
    assert record.job_state_counts.get("FAILED") == 1
    assert "dp02_run_summary" not in record.outputs
    restarted = run_idf("batch", "restart", record.run_name, timeout_s=RUN_TIMEOUT_S)
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    record = service.load_record(record.run_name)
    assert record.restarts
    assert record.complete, record
    assert record.outputs == {
        "dp02_patch_measurement": 4,
        "dp02_patch_object": 2,
        "dp02_tract_summary": 1,
        "dp02_run_summary": 1,
    }
    # The injected failure happened once: its fail-once marker was consumed.
    assert record.fault_dir
    assert not list(Path(BATCH_ENVIRONMENT.host(record.fault_dir)).iterdir())
    report = run_idf("batch", "report", record.run_name, "--json")
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)[0]["complete"] is True


def test_the_evaluation_compares_htcondor_parsl_and_one_process() -> None:
    result = run_idf("batch", "bench", "--sizes", "8", timeout_s=RUN_TIMEOUT_S)
    assert result.returncode == 0, result.stdout + result.stderr
    (row,) = load_evaluation().rows
    assert row.quanta == 8
    assert row.htcondor_failures == 0
    assert row.htcondor_wall_s > 0
    assert row.single_wall_s > 0
    # The second WMS ran the same pipeline: every output once, in its own RUN collection.
    assert row.parsl_failures == 0
    assert row.parsl_wall_s
    assert row.parsl_run
    parsl = service.load_record(row.parsl_run)
    assert parsl.wms == "parsl"
    assert parsl.outputs == {
        "dp02_patch_measurement": 4,
        "dp02_patch_object": 2,
        "dp02_tract_summary": 1,
        "dp02_run_summary": 1,
    }
    assert parsl.duplicates == 0
    assert parsl.output_run.startswith("2.2i/runs/DP0.2/bench-parsl-8/")


def test_batch_milestones_pass_with_their_evidence() -> None:
    milestones = [
        "L3-MW-0050",
        "L3-MW-0060",
        "L3-MW-0040",
        "L3-MW-0070",
        "L2-DP-0030",
        "TL-TEST-BATCH-PROCESSING",
    ]
    report = check_gates("local", milestones)
    gates = {g.id: g for row in report.checkpoints for g in row.gates}
    failing = {gid: g.reason for gid, g in gates.items() if g.status != "pass"}
    assert not failing, failing
    assert "2.2i/runs/DP0.2/" in " ".join(gates["batch-small-dataset"].evidence)
    assert "slot" in " ".join(gates["batch-pool"].evidence)
