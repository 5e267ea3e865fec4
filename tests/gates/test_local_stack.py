"""Gates against the running local stack (`idf local up`): they pass, and with PostgreSQL stopped
exactly the PostgreSQL-dependent gates fail, with their reason, within their timeouts."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from idf_clients.probes import probe_tap
from idf_core.contract import StackOutputs, load_outputs
from idf_core.paths import REPO_ROOT, state_dir
from idf_ops.gates.checks import tap as tap_checks
from idf_ops.gates.render import write_all
from idf_ops.gates.report import GateResult, Report
from idf_ops.gates.service import check_gates

from .conftest import LIVE_CHECKPOINTS, write_outputs

pytestmark = pytest.mark.local_stack

# Gates whose service needs PostgreSQL (registry, DaCHS's database `gavo`) ... DaCHS drops its TAP
# capability while its database is gone; its VOSI availability stays "available" (static), so
# tap-availability is in neither set: that endpoint alone cannot tell (the TAP queries can).
PG_DEPENDENT = {
    "compute-ready", "database-reachable", "butler-read", "butler-write-refused", "tap-capabilities",
    "tap-query-position", "tap-query-reference", "tap-query-forced_photometry", "tap-query-object",
    "tap-query-truth_match", "tap-schema-complete",
}  # fmt: skip
# ... and gates that must keep passing without it (MariaDB stand-in, hub, files).
PG_INDEPENDENT = {
    "outputs-present", "storage-present", "qserv-frontend", "qserv-workers", "loaded-position",
    "loaded-reference", "loaded-forced_photometry", "loaded-object", "loaded-truth_match", "hub-api",
    "lab-spawn",
}  # fmt: skip
BOARD_TARGET_S = 15.0
# Where `idf local up` published the outputs: the run-state root this session started with.
REAL_STATE = Path(os.environ.get("IDF_STATE_DIR", REPO_ROOT / "var"))


def _gates(report: Report) -> dict[str, GateResult]:
    return {gate.id: gate for row in report.checkpoints for gate in row.gates}


def _local_state() -> None:
    assert (REAL_STATE / "stacks" / "local" / "outputs.json").exists(), "run `idf local up` first"


def test_dp01_gates_pass_on_local_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDF_STATE_DIR", str(REAL_STATE))
    _local_state()
    started = time.monotonic()
    report = check_gates("local", LIVE_CHECKPOINTS)
    wall = time.monotonic() - started
    failing = {g.id: g.reason for g in _gates(report).values() if g.status != "pass"}
    assert not failing, failing
    assert report.ok
    assert {row.status for row in report.checkpoints} == {"pass"}
    # A figure, not a timed assertion (the machine is shared): the board's target is printed beside it.
    print(f"DP0.1 gates took {wall:.1f} s (target {BOARD_TARGET_S} s on a quiet machine)")


def test_no_secret_reaches_the_board(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Gates read passwords and tokens from the secrets dir; none may appear in what they write."""
    monkeypatch.setenv("IDF_STATE_DIR", str(REAL_STATE))
    _local_state()
    report = check_gates("local", ["L2-DP-0010", "L3-MW-0030", "L3-MW-0010", "L3-PR-0010"])
    paths = write_all(report, tmp_path / "board")
    written = "".join(path.read_text() for path in paths.values())
    secrets_dir = Path(str(load_outputs("local").secrets_dir))
    secrets = [p.read_text().split()[0] for p in secrets_dir.iterdir() if p.is_file() and p.suffix != ".yaml"]
    assert secrets, f"no secrets found in {secrets_dir}"
    for secret in secrets:
        assert len(secret) < 8 or secret not in written


def _pg(action: str) -> None:
    # PostgreSQL is supervisord's program: stopped through it, or supervisord would restart it.
    subprocess.run(["supervisorctl", action, "idf-postgresql"], check=True, timeout=120, capture_output=True)


def _wait_for_tap(seconds: float) -> bool:
    """After PostgreSQL is back, wait until DaCHS answers a real query again (others use it)."""
    url = load_outputs("local").tap_url
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if probe_tap(url, "SELECT TOP 1 * FROM TAP_SCHEMA.tables").ok:
            return True
        time.sleep(1)
    return False


def _restore_shared_stack() -> None:
    """PostgreSQL back up, and TAP answering again: by itself, else by the TAP role's own repair."""
    _pg("start")
    if not _wait_for_tap(60):
        # DaCHS can keep a closed connection pool after a PostgreSQL restart (tests/faults measures
        # it); leave the shared stack usable whatever this test's verdict.
        subprocess.run(
            [str(REPO_ROOT / ".venv" / "bin" / "idf"), "local", "up", "--only", "tap"],
            cwd=REPO_ROOT, capture_output=True, timeout=600, check=False,
        )  # fmt: skip


