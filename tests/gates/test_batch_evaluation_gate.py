"""L3-MW-0040's gate reads the BPS evaluation report: HTCondor and the second WMS (ctrl_bps_parsl)
side by side, each size without failures; an older report without the second WMS, or a failed one,
does not pass."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest

from idf_core.contract import StackOutputs
from idf_core.paths import state_dir as make_state_dir
from idf_ops.batch.bench import Evaluation, EvaluationRow
from idf_ops.gates.checks.base import Budget, CheckContext, CheckFailedError
from idf_ops.gates.checks.batch import check_batch_evaluation
from idf_ops.gates.registry import PlainGate

from .conftest import local_outputs

GATE = PlainGate(id="batch-evaluation", check="batch-evaluation", title="the BPS evaluation", timeout_s=5)
HTCONDOR: dict[str, Any] = {
    "quanta": 50,
    "jobs": 5,
    "htcondor_run": "2.2i_runs_DP0.2_bench-50_20261203T130700Z",
    "htcondor_wall_s": 41.2,
    "htcondor_quanta_per_s": 1.21,
    "htcondor_failures": 0,
    "single_wall_s": 9.0,
    "single_quanta_per_s": 5.53,
    "overhead_per_quantum_s": 0.64,
}
PARSL: dict[str, Any] = {
    "parsl_run": "2.2i_runs_DP0.2_bench-parsl-50_20261203T130800Z",
    "parsl_wall_s": 30.5,
    "parsl_quanta_per_s": 1.64,
    "parsl_failures": 0,
}


def _check(state_dir: Path, tmp_path: Path, row: dict[str, Any]) -> Any:
    evaluation = Evaluation(measured_at="2026-12-03T13:13:00+00:00", machine="vm (2 cores)",
                            rows=[EvaluationRow.model_validate(row)])  # fmt: skip
    (make_state_dir("local", "batch") / "evaluation.json").write_text(evaluation.model_dump_json())
    outputs = StackOutputs.model_validate(local_outputs("local", 9, tmp_path))
    ctx = CheckContext(outputs=outputs, now=dt.datetime.now(dt.UTC), loadtests_dir=tmp_path)
    return check_batch_evaluation(ctx, GATE, Budget(deadline=time.monotonic() + 5))


def test_htcondor_and_parsl_side_by_side_pass(state_dir: Path, tmp_path: Path) -> None:
    outcome = _check(state_dir, tmp_path, {**HTCONDOR, **PARSL})
    (row,) = outcome.evidence
    assert "HTCondor 41 s (1.21/s, 0 failed)" in row
    assert "parsl 30 s (1.64/s, 0 failed)" in row


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (HTCONDOR, "lacks a successful second WMS"),
        ({**HTCONDOR, **PARSL, "parsl_failures": 1}, "lacks a successful second WMS"),
        ({**HTCONDOR, **PARSL, "htcondor_failures": 2}, "no successful size"),
    ],
    ids=["report-without-parsl", "parsl-failed", "htcondor-failed"],
)
def test_an_evaluation_without_both_wms_succeeding_fails(
    state_dir: Path, tmp_path: Path, row: dict[str, Any], message: str
) -> None:
    with pytest.raises(CheckFailedError, match=message):
        _check(state_dir, tmp_path, row)
