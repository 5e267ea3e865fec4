"""Golden files of `gates.json`: the report format is reviewed as a diff.

Regenerate after an intended change with ``.venv/bin/pytest tests/gates/test_golden.py --update-test-data``
and review the diff. Times, durations and temporary paths are normalised before comparison.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml

from idf_ops.gates.render import write_all
from idf_ops.gates.report import Report
from idf_ops.gates.service import check_gates
from support.testdata import compare_text

from .conftest import gcp_offline_outputs, local_outputs, write_outputs

GOLDEN_DIR = Path(__file__).parent / "golden"
TODAY = dt.date(2021, 4, 1)
NOW = dt.datetime(2021, 4, 1, 12, 0, tzinfo=dt.UTC)


def normalise(report: Report, state: Path, tmp_path: Path) -> dict[str, Any]:
    """The report as JSON with run-dependent values replaced by placeholders."""
    text = report.model_dump_json(indent=2)
    text = text.replace(str(state), "<state>").replace(str(tmp_path), "<tmp>")
    data = json.loads(text)
    data["generated_at"] = "<generated_at>"
    data["wall_time_s"] = 0.0
    # The checkout's commit and cleanliness change with every commit: their presence is what is golden.
    provenance = data["provenance"]
    provenance["repository_commit"] = "<commit>" if provenance["repository_commit"] else None
    provenance["repository_dirty"] = "<dirty>" if provenance["repository_dirty"] is not None else None
    for row in data["checkpoints"]:
        for gate in row["gates"]:
            gate["duration_s"] = 0.0
    return data


def attestations_file(tmp_path: Path) -> Path:
    """One signed attestation (test data), to show a manual row."""
    path = tmp_path / "attestations.yaml"
    path.write_text(yaml.safe_dump({"attestations": [{
        "checkpoint": "L3-CE-0020",
        "attested_by": "Release Manager (test fixture)",
        "attested_on": "2021-02-01",
        "repository_commit": "0123456789abcdef0123456789abcdef01234567",
        "evidence_url": "https://jira.lsstcorp.org/browse/PREOPS-151",
        "note": "Test data, not a real attestation.",
    }]}))  # fmt: skip
    return path


def compare(name: str, data: dict[str, Any], update: bool) -> None:
    compare_text(GOLDEN_DIR / name, json.dumps(data, indent=2, sort_keys=True) + "\n", update)


def offline_report(state: Path, tmp_path: Path) -> Report:
    write_outputs(state, gcp_offline_outputs("planned"))
    return check_gates("planned", [], today=TODAY, now=NOW, attestations_path=attestations_file(tmp_path))


def test_gates_json_offline_plan_golden(state_dir: Path, tmp_path: Path, update_test_data: bool) -> None:
    report = offline_report(state_dir, tmp_path)
    out = tmp_path / "board"
    write_all(report, out)
    written = Report.model_validate_json((out / "gates.json").read_text())
    compare("offline-plan.gates.json", normalise(written, state_dir, tmp_path), update_test_data)


def test_gates_json_dead_local_stack_golden(
    state_dir: Path, tmp_path: Path, closed_port: int, update_test_data: bool
) -> None:
    write_outputs(state_dir, local_outputs("dead", closed_port, tmp_path))
    report = check_gates(
        "dead", ["L2-DP-0010", "L3-MW-0010", "L3-PR-0010", "L3-CE-0020"], today=TODAY, now=NOW
    )
    data = normalise(report, state_dir, tmp_path)
    text = json.dumps(data).replace(str(closed_port), "<port>")
    compare("dead-local.gates.json", json.loads(text), update_test_data)


def test_golden_catches_a_changed_status(state_dir: Path, tmp_path: Path) -> None:
    """The comparison is not vacuous: one flipped status no longer matches the golden file."""
    data = normalise(offline_report(state_dir, tmp_path), state_dir, tmp_path)
    golden = (GOLDEN_DIR / "offline-plan.gates.json").read_text()
    assert json.dumps(data, indent=2, sort_keys=True) + "\n" == golden
    data["checkpoints"][1]["status"] = "pass"
    assert json.dumps(data, indent=2, sort_keys=True) + "\n" != golden
