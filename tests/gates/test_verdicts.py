"""Two verdicts (automated gates green; milestones ready), attestations, and scale-test provenance."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from idf_core.contract import StackOutputs
from idf_core.paths import REPO_ROOT
from idf_ops.catalogs.load import LoadManifest
from idf_ops.cli.main import main
from idf_ops.gates.registry import REGISTRY_PATH, LoadtestGate, load_attestations, load_registry
from idf_ops.gates.render import render_html
from idf_ops.gates.service import check_gates
from idf_ops.loadtest.provenance import data_scale, stack_kind
from idf_ops.scale.sizing import DR1_ROWS_PER_TABLE

from .conftest import local_outputs, write_outputs
from .test_loadtest_gate import NOW, summary

Capture = pytest.CaptureFixture[str]
MANUAL = [c.id for c in load_registry().checkpoints if c.is_manual]
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _empty_attestations(tmp_path: Path) -> Path:
    path = tmp_path / "attestations.yaml"
    path.write_text("# test file\n# kept header\nattestations: []\n")
    return path


def _green_registry(tmp_path: Path) -> Path:
    """The real registry with every automated checkpoint's gates replaced by one offline check."""
    data = yaml.safe_load(REGISTRY_PATH.read_text())
    for item in [*data["milestones"], *data["timeline"]]:
        if item.get("gates"):
            item["gates"] = [{"id": "outputs", "check": "outputs-present", "title": "outputs are there",
                              "timeout_s": 5}]  # fmt: skip
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _attest(*args: str) -> int:
    return main(["gates", "attest", *args])


def test_local_stack_without_attestations_is_not_ready(tmp_path: Path, capsys: Capture) -> None:
    """The release check on the running local stack: exit 1, every missing attestation named."""
    attestations = _empty_attestations(tmp_path)
    out = tmp_path / "board"
    code = main(["gates", "check", "--stack", "local", "--require-attestations",
                 "--attestations", str(attestations), "--out", str(out)])  # fmt: skip
    assert code == 1
    err = " ".join(capsys.readouterr().err.split())
    assert f"{len(MANUAL)} attestation(s) missing" in err
    for checkpoint in MANUAL:
        assert checkpoint in err, checkpoint
    report = json.loads((out / "gates.json").read_text())
    assert report["ready"] is False and report["missing_attestations"] == MANUAL
    assert report["stack_kind"] == "local" and report["provenance"]["data_scale"]["source"] == "load-manifest"
    assert "synthetic rows per table" in report["synthetic_data"]["catalogs"]
    assert "no images" in report["synthetic_data"]["butler"]
    assert "NOT READY" in (out / "index.html").read_text()


def test_ready_only_with_every_attestation_and_green_gates(
    state_dir: Path, tmp_path: Path, capsys: Capture
) -> None:
    write_outputs(state_dir, local_outputs("lt", 1, tmp_path))
    registry, attestations = _green_registry(tmp_path), _empty_attestations(tmp_path)
    check = ["gates", "check", "--stack", "lt", "--registry", str(registry),
             "--attestations", str(attestations), "--out", str(tmp_path / "board")]  # fmt: skip
    # The automated part alone is green: exit 0 as before.
    assert main(check) == 0
    assert "milestones: NOT READY (missing attestations:" in capsys.readouterr().out
    # The release check needs the attestations too.
    assert main([*check, "--require-attestations"]) == 1
    assert "attestation(s) missing" in capsys.readouterr().err
    for i, checkpoint in enumerate(MANUAL):
        assert _attest(checkpoint, "--by", "Release Manager (test)", "--on", "2021-02-01",
                       "--evidence", f"https://jira.lsstcorp.org/browse/PREOPS-{i + 1}",
                       "--registry", str(registry), "--attestations", str(attestations)) == 0  # fmt: skip
    capsys.readouterr()
    assert main([*check, "--require-attestations"]) == 0
    report = json.loads((tmp_path / "board" / "gates.json").read_text())
    assert report["ok"] and report["ready"] and report["missing_attestations"] == []
    assert set(report["summary"]["checkpoints"]) == {"pass", "fail", "attested", "unattested"}
    assert report["summary"]["checkpoints"]["attested"] == len(MANUAL)


