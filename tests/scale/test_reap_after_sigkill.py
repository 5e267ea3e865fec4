"""Issue 17's teardown guarantee without the operator: `idf scale run` killed with SIGKILL midway
(nothing of its own teardown can run) leaves the stack up; the reaper, run on its own as the
scheduled job runs it (`idf scale reap --unattended`), destroys it once it has expired, and keeps
what is not temporary or not expired. Offline: the "cloud" is a local-state directory
(idf_ops/scale/local_state.py) and `up` is the mock-engine plan of the committed stack file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from idf_core.paths import REPO_ROOT
from idf_ops.scale.local_state import LOCAL_STATE_ENV, LocalStackState, LocalStateWorkspace
from support.cli import run_idf

STACK = "qserv-scale75"


def _killed_run(state_dir: Path, tmp_path: Path) -> None:
    """Start the run, wait until its test command runs, SIGKILL its whole process group."""
    marker = tmp_path / "body-started"
    env = {
        **os.environ,
        "PYTHONPATH": f"{REPO_ROOT}:{REPO_ROOT / 'tests'}",
        "IDF_STATE_DIR": str(tmp_path / "var"),  # the run publishes outputs: not into the repo's var/
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "scale.killed_run", str(state_dir), STACK, str(marker)],
        cwd=REPO_ROOT,
        env=env,
        start_new_session=True,  # its own process group: the laptop lid closes on all of it
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not marker.exists() and child.poll() is None:
            time.sleep(0.1)
        assert marker.exists(), (
            f"the run never reached its test command:\n{child.stdout.read() if child.stdout else ''}"
        )
        os.killpg(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
        log = child.stdout.read() if child.stdout else ""
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
    assert "tearing down" not in log, "SIGKILL leaves no chance to tear down; the run must not have"


def _reap(state_dir: Path, now: datetime) -> tuple[int, list[dict[str, Any]]]:
    result = run_idf(
        "scale",
        "reap",
        "--unattended",
        "--now",
        now.isoformat(),
        env={LOCAL_STATE_ENV: str(state_dir)},
        timeout_s=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def _decisions(records: list[dict[str, Any]]) -> dict[str, str]:
    return {
        r["idf_reaper"]["stack"]: r["idf_reaper"]["action"]
        for r in records
        if r["idf_reaper"].get("action") not in (None, "run")
    }


def test_the_reaper_destroys_what_a_killed_run_left(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    _killed_run(state_dir, tmp_path)
    ws = LocalStateWorkspace(state_dir)
    left = ws.load(STACK)
    assert left.temporary and left.expires_at is not None
    pools = [urn for urn in left.resources if "gcp:container/nodePool:NodePool" in urn]
    assert len(pools) == 3, "the killed run's node pools are still there (nothing tore them down)"
    expires = left.expires_at

    # Stacks the reaper must leave alone, whatever their expiry says.
    others = [
        LocalStackState(
            stack="dev", temporary=False, expires_at=expires - timedelta(days=30), resources=["urn:dev"]
        ),
        LocalStackState(
            stack="qserv-scale-perm", temporary=False, expires_at=expires, resources=["urn:perm"]
        ),
        LocalStackState(
            stack="qserv-scale20",
            temporary=True,
            expires_at=expires + timedelta(days=3),
            resources=["urn:20"],
        ),
    ]
    for state in others:
        ws.save(state)

    # Before the expiry: nothing is destroyed.
    code, records = _reap(state_dir, expires - timedelta(hours=1))
    assert code == 0, records
    assert _decisions(records) == dict.fromkeys(["dev", "qserv-scale-perm", "qserv-scale20", STACK], "kept")
    assert ws.load(STACK).resources == left.resources

    # After it: the killed run's stack goes, the others stay as they were.
    code, records = _reap(state_dir, expires + timedelta(minutes=1))
    assert code == 0, records
    assert _decisions(records) == {
        "dev": "kept",
        "qserv-scale-perm": "kept",
        "qserv-scale20": "kept",
        STACK: "destroyed",
    }
    reasons = {
        r["idf_reaper"]["stack"]: r["idf_reaper"]["reason"] for r in records if r["idf_reaper"].get("reason")
    }
    assert "outside the reaper's reach, not read" in reasons["dev"]
    assert reasons["qserv-scale-perm"] == "not a temporary stack"
    assert reasons["qserv-scale20"].startswith("expires ")
    assert {r["severity"] for r in records if r["idf_reaper"].get("action") == "destroyed"} == {"NOTICE"}
    summary = records[-1]["idf_reaper"]
    assert (
        summary["action"] == "run" and summary["counts"]["destroyed"] == 1 and summary["counts"]["kept"] == 3
    )
    assert ws.list_stacks() == ["dev", "qserv-scale-perm", "qserv-scale20"]  # destroyed, then removed
    assert [ws.load(s.stack) for s in others] == others


def test_a_temporary_stack_without_expiry_makes_the_reaper_exit_1(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    now = datetime(2026, 12, 15, tzinfo=UTC)
    ws = LocalStateWorkspace(state_dir)
    ws.save(LocalStackState(stack="qserv-scale-x", temporary=True, expires_at=None, resources=["urn:x"]))
    code, records = _reap(state_dir, now)
    assert code == 1
    assert _decisions(records) == {"qserv-scale-x": "needs-attention"}
    assert records[0]["severity"] == "WARNING"
