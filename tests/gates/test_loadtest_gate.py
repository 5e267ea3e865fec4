"""The scale-test gates: the newest summary of the right profile, recent, with every SLO held."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from idf_ops.gates.service import check_gates

from .conftest import local_outputs, write_outputs

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def summary(profile: str = "tap-scale", stack: str = "lt", age_h: float = 2.0, slo_verdict: str = "pass",
            verdict: str = "pass") -> dict[str, Any]:  # fmt: skip
    """A summary.json as `idf loadtest run` writes it (idf_ops.loadtest.report.RunSummary)."""
    finished = NOW - dt.timedelta(hours=age_h)
    actual = 900.0 if slo_verdict == "pass" else 12000.0
    stats = {
        "kind": "tap.lv.cone.object",
        "request_type": "GET",
        "count": 600,
        "failures": 0,
        "p50_ms": 300.0,
        "p95_ms": actual,
        "p99_ms": actual,
        "max_ms": actual,
        "requests_per_s": 2.0,
    }
    return {
        "schema_version": 1,
        "profile": profile,
        "profile_description": "test profile",
        "stack": stack,
        "output_dir": f"/work/main/var/loadtests/{stack}/{profile}/run-1",
        "targets": {"tap": "http://127.0.0.1:8080/tap"},
        "started_at": (finished - dt.timedelta(minutes=10)).isoformat(),
        "finished_at": finished.isoformat(),
        "duration_s": 600.0,
        "users": 20,
        "verdict": verdict,
        "failed_slos": [] if slo_verdict == "pass" else ["tap.lv.*"],
        "request_kinds": [stats],
        "total": None,
        "slos": [
            {
                "kind": "tap.lv.*",
                "matched_kinds": ["tap.lv.cone.object"],
                "verdict": slo_verdict,
                "checks": [
                    {
                        "kind": "tap.lv.cone.object",
                        "metric": "p95_ms",
                        "threshold": 10000.0,
                        "actual": actual,
                        "verdict": slo_verdict,
                    },
                ],
            }
        ],
        "locust": {
            "workers": 1,
            "exit_code": 0,
            "cpu_seconds": 30.0,
            "cpu_share_of_machine": 0.1,
            "cores": 2,
        },
        "artifacts": {},
    }


def _write(state: Path, doc: dict[str, Any], run: str = "run-1", profile: str = "tap-scale") -> None:
    path = state / "loadtests" / "lt" / profile / run / "summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


def _gate(state: Path, tmp_path: Path, max_age: float | None = None) -> Any:
    write_outputs(state, local_outputs("lt", 1, tmp_path))
    report = check_gates("lt", ["TL-TAP-SCALE-TEST"], now=NOW, max_loadtest_age_hours=max_age)
    return report, report.checkpoints[0].gates[0]


def test_fresh_passing_summary_passes(state_dir: Path, tmp_path: Path) -> None:
    _write(state_dir, summary())
    report, gate = _gate(state_dir, tmp_path)
    assert gate.status == "pass", gate.reason
    assert report.ok and report.checkpoints[0].status == "pass"
    assert any("SLO tap.lv.*: pass" in line for line in gate.evidence)


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (summary(age_h=200), "h old (limit 168 h)"),
        (summary(slo_verdict="fail", verdict="fail"), "failed SLOs: tap.lv.*"),
        (summary(verdict="fail"), "failed SLOs: fail"),
        (summary(profile="smoke"), "profile 'smoke', expected 'tap-scale'"),
        (summary(stack="dp01"), "stack 'dp01', expected 'lt'"),
        ({**summary(), "slos": []}, "lists no SLO verdicts"),
        ({"profile": "tap-scale"}, "not a valid load-test summary"),
        ({**summary(), "schema_version": 2}, "not a valid load-test summary"),
    ],
)
def test_bad_summaries_fail(state_dir: Path, tmp_path: Path, doc: dict[str, Any], reason: str) -> None:
    _write(state_dir, doc)
    report, gate = _gate(state_dir, tmp_path)
    assert gate.status == "fail"
    assert reason in gate.reason
    assert not report.ok


def test_newest_summary_decides(state_dir: Path, tmp_path: Path) -> None:
    _write(state_dir, summary(age_h=5, slo_verdict="fail", verdict="fail"), run="older")
    _write(state_dir, summary(age_h=1), run="newer")
    _, gate = _gate(state_dir, tmp_path)
    assert gate.status == "pass", gate.reason


def test_age_limit_override(state_dir: Path, tmp_path: Path) -> None:
    _write(state_dir, summary(age_h=2))
    _, gate = _gate(state_dir, tmp_path, max_age=1.0)
    assert gate.status == "fail" and "limit 1 h" in gate.reason


def test_missing_summary_says_how_to_produce_it(state_dir: Path, tmp_path: Path) -> None:
    _, gate = _gate(state_dir, tmp_path)
    assert gate.status == "fail"
    assert "idf loadtest run tap-scale --stack lt" in gate.reason