def test_attest_appends_a_validated_entry_with_the_commit(tmp_path: Path, capsys: Capture) -> None:
    attestations = _empty_attestations(tmp_path)
    checkpoint = MANUAL[0]
    assert _attest(checkpoint, "--by", "Release Manager (test)", "--evidence", "https://example.org/e",
                   "--attestations", str(attestations), "--note", "n") == 0  # fmt: skip
    text = attestations.read_text()
    assert text.startswith("# test file\n# kept header\n")
    [entry] = yaml.safe_load(text)["attestations"]
    assert entry["checkpoint"] == checkpoint and entry["evidence_url"] == "https://example.org/e"
    assert entry["attested_on"] == dt.datetime.now(dt.UTC).date().isoformat()
    assert len(entry["repository_commit"]) == 40
    assert checkpoint in load_attestations(load_registry(), attestations)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["L2-DP-0010", "--by", "Someone (x)", "--evidence", "https://e.org/1"], "has automated gates"),
        (
            [MANUAL[0], "--by", "Someone (x)", "--evidence", "https://e.org/1", "--on", "2999-01-01"],
            "in the future",
        ),
        ([MANUAL[0], "--by", "Someone (x)"], "needs an evidence URL"),
        ([MANUAL[0], "--by", "Someone (x)", "--evidence", "jira 151"], "give an http(s) URL"),
        (["L9-XX-0000", "--by", "Someone (x)", "--evidence", "https://e.org/1"], "unknown checkpoint"),
        ([MANUAL[0], "--by", "Someone (x)", "--evidence", "https://e.org/1", "--on", "soon"], "not a date"),
    ],
)
def test_attest_refusals_are_exit_2(tmp_path: Path, capsys: Capture, args: list[str], message: str) -> None:
    attestations = _empty_attestations(tmp_path)
    before = attestations.read_text()
    assert _attest(*args, "--attestations", str(attestations)) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert message in err and "Traceback" not in err
    assert attestations.read_text() == before


def _provenance(stack: str, kind: str, rows: dict[str, int], source: str = "load-manifest") -> dict[str, Any]:
    return {
        "stack": stack, "stack_kind": kind,
        "data_scale": {"source": source, "detail": "test", "rows_per_table": rows, "percent_of_dr1": None},
        "repository_commit": COMMIT, "repository_dirty": False, "profile_sha256": "ab" * 32,
    }  # fmt: skip


def _scale_gate(state: Path, tmp_path: Path, stack: str, doc: dict[str, Any]) -> Any:
    write_outputs(state, local_outputs(stack, 1, tmp_path))
    path = state / "loadtests" / stack / "qserv-kpm-75pct" / "run-1" / "summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    report = check_gates(stack, ["TL-QSERV-SCALE-TEST"], now=NOW)
    return report, report.checkpoints[0].gates[0]


def _dr1(percent: float) -> dict[str, int]:
    return {table: round(rows * percent / 100) + 1 for table, rows in DR1_ROWS_PER_TABLE.items()}


def test_local_summary_does_not_pass_the_75pct_checkpoint(state_dir: Path, tmp_path: Path) -> None:
    """A passing qserv-kpm-75pct run against the local stand-in's 100,000 rows: refused, and why."""
    rows = dict.fromkeys(("object", "forced_photometry", "position", "reference"), 100_000)
    doc = {**summary(profile="qserv-kpm-75pct", stack="local")}
    doc["provenance"] = _provenance("local", "local", rows)
    report, gate = _scale_gate(state_dir, tmp_path, "local", doc)
    assert gate.status == "fail" and not report.ok
    assert "refused for the 75% of DR1 checkpoint" in gate.reason
    assert "not on a scale-test stack" in gate.reason
    assert any(line.startswith("provenance: stack local (local)") for line in gate.evidence)
    assert "not on a scale-test stack" in render_html(report)


