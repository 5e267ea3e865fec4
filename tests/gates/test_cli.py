"""`idf gates check`: exit codes (0 all required pass, 1 otherwise, 2 bad input) and its files."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from idf_ops.cli.main import main

from .conftest import gcp_offline_outputs, local_outputs, write_outputs
from .test_loadtest_gate import _write, summary

Capture = pytest.CaptureFixture[str]


def _idf(*args: str) -> int:
    return main(["gates", "check", *args])


def test_unknown_milestone_is_exit_2(state_dir: Path, tmp_path: Path, capsys: Capture) -> None:
    write_outputs(state_dir, local_outputs("lt", 1, tmp_path))
    assert _idf("L9-XX-0000", "--stack", "lt") == 2
    err = capsys.readouterr().err
    assert "unknown milestone L9-XX-0000" in err and "L2-DP-0010" in err


def test_unknown_stack_is_exit_2(state_dir: Path, capsys: Capture) -> None:
    assert _idf("--stack", "nosuchstack") == 2
    assert "no outputs for stack 'nosuchstack'" in capsys.readouterr().err


def test_invalid_registry_is_exit_2(state_dir: Path, tmp_path: Path, capsys: Capture) -> None:
    write_outputs(state_dir, local_outputs("lt", 1, tmp_path))
    bad = tmp_path / "registry.yaml"
    bad.write_text(
        "source: x\nmilestones: []\ntimeline: [{id: TL-X, month: '2021-13', title: hello world}]\n"
    )
    assert _idf("--stack", "lt", "--registry", str(bad)) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "timeline.0.month" in err


def test_bad_today_is_exit_2(state_dir: Path, tmp_path: Path, capsys: Capture) -> None:
    write_outputs(state_dir, local_outputs("lt", 1, tmp_path))
    assert _idf("--stack", "lt", "--today", "soon") == 2
    assert "--today 'soon'" in capsys.readouterr().err


def test_passing_selection_is_exit_0_and_writes_files(state_dir: Path, tmp_path: Path) -> None:
    write_outputs(state_dir, local_outputs("lt", 1, tmp_path))
    fresh = summary()
    fresh["finished_at"] = fresh["started_at"] = dt.datetime.now(dt.UTC).isoformat()
    _write(state_dir, fresh)
    out = tmp_path / "board"
    assert _idf("TL-TAP-SCALE-TEST", "--stack", "lt", "--out", str(out)) == 0
    report = json.loads((out / "gates.json").read_text())
    assert report["ok"] is True and [c["id"] for c in report["checkpoints"]] == ["TL-TAP-SCALE-TEST"]
    suites = ET.parse(out / "junit.xml").getroot()  # noqa: S314 (our own output)
    assert suites.get("tests") == "1" and suites.get("failures") == "0"
    assert "TL-TAP-SCALE-TEST" in (out / "index.html").read_text()


def test_failing_gate_is_exit_1_default_out_dir(state_dir: Path, tmp_path: Path) -> None:
    write_outputs(state_dir, local_outputs("lt", 1, tmp_path))
    assert _idf("L3-MW-0010", "--stack", "lt") == 1
    report = json.loads((state_dir / "gates" / "lt" / "gates.json").read_text())
    assert report["ok"] is False
    suites = ET.parse(state_dir / "gates" / "lt" / "junit.xml").getroot()  # noqa: S314
    assert suites.get("failures") == "2"
    assert suites.find("testsuite/testcase/failure") is not None


def test_offline_plan_never_passes_live_gates(state_dir: Path, tmp_path: Path) -> None:
    write_outputs(state_dir, gcp_offline_outputs("planned"))
    out = tmp_path / "board"
    assert _idf("L2-DP-0010", "L3-PR-0010", "--stack", "planned", "--out", str(out)) == 1
    report = json.loads((out / "gates.json").read_text())
    gates = {g["id"]: g for c in report["checkpoints"] for g in c["gates"]}
    assert gates["outputs-present"]["status"] == "pass"
    assert "offline plan" in gates["outputs-present"]["reason"]
    for gate_id in ("compute-ready", "database-reachable", "storage-present", "hub-api", "lab-spawn"):
        assert gates[gate_id]["status"] == "offline", gate_id
        assert "offline plan only" in gates[gate_id]["reason"]
    assert "OFFLINE PLAN" in (out / "index.html").read_text()


def test_live_cloud_stack_without_credentials_names_the_adc_command(
    state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "no-gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    live = {**gcp_offline_outputs("cloud"), "offline_plan": False}
    write_outputs(state_dir, live)
    out = tmp_path / "board"
    assert _idf("L2-DP-0010", "--stack", "cloud", "--out", str(out)) == 1
    gates = {g["id"]: g for g in json.loads((out / "gates.json").read_text())["checkpoints"][0]["gates"]}
    for gate_id in ("compute-ready", "database-reachable", "storage-present"):
        assert gates[gate_id]["status"] == "fail"
        assert "run `gcloud auth application-default login`" in gates[gate_id]["reason"]


@pytest.mark.parametrize("args", [["--stack", "nosuchstack"], ["L9-XX-0000", "--stack", "lt"]])
def test_console_script_bad_input_has_no_traceback(state_dir: Path, tmp_path: Path, args: list[str]) -> None:
    write_outputs(state_dir, local_outputs("lt", 1, tmp_path))
    idf = Path(sys.executable).parent / "idf"
    result = subprocess.run(
        [str(idf), "gates", "check", *args], capture_output=True, text=True, env={**os.environ},
        timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("idf: error: ")
    assert "Traceback" not in result.stderr
