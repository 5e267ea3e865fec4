"""The smoke profile against the running local stack (CI): every user class, real services, SLOs hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from loadtest_helpers import run_idf

from idf_core.paths import state_dir

pytestmark = pytest.mark.local_stack


def test_smoke_profile_passes_on_the_local_stack(tmp_path: Path) -> None:
    # The real stack outputs live in the real state dir; reports go to tmp_path.
    state = state_dir().resolve()
    assert (state / "stacks" / "local" / "outputs.json").is_file(), "run `idf local up` first"
    out = tmp_path / "smoke"
    result = run_idf(state, "loadtest", "run", "smoke", "--stack", "local", "--out", str(out), timeout_s=300)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["verdict"] == "pass" and summary["stack"] == "local" and summary["profile"] == "smoke"
    kinds = {k["kind"] for k in summary["request_kinds"]}
    for prefix in ("tap.lv.", "tap.hv.", "qserv.lv.", "qserv.hv.", "lab.execute.", "hub.spawn"):
        assert any(kind.startswith(prefix) for kind in kinds), (prefix, sorted(kinds))
    for artifact in ("report.html", "locust_stats.csv", "locust_stats_history.csv", "latency.png"):
        assert (out / artifact).stat().st_size > 0, artifact