@pytest.mark.parametrize(
    ("provenance", "status", "reason"),
    [
        (_provenance("qserv-scale-t", "scale", _dr1(75)), "pass", "all 1 SLOs held"),
        (_provenance("qserv-scale-t", "scale", _dr1(50), "scale-plan"), "fail", "below 75% of DR1"),
        (_provenance("qserv-scale-t", "scale", {"Object": 10**11}), "fail", "Source no rows recorded"),
        (None, "fail", "records no provenance"),
    ],
)
def test_scale_checkpoint_needs_a_scale_stack_at_75pct(
    state_dir: Path, tmp_path: Path, provenance: dict[str, Any] | None, status: str, reason: str
) -> None:
    doc = summary(profile="qserv-kpm-75pct", stack="qserv-scale-t")
    if provenance is not None:
        doc["provenance"] = provenance
    _report, gate = _scale_gate(state_dir, tmp_path, "qserv-scale-t", doc)
    assert gate.status == status and reason in gate.reason, gate.reason


def test_summaries_without_a_threshold_still_pass_without_provenance(state_dir: Path, tmp_path: Path) -> None:
    """Gates with no data-scale threshold keep accepting older summaries; the evidence says so."""
    write_outputs(state_dir, local_outputs("lt", 1, tmp_path))
    path = state_dir / "loadtests" / "lt" / "tap-scale" / "run-1" / "summary.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(summary()))
    gate = check_gates("lt", ["TL-TAP-SCALE-TEST"], now=NOW).checkpoints[0].gates[0]
    assert gate.status == "pass"
    assert "provenance: none recorded" in " ".join(gate.evidence)


def test_scale_threshold_is_in_the_registry() -> None:
    gate = load_registry().get("TL-QSERV-SCALE-TEST").gates[0]  # type: ignore[union-attr]
    assert isinstance(gate, LoadtestGate) and gate.min_percent_of_dr1 == 75
    assert (REPO_ROOT / "milestones" / "registry.yaml").read_text().count("min_percent_of_dr1") == 1


def test_scale_stack_data_scale_comes_from_its_plan(state_dir: Path, tmp_path: Path) -> None:
    """The committed qserv-scale75 stack file was rendered at 75%: planned rows meet the threshold."""
    doc = local_outputs("qserv-scale75", 1, tmp_path, catalog_load_manifest="gs://bucket/manifest.json")
    outputs = StackOutputs.model_validate(doc)
    scale = data_scale(outputs)
    assert (scale.source, scale.percent_of_dr1) == ("scale-plan", 75.0)
    assert "is remote" in scale.detail and "not counted" in scale.detail
    assert scale.rows_per_table["Object"] == round(DR1_ROWS_PER_TABLE["Object"] * 0.75)
    assert stack_kind(outputs) == "scale"
    # The local stack's manifest gives counted rows, and its kind stays local.
    local = StackOutputs.model_validate(local_outputs("lt", 1, tmp_path))
    manifest = Path(local.catalog_load_manifest or "")
    manifest.parent.mkdir(parents=True)
    table = {
        "rows": 100_000,
        "key_column": "objectId",
        "checksum": "1",
        "parquet_file": "/x.parquet",
        "parquet_sha256": "0" * 64,
        "parquet_size_bytes": 1,
        "parquet_mtime_ns": 1,
        "load_seconds": 0.1,
    }
    loaded = LoadManifest.model_validate({"database": "gavo", "tables": {"object": table}})
    manifest.write_text(loaded.model_dump_json())
    counted = data_scale(local)
    assert (counted.source, counted.rows_per_table) == ("load-manifest", {"object": 100_000}), counted.detail
    assert stack_kind(local) == "local"


def test_missing_scale_summary_points_to_a_scale_stack(state_dir: Path, tmp_path: Path) -> None:
    write_outputs(state_dir, local_outputs("lt", 1, tmp_path))
    gate = check_gates("lt", ["TL-QSERV-SCALE-TEST"], now=NOW).checkpoints[0].gates[0]
    assert gate.status == "fail" and "accepts only a qserv-scale* stack" in gate.reason
    assert "--stack lt" not in gate.reason
