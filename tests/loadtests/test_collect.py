"""`idf loadtest collect`: the reports a GKE master leaves -> summary.json with SLO verdicts.

No cluster is reachable, so the reports come from a real distributed Locust run on this machine
(master + 2 workers against the fake TAP service): the same locustfile and Locust's own CSV,
HTML and final-statistics files, copied as ``kubectl cp`` would copy the master's /reports,
plus the two files the master's wrapper adds there (run-config.json and locust-exit-code).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from loadtest_helpers import FAKES, run_idf, write_fake_stack, write_profile

from idf_ops.loadtest.collect import REQUIRED_FILES
from idf_ops.loadtest.manifests import EXIT_CODE_FILE

PROFILE = "collect-run"
_FROM_LOCAL_RUN = (
    "locust_stats.csv",
    "locust_stats_history.csv",
    "locust_failures.csv",
    "final-stats.json",
    "report.html",
    "run-config.json",
)


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    """A real Locust run (master + 2 workers): its output folder and summary."""
    state = tmp_path_factory.mktemp("run-state")
    fake = subprocess.Popen([sys.executable, str(FAKES), "tap", "ok"], stdout=subprocess.PIPE, text=True)
    try:
        assert fake.stdout is not None
        write_fake_stack(state, tap_port=int(fake.stdout.readline()))
        profile = write_profile(state, PROFILE, users=4, max_iterations_per_user=3)
        out = state / "out"
        result = run_idf(
            state, "loadtest", "run", str(profile), "--stack", "fake", "--workers", "2", "--out", str(out)
        )
        assert result.returncode == 0, result.stdout + result.stderr
        yield out, json.loads((out / "summary.json").read_text())
    finally:
        fake.terminate()
        fake.wait(timeout=10)


@pytest.fixture
def reports(tmp_path: Path, local_run: tuple[Path, dict[str, Any]]) -> Path:
    """The master's reports folder as kubectl cp leaves it; state dir = tmp_path (profile file in it)."""
    out, summary = local_run
    folder = tmp_path / "gke-reports"
    folder.mkdir()
    for name in _FROM_LOCAL_RUN:
        shutil.copy2(out / name, folder / name)
    (folder / EXIT_CODE_FILE).write_text(f"{summary['locust']['exit_code']}\n")
    write_profile(tmp_path, PROFILE, users=4, max_iterations_per_user=3)
    return folder


def _collect(state: Path, from_dir: Path, *extra: str, profile: str = "") -> subprocess.CompletedProcess[str]:
    return run_idf(
        state,
        "loadtest",
        "collect",
        profile or str(state / f"{PROFILE}.yaml"),
        "--stack",
        "fake",
        "--from",
        str(from_dir),
        *extra,
    )


def test_collect_builds_the_summary_a_local_run_would(
    tmp_path: Path,
    reports: Path,
    local_run: tuple[Path, dict[str, Any]],
) -> None:
    result = _collect(tmp_path, reports)
    assert result.returncode == 0, result.stdout + result.stderr
    # The default output folder is a local run's: where the loadtest-summary gate looks.
    written = list((tmp_path / "loadtests" / "fake" / PROFILE).glob("*/summary.json"))
    assert len(written) == 1
    summary = json.loads(written[0].read_text())
    local = local_run[1]
    assert summary["verdict"] == "pass"
    assert summary["failed_slos"] == []
    assert summary["request_kinds"] == local["request_kinds"]
    assert summary["slos"] == local["slos"]
    assert summary["targets"] == local["targets"]
    assert 0 < summary["duration_s"] <= local["duration_s"] + 2  # from Locust's one-per-second samples
    assert summary["collected_from"] == str(reports.resolve())
    # Provenance: the same stack, kind and profile content as the run; this checkout's commit.
    provenance, run_provenance = summary["provenance"], local["provenance"]
    # No outputs of the stack in this state dir: a collected run is a GKE run, its data scale unknown.
    assert (provenance["stack"], provenance["stack_kind"]) == ("fake", "gcp")
    assert provenance["data_scale"]["source"] == "unknown"
    assert "no outputs of stack 'fake'" in provenance["data_scale"]["detail"]
    assert (run_provenance["stack"], run_provenance["stack_kind"]) == ("fake", "local")
    assert provenance["profile_sha256"] == run_provenance["profile_sha256"]
    assert len(provenance["profile_sha256"]) == 64
    assert provenance["repository_commit"] == run_provenance["repository_commit"]
    assert summary["locust"] == {
        "workers": None,
        "exit_code": local["locust"]["exit_code"],
        "cpu_seconds": None,
        "cpu_share_of_machine": None,
        "cores": None,
    }
    folder = written[0].parent
    for name in (*REQUIRED_FILES, "latency.png"):
        assert (folder / name).is_file(), name
    assert (folder / "latency.png").read_bytes().startswith(b"\x89PNG")
    # The same table as `run` prints, and the verdict.
    assert "tap.lv.cone.object" in result.stdout
    assert "SLO tap.lv.*: pass" in result.stdout
    assert "its CPU was not measured" in result.stdout
    assert f"verdict: pass  ({folder}/summary.json)" in result.stdout


