"""The unattended reaper's scope and log lines (fake workspace; the end-to-end run is
test_reap_after_sigkill.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pulumi import automation as auto

from idf_ops.cli.main import main
from idf_ops.scale import automation
from idf_ops.scale.lifecycle import StackInfo, reap_expired
from idf_ops.scale.service import ReapReport, reap_log_records
from scale.fake_workspace import FakeWorkspace, info

NOW = datetime(2026, 12, 15, 12, 0, tzinfo=UTC)


class ReadCounting(FakeWorkspace):
    """Records which stacks were read (the reaper's identity may not read dp01's state)."""

    def __init__(self, stacks: dict[str, StackInfo]) -> None:
        super().__init__(stacks)
        self.read: list[str] = []

    def info(self, stack: str) -> Any:
        self.read.append(stack)
        return super().info(stack)


def _stacks() -> dict[str, StackInfo]:
    return {
        "dp01": info("dp01", temporary=True, expires_at=NOW - timedelta(days=1)),  # mislabelled on purpose
        "qserv-scale75": info("qserv-scale75", temporary=True, expires_at=NOW - timedelta(minutes=5)),
        "qserv-scale20": info("qserv-scale20", temporary=False, expires_at=NOW - timedelta(days=1)),
    }


def test_scale_scope_never_reads_or_touches_other_stacks() -> None:
    ws = ReadCounting(_stacks())
    decisions = {
        d.stack: d.action
        for d in reap_expired(ws, NOW, dry_run=False, on_event=print, scale_stacks_only=True)
    }
    assert decisions == {"dp01": "kept", "qserv-scale75": "destroyed", "qserv-scale20": "kept"}
    assert "dp01" not in ws.read
    assert {c[1] for c in ws.calls} == {"qserv-scale75"}


def test_the_operators_reap_still_reads_every_stack() -> None:
    ws = ReadCounting(_stacks())
    decisions = {d.stack: d.action for d in reap_expired(ws, NOW, dry_run=True, on_event=print)}
    assert "dp01" in ws.read
    # dp01 is never reaped even when mislabelled: its name is not a scale stack's.
    assert decisions["dp01"] == "needs-attention"


def test_log_records_carry_action_stack_and_a_run_summary() -> None:
    ws = FakeWorkspace(_stacks(), fail_destroy=True)
    report = ReapReport(
        decisions=reap_expired(ws, NOW, dry_run=False, on_event=print, scale_stacks_only=True)
    )
    records = reap_log_records(report, NOW)
    by_stack = {r["idf_reaper"]["stack"]: r for r in records[:-1]}
    assert by_stack["qserv-scale75"]["idf_reaper"]["action"] == "failed"
    assert by_stack["qserv-scale75"]["severity"] == "ERROR"
    assert by_stack["dp01"]["severity"] == "INFO"
    summary = records[-1]
    assert summary["idf_reaper"]["action"] == "run"
    assert summary["idf_reaper"]["counts"]["failed"] == 1
    assert summary["severity"] == "WARNING"


def test_unattended_and_dry_run_together_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scale", "reap", "--unattended", "--dry-run"]) == 2
    assert "cannot be combined with --dry-run" in capsys.readouterr().err


# --- the reaper's container has no rendered stack file: the state's outputs say when ------------


class _StateOnlyStack:
    """A stack known to the backend whose config file the reaper's image does not hold."""

    def __init__(self, temporary_pools: dict[str, str] | None) -> None:
        self._outputs = (
            {} if temporary_pools is None else {"temporary_pools": auto.OutputValue(temporary_pools, False)}
        )

    def get_all_config(self) -> dict[str, Any]:
        return {}

    def get_tag(self, key: str) -> str:
        raise auto.errors.CommandError(auto.CommandResult(stdout="", stderr="tags unsupported", code=255))

    def outputs(self) -> dict[str, Any]:
        return self._outputs


class _Summaries:
    def list_stacks(self) -> list[auto.StackSummary]:
        return [auto.StackSummary(name="qserv-scale75", current=False, resource_count=35)]


@pytest.mark.parametrize(
    ("pools", "temporary", "expires"),
    [
        (
            {"idf-qserv-scale75-qserv-worker": "2026-12-15T00:00:00+00:00"},
            True,
            datetime(2026, 12, 15, tzinfo=UTC),
        ),
        (None, False, None),
    ],
)
def test_expiry_from_the_state_outputs_when_no_stack_file(
    monkeypatch: pytest.MonkeyPatch, pools: dict[str, str] | None, temporary: bool, expires: datetime | None
) -> None:
    monkeypatch.setattr(automation, "pulumi_cli_path", lambda: "/usr/local/bin/pulumi")
    monkeypatch.setattr(auto, "LocalWorkspace", lambda **kwargs: _Summaries())
    monkeypatch.setattr(auto, "select_stack", lambda stack_name, **kwargs: _StateOnlyStack(pools))
    info = automation.AutomationWorkspace("reap").info("qserv-scale75")
    assert (info.temporary, info.expires_at, info.resource_count) == (temporary, expires, 35)