def test_stopping_postgresql_turns_exactly_dependent_gates_red(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDF_STATE_DIR", str(REAL_STATE))
    _local_state()
    _pg("stop")
    try:
        started = time.monotonic()
        report = check_gates("local", LIVE_CHECKPOINTS, today=dt.date(2021, 1, 1))
        wall = time.monotonic() - started
    finally:
        _restore_shared_stack()
    gates = _gates(report)
    for gate_id in PG_DEPENDENT:
        gate = gates[gate_id]
        assert gate.status == "fail", (gate_id, gate.reason)
        assert gate.duration_s <= gate.timeout_s + 1.0, (gate_id, gate.duration_s)
    for gate_id in PG_INDEPENDENT:
        assert gates[gate_id].status == "pass", (gate_id, gates[gate_id].reason)
    assert "5432" in gates["database-reachable"].reason
    assert "postgresql" in gates["compute-ready"].reason
    assert wall < max(g.timeout_s for g in gates.values()) + 2
    # Kept as evidence next to the normal board: var/gates/local-postgres-stopped/.
    write_all(report, state_dir("gates", "local-postgres-stopped"))


# --- guards: each mutated input below must turn its gate red on the live local stack -------------


def _mutated_stack(state: Path, **update: object) -> str:
    """The local stack's real outputs with some fields changed, published as stack `mutated`."""
    real = load_outputs_from_repo()
    doc = json.loads(real.model_dump_json())
    for key, value in update.items():
        target = doc
        *parents, leaf = key.split(".")
        for parent in parents:
            target = target[parent]
        target[leaf] = value
    doc["stack"] = "mutated"
    write_outputs(state, doc)
    return "mutated"


def load_outputs_from_repo() -> StackOutputs:
    _local_state()
    path = REAL_STATE / "stacks" / "local" / "outputs.json"
    return StackOutputs.model_validate_json(path.read_text())


def _one(stack: str, checkpoint: str) -> dict[str, GateResult]:
    return _gates(check_gates(stack, [checkpoint]))


def test_guard_missing_collection(state_dir: Path) -> None:
    stack = _mutated_stack(state_dir, **{"butler.collection": "2.2i/runs/DP0.9"})
    gate = _one(stack, "L3-MW-0030")["butler-read"]
    assert gate.status == "fail" and "2.2i/runs/DP0.9 missing" in gate.reason


def test_guard_writeable_config_is_caught(state_dir: Path) -> None:
    writer_config = str(Path(load_outputs_from_repo().butler.repo_uri) / "butler.yaml")
    stack = _mutated_stack(state_dir, **{"butler.readonly_config": writer_config})
    gate = _one(stack, "L3-MW-0030")["butler-write-refused"]
    assert gate.status == "fail", gate.reason


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("rows", 1, "the load manifest says 1"),
    ("checksum", "12345", "checksum differs from the load manifest"),
])  # fmt: skip
def test_guard_manifest_mismatch(
    state_dir: Path, tmp_path: Path, field: str, value: object, reason: str
) -> None:
    real = load_outputs_from_repo()
    manifest = json.loads(Path(str(real.catalog_load_manifest)).read_text())
    manifest["tables"]["truth_match"][field] = value
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    stack = _mutated_stack(state_dir, catalog_load_manifest=str(path))
    gates = _one(stack, "L3-MW-0020")
    assert gates["loaded-truth_match"].status == "fail"
    assert reason in gates["loaded-truth_match"].reason
    assert gates["loaded-object"].status == "pass"


def test_guard_tap_schema_missing_column(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = dict(tap_checks.felis_columns())
    expected["object"] = expected["object"] | {"not_a_real_column"}
    monkeypatch.setattr(tap_checks, "felis_columns", lambda: expected)
    stack = _mutated_stack(state_dir)
    gate = _one(stack, "L2-DP-0020")["tap-schema-complete"]
    assert gate.status == "fail" and "object lacks 1 columns (not_a_real_column)" in gate.reason


def test_guard_wrong_worker_count(state_dir: Path) -> None:
    stack = _mutated_stack(state_dir, **{"qserv.expected_workers": 3})
    gate = _one(stack, "L3-MW-0010")["qserv-workers"]
    assert gate.status == "fail" and "expect 3 workers" in gate.reason
