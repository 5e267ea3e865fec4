"""The 75 % checkpoint reads the summary of a load test on a scale stack whose loaded rows, recorded
by the ingest step, meet 75 % of DR1 (both verdicts, and the refusal of planned-but-not-counted rows)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from gates.conftest import local_outputs, state_dir, write_outputs  # noqa: F401 - a fixture
from gates.test_loadtest_gate import NOW, summary
from gates.test_verdicts import _provenance

from idf_core.contract import StackOutputs
from idf_ops.gates.service import check_gates
from idf_ops.loadtest.provenance import stack_provenance
from idf_ops.scale.ingest import IngestState, read_record, write_record
from idf_ops.scale.sizing import DR1_ROWS_PER_TABLE

STACK = "qserv-scale-ev"
TABLES = ("object", "truth_match", "forced_photometry", "position", "reference")


def _state(objects_per_chunk: int, chunks: int) -> IngestState:
    loaded = {
        t: {c: round(objects_per_chunk * (1.1 if t == "truth_match" else 1)) for c in range(chunks)}
        for t in TABLES
    }
    return IngestState(database="dp01_scale", loaded=loaded, chunks_total=chunks)


def _gate(state: Path, tmp_path: Path) -> Any:
    doc = local_outputs(STACK, 1, tmp_path)
    write_outputs(state, doc)
    run = summary(profile="qserv-kpm-75pct", stack=STACK)
    run["provenance"] = json.loads(stack_provenance(StackOutputs.model_validate(doc)).model_dump_json())
    path = state / "loadtests" / STACK / "qserv-kpm-75pct" / "run-1" / "summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run))
    return check_gates(STACK, ["TL-QSERV-SCALE-TEST"], now=NOW).checkpoints[0].gates[0]


def test_loaded_rows_at_75_percent_pass(state_dir: Path, tmp_path: Path) -> None:  # noqa: F811
    chunks = 3568  # the 75 % layout (idf_ops.scale.generate.scale_chunks)
    per_chunk = int(DR1_ROWS_PER_TABLE["Object"] * 0.75 / chunks) + 1
    write_record(STACK, _state(per_chunk, chunks), tables=len(TABLES))
    record = read_record(STACK)
    assert record is not None and record.complete and record.rows_per_table["object"] == per_chunk * chunks
    gate = _gate(state_dir, tmp_path)
    assert gate.status == "pass", gate.reason
    assert any("ingest-record" in line and "3568/3568 chunks" in line for line in gate.evidence)


def test_an_interrupted_ingest_does_not_pass(state_dir: Path, tmp_path: Path) -> None:  # noqa: F811
    chunks = 3568
    per_chunk = int(DR1_ROWS_PER_TABLE["Object"] * 0.75 / chunks) + 1
    state = _state(per_chunk, chunks)
    for table in TABLES:  # killed at the half: half of the chunks loaded
        state.loaded[table] = {c: n for c, n in state.loaded[table].items() if c < chunks // 2}
    write_record(STACK, state, tables=len(TABLES))
    gate = _gate(state_dir, tmp_path)
    assert gate.status == "fail"
    assert (
        "below 75% of DR1" in gate.reason
        and "forced_photometry" in gate.reason
        and "ingest-record" in gate.reason
    )


def test_without_an_ingest_record_planned_rows_are_not_evidence(state_dir: Path, tmp_path: Path) -> None:  # noqa: F811
    rows = {table: round(n * 0.75) + 1 for table, n in DR1_ROWS_PER_TABLE.items()}
    write_outputs(state_dir, local_outputs(STACK, 1, tmp_path))
    run = summary(profile="qserv-kpm-75pct", stack=STACK)
    run["provenance"] = _provenance(STACK, "scale", rows, "scale-plan")
    path = state_dir / "loadtests" / STACK / "qserv-kpm-75pct" / "run-1" / "summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run))
    gate = check_gates(STACK, ["TL-QSERV-SCALE-TEST"], now=NOW).checkpoints[0].gates[0]
    assert gate.status == "fail" and "planned, not counted" in gate.reason
    assert "idf scale run --ingest-from" in gate.reason


@pytest.mark.parametrize("missing", ["forced_photometry", "reference"])
def test_every_per_object_table_is_gated(state_dir: Path, tmp_path: Path, missing: str) -> None:  # noqa: F811
    chunks = 3568
    per_chunk = int(DR1_ROWS_PER_TABLE["Object"] * 0.75 / chunks) + 1
    state = _state(per_chunk, chunks)
    state.loaded[missing] = {0: 1}
    write_record(STACK, state, tables=len(TABLES))
    gate = _gate(state_dir, tmp_path)
    assert gate.status == "fail" and f"{missing} 1 rows" in gate.reason