def test_a_failing_slo_exits_1_and_is_named(tmp_path: Path, reports: Path) -> None:
    # The same statistics, judged under the SLOs the run configuration says the run had: stricter ones.
    config = json.loads((reports / "run-config.json").read_text())
    config["profile"]["slos"][0]["min_requests"] = 1_000_000
    (reports / "run-config.json").write_text(json.dumps(config))
    out = tmp_path / "collected"
    result = _collect(tmp_path, reports, "--out", str(out))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "failed SLOs: tap.lv.*" in result.stderr
    assert "requests" in result.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["verdict"] == "fail"
    assert summary["failed_slos"] == ["tap.lv.*"]


def test_reports_nested_by_kubectl_cp_are_found(tmp_path: Path, reports: Path) -> None:
    outer = tmp_path / "copy"
    outer.mkdir()
    reports.rename(outer / "reports")
    result = _collect(tmp_path, outer, "--out", str(tmp_path / "collected"))
    assert result.returncode == 0, result.stdout + result.stderr


def _remove(name: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).unlink()


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (shutil.rmtree, "no such folder"),
        (_remove("locust_stats.csv"), "missing locust_stats.csv"),
        (_remove("final-stats.json"), "missing final-stats.json"),
        (_remove(EXIT_CODE_FILE), "still ran"),
        (
            lambda folder: (folder / "final-stats.json").write_text(
                (folder / "final-stats.json").read_text()[:100]
            ),
            "final-stats.json: not the final statistics",
        ),
        (lambda folder: (folder / "final-stats.json").write_text('{"kinds": []}'), "KeyError"),
        (lambda folder: (folder / EXIT_CODE_FILE).write_text("terminated\n"), "is not an exit code"),
        (lambda folder: (folder / "run-config.json").write_text("{}"), "not the run configuration"),
        (
            lambda folder: (folder / "locust_stats.csv").write_text("Name,Count\nx,1\n"),
            "locust_stats.csv: not Locust's statistics CSV",
        ),
        (
            lambda folder: (folder / "locust_stats_history.csv").write_text(
                (folder / "locust_stats_history.csv").read_text().splitlines()[0] + "\n"
            ),
            "no Aggregated rows",
        ),
    ],
)
def test_bad_reports_exit_2_with_the_file_and_what_to_do(
    tmp_path: Path,
    reports: Path,
    damage: Callable[[Path], object],
    expected: str,
) -> None:
    damage(reports)
    result = _collect(tmp_path, reports)
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr
    assert str(reports) in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "loadtests").exists()  # no run folder, however empty


def test_reports_of_another_profile_are_refused(tmp_path: Path, reports: Path) -> None:
    result = _collect(tmp_path, reports, "--out", str(tmp_path / "collected"), profile="smoke")
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"reports are of profile '{PROFILE}' on stack 'fake', not 'smoke' on 'fake'" in result.stderr
    assert "Traceback" not in result.stderr
