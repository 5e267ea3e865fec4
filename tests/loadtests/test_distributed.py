"""Locust's distributed mode on this machine: one master + N worker processes, statistics merged."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from loadtest_helpers import run_idf, write_fake_stack, write_profile


def test_two_workers_share_the_users_and_the_master_merges_their_statistics(
    tmp_path: Path, fake_service: Callable[[str, str], int]
) -> None:
    write_fake_stack(tmp_path, tap_port=fake_service("tap", "ok"))
    profile = write_profile(tmp_path, "two-workers", users=4, max_iterations_per_user=3)
    out = tmp_path / "out"
    result = run_idf(
        tmp_path, "loadtest", "run", str(profile), "--stack", "fake", "--workers", "2", "--out", str(out)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["locust"]["workers"] == 2
    lv = sum(k["count"] for k in summary["request_kinds"] if k["kind"].startswith("tap.lv."))
    assert lv == 4 * 3  # every user of both workers ran its 3 iterations, all reported to the master
    # Each worker sampled object ids once (test_start runs per load-generating process).
    setup = next(k for k in summary["request_kinds"] if k["kind"] == "tap.setup.sample_ids")
    assert setup["count"] == 2
    logs = sorted(p.name for p in out.glob("locust-worker-*.log"))
    assert logs == ["locust-worker-0.log", "locust-worker-1.log"]
