"""Wrong answers are failures: HTTP 400, HTTP 200 + QUERY_STATUS=ERROR, a failed notebook cell or spawn.

Each case runs `idf loadtest run` (real Locust, bounded) against a fake service on 127.0.0.1 that
misbehaves in one way, and checks the counts in summary.json; the same run against the fake in
its `ok` mode passes, so the tests fail if the users stop checking responses.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from loadtest_helpers import run_idf, write_fake_stack, write_profile

TAP_CLASSES = [
    {"class": "TapLowVolumeUser", "fixed_count": 1},
    {"class": "TapHighVolumeUser", "fixed_count": 1},
]
TAP_SLOS = [{"kind": "tap.lv.*", "min_requests": 3}, {"kind": "tap.hv.*", "min_requests": 1}]


def _run(tmp_path: Path, profile: Path, stack: str = "fake") -> tuple[int, dict[str, Any], str]:
    out = tmp_path / "out"
    result = run_idf(
        tmp_path, "loadtest", "run", str(profile), "--stack", stack, "--out", str(out), "--seed", "7"
    )
    assert (out / "summary.json").is_file(), result.stderr
    return result.returncode, json.loads((out / "summary.json").read_text()), result.stdout


def _by_prefix(summary: dict[str, Any], prefix: str) -> tuple[int, int]:
    kinds = [k for k in summary["request_kinds"] if k["kind"].startswith(prefix)]
    return sum(k["count"] for k in kinds), sum(k["failures"] for k in kinds)


@pytest.mark.parametrize(
    ("mode", "expect_exit", "lv_all_failed", "hv_all_failed"),
    [("ok", 0, False, False), ("http400", 1, True, True), ("error-votable", 1, True, True)],
)
def test_tap_answers_are_judged(  # noqa: PLR0917 - pytest parameters
    tmp_path: Path,
    fake_service: Callable[[str, str], int],
    mode: str,
    expect_exit: int,
    lv_all_failed: bool,
    hv_all_failed: bool,
) -> None:
    port = fake_service("tap", mode)
    write_fake_stack(tmp_path, tap_port=port)
    profile = write_profile(tmp_path, f"tap-{mode}", users=2, user_classes=TAP_CLASSES, slos=TAP_SLOS)
    code, summary, stdout = _run(tmp_path, profile)
    assert code == expect_exit, stdout
    assert summary["verdict"] == ("pass" if expect_exit == 0 else "fail")
    lv_count, lv_failures = _by_prefix(summary, "tap.lv.")
    hv_count, hv_failures = _by_prefix(summary, "tap.hv.")
    assert lv_count >= 3 and hv_count >= 1
    out = tmp_path / "out"
    assert (out / "latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<html" in (out / "report.html").read_text()[:1000].lower()
    assert (out / "locust_stats.csv").stat().st_size > 0
    # Bounded by count: 2 users x 4 iterations end the run well before its 20 s run time.
    assert lv_count + hv_count <= 8
    assert summary["duration_s"] < 20
    assert lv_failures == (lv_count if lv_all_failed else 0)
    # Locust's own merged distribution per SLO pattern agrees with the per-kind rows.
    groups = {group["kind"]: group for group in summary["groups"]}
    assert (groups["tap.lv.*"]["count"], groups["tap.lv.*"]["failures"]) == (lv_count, lv_failures)
    assert hv_failures == (hv_count if hv_all_failed else 0)
    if expect_exit:
        assert "tap.lv.*" in summary["failed_slos"]
        assert "SLO tap.lv.*: fail" in stdout


def test_error_votable_message_is_recorded(tmp_path: Path, fake_service: Callable[[str, str], int]) -> None:
    port = fake_service("tap", "error-votable")
    write_fake_stack(tmp_path, tap_port=port)
    profile = write_profile(tmp_path, "tap-errmsg", users=1, max_iterations_per_user=2)
    _run(tmp_path, profile)
    # The summary's errors come from the statistics written at shutdown; Locust's own
    # locust_failures.csv is sampled once a second and can miss a run this short.
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    errors = [e["error"] for e in summary["errors"] if e["kind"].startswith("tap.lv.")]
    assert errors and all(e.startswith("QUERY_STATUS=ERROR: Could not parse your query") for e in errors)


HUB_STEPS = ("hub.user.create", "hub.token", "hub.spawn.request", "hub.spawn.progress", "hub.stop.request")


def _run_notebook(
    tmp_path: Path, fake_service: Callable[[str, str], int], mode: str
) -> tuple[int, dict[str, Any], str]:
    port = fake_service("hub", mode)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "jupyterhub_api_token").write_text("not-a-real-token\n")
    write_fake_stack(tmp_path, hub_port=port, secrets_dir=secrets)
    profile = write_profile(
        tmp_path,
        f"hub-{mode}",
        users=1,
        max_iterations_per_user=3,
        user_classes=[{"class": "NotebookUser", "weight": 1}],
        notebook={
            "spawn_batch_size": 1,
            "spawn_batch_wait_s": 0,
            "executions_per_lab": 2,
            "cell_timeout_s": 10,
        },
        slos=[{"kind": "lab.execute.*", "min_requests": 3}, {"kind": "hub.spawn", "min_requests": 1}],
    )
    return _run(tmp_path, profile)


@pytest.mark.parametrize(("mode", "expect_exit"), [("ok", 0), ("cell-error", 1)])
def test_failed_cell_is_a_failure(
    tmp_path: Path, fake_service: Callable[[str, str], int], mode: str, expect_exit: int
) -> None:
    code, summary, stdout = _run_notebook(tmp_path, fake_service, mode)
    assert code == expect_exit, stdout
    count, failures = _by_prefix(summary, "lab.execute.")
    assert count == 3
    assert failures == (3 if mode == "cell-error" else 0)
    spawn_count, spawn_failures = _by_prefix(summary, "hub.spawn")
    assert spawn_count >= 1 and spawn_failures == 0
    assert _by_prefix(summary, "hub.")[1] == 0, summary["errors"]
    for step in HUB_STEPS:  # each hub API request of idf_clients.hub reported under its own name
        assert _by_prefix(summary, step)[0] >= 1, (step, [k["kind"] for k in summary["request_kinds"]])


def test_failed_spawn_is_a_failure(tmp_path: Path, fake_service: Callable[[str, str], int]) -> None:
    """A spawn whose progress stream ends with a failed event fails at once (no polling to a timeout)."""
    code, summary, stdout = _run_notebook(tmp_path, fake_service, "spawn-failed")
    assert code == 1, stdout
    kinds = {k["kind"]: k for k in summary["request_kinds"]}
    assert kinds["hub.spawn"]["count"] == kinds["hub.spawn"]["failures"] == 3
    assert kinds["hub.spawn.progress"]["count"] == kinds["hub.spawn.progress"]["failures"] == 3
    assert kinds["hub.spawn.request"]["failures"] == 0
    assert _by_prefix(summary, "lab.execute.")[0] == 0
    errors = [e["error"] for e in summary["errors"] if e["kind"] == "hub.spawn"]
    assert errors and all("Spawn failed: no image" in e for e in errors)
    assert summary["duration_s"] < 60


@pytest.mark.parametrize("workers", [1, 2])
def test_job_still_running_when_the_run_ends_is_a_failure(
    tmp_path: Path, fake_service: Callable[[str, str], int], workers: int
) -> None:
    """A jammed async queue: the run ends at its run time and each unfinished job counts as failed.

    With workers, this needs the master to stop them gracefully before quitting (Locust's own
    --run-time would lose the workers' last statistics).
    """
    write_fake_stack(tmp_path, tap_port=fake_service("tap", "stuck"))
    profile = write_profile(
        tmp_path,
        "tap-stuck",
        users=2,
        run_time_s=6,
        stop_timeout_s=1,
        tap_job_timeout_s=600,
        user_classes=[{"class": "TapHighVolumeUser", "weight": 1}],
        slos=[{"kind": "tap.hv.*", "min_requests": 1}],
    )
    out = tmp_path / "out"
    result = run_idf(
        tmp_path,
        "loadtest",
        "run",
        str(profile),
        "--stack",
        "fake",
        "--out",
        str(out),
        "--workers",
        str(workers),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    summary = json.loads((out / "summary.json").read_text())
    count, failures = _by_prefix(summary, "tap.hv.")
    assert count == failures == 2
    assert summary["duration_s"] < 60
    assert summary["errors"][0]["kind"].startswith("tap.hv.")
    assert "run ended before the job finished" in summary["errors"][0]["error"]
