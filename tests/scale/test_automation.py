"""The Automation API adapter, against fake `pulumi.automation` stacks (no Pulumi CLI here).

The fakes stand in for `LocalWorkspace` / `Stack` only; the real `CommandError`, `ConfigValue`
and `OutputValue` classes are used, so the adapter's parsing and error mapping are what run.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pulumi import automation as auto

from idf_core.errors import OperationFailed
from idf_core.paths import REPO_ROOT
from idf_ops.scale import automation
from idf_ops.scale.automation import AutomationWorkspace
from idf_ops.scale.lifecycle import StockoutError

POOLS = {
    "qserv_worker": {
        "role": "qserv-worker",
        "expires_at": "2026-12-15T00:00:00Z",
        "zone_fallbacks": ["us-central1-c"],
    },
    "qserv_czar": {
        "role": "qserv-czar",
        "expires_at": "2026-12-14T12:00:00Z",
        "zone_fallbacks": ["us-central1-c"],
    },
}


def _error(stderr: str) -> auto.errors.CommandError:
    return auto.errors.CommandError(auto.CommandResult(stdout="", stderr=stderr, code=255))


class FakeStack:
    def __init__(self, name: str, config: dict[str, Any], up_errors: list[str]) -> None:
        self.name = name
        self.config = {k: auto.ConfigValue(value=json.dumps(v)) for k, v in config.items()}
        self.up_errors = up_errors
        self.tags: dict[str, str] = {}
        self.events: list[str] = []

    def get_config(self, key: str) -> auto.ConfigValue:
        return self.config[key]

    def set_config(self, key: str, value: auto.ConfigValue) -> None:
        self.config[key] = value

    def get_all_config(self) -> dict[str, auto.ConfigValue]:
        return dict(self.config)

    def set_tag(self, key: str, value: str) -> None:
        self.tags[key] = value

    def get_tag(self, key: str) -> str:
        if key not in self.tags:
            raise _error(f"error: stack tag {key!r} not found")
        return self.tags[key]

    def up(self, on_output: Any = None, policy_packs: list[str] | None = None) -> Any:
        self.events.append("up")
        self.policy_packs = policy_packs
        if self.up_errors:
            raise _error(self.up_errors.pop(0))
        return auto.UpResult(
            stdout="",
            stderr="",
            summary=None,  # type: ignore[arg-type]  # the lifecycle never reads the summary
            outputs={"tap_url": auto.OutputValue("x", False)},
        )

    def destroy(self, on_output: Any = None) -> None:
        self.events.append("destroy")


class FakeLocalWorkspace:
    def __init__(self, stacks: dict[str, FakeStack]) -> None:
        self.stacks = stacks
        self.removed: list[str] = []

    def list_stacks(self) -> list[auto.StackSummary]:
        return [auto.StackSummary(name=n, current=False, resource_count=7) for n in self.stacks]

    def remove_stack(self, name: str) -> None:
        self.removed.append(name)


@pytest.fixture
def fake_pulumi(monkeypatch: pytest.MonkeyPatch) -> dict[str, FakeStack]:
    stacks: dict[str, FakeStack] = {}
    local = FakeLocalWorkspace(stacks)
    monkeypatch.setattr(automation, "pulumi_cli_path", lambda: "/usr/local/bin/pulumi")
    monkeypatch.setattr(auto, "LocalWorkspace", lambda **kwargs: local)
    monkeypatch.setattr(auto, "create_or_select_stack", lambda stack_name, **kwargs: stacks[stack_name])

    def select(stack_name: str, **kwargs: Any) -> FakeStack:
        if stack_name not in stacks:
            raise auto.errors.StackNotFoundError(
                auto.CommandResult(stdout="", stderr="no stack named", code=255)
            )
        return stacks[stack_name]

    monkeypatch.setattr(auto, "select_stack", select)
    return stacks


def _quiet(message: str) -> None:
    pass


def test_no_cli_is_one_operation_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(automation, "pulumi_cli_path", lambda: None)
    with pytest.raises(OperationFailed, match=r"Pulumi CLI is not installed.*idf scale up --dry-run"):
        AutomationWorkspace("up")


def test_the_real_automation_api_fails_without_the_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    # The adapter's own check is bypassed: the Automation API then fails as FIELD-NOTES says, and
    # the adapter still turns it into one OperationFailed.
    monkeypatch.setattr(automation, "pulumi_cli_path", lambda: "/usr/local/bin/pulumi")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(OperationFailed, match="Pulumi CLI is not installed"):
        AutomationWorkspace("status")


def test_up_tags_expiry_and_returns_outputs(fake_pulumi: dict[str, FakeStack]) -> None:
    fake_pulumi["qserv-scale75"] = st = FakeStack("qserv-scale75", {"idf:node_pools": POOLS}, [])
    outputs = AutomationWorkspace("up").up("qserv-scale75", use_zone_fallbacks=False, on_event=_quiet)
    assert outputs == {"tap_url": "x"}
    assert st.tags["idf:expires-at"] == "2026-12-14T12:00:00+00:00"  # the earliest pool expiry
    assert st.policy_packs == [str(REPO_ROOT / "infra" / "policy")]  # guardrails on every real up


def test_stockout_is_recognised(fake_pulumi: dict[str, FakeStack]) -> None:
    fake_pulumi["s"] = FakeStack(
        "s", {"idf:node_pools": POOLS}, ["error: ZONE_RESOURCE_POOL_EXHAUSTED us-central1-b"]
    )
    with pytest.raises(StockoutError):
        AutomationWorkspace("up").up("s", use_zone_fallbacks=False, on_event=_quiet)


def test_other_up_errors_are_operation_failed(fake_pulumi: dict[str, FakeStack]) -> None:
    fake_pulumi["s"] = FakeStack("s", {"idf:node_pools": POOLS}, ["error: Quota 'CPUS' exceeded"])
    with pytest.raises(OperationFailed, match="Quota 'CPUS' exceeded"):
        AutomationWorkspace("up").up("s", use_zone_fallbacks=False, on_event=_quiet)


def test_fallback_zones_are_switched_on_in_the_config(fake_pulumi: dict[str, FakeStack]) -> None:
    fake_pulumi["s"] = st = FakeStack("s", {"idf:node_pools": POOLS}, [])
    AutomationWorkspace("up").up("s", use_zone_fallbacks=True, on_event=_quiet)
    pools = json.loads(st.get_config("idf:node_pools").value)
    assert all(pool["use_zone_fallbacks"] is True for pool in pools.values())


def test_info_reads_temporary_and_expiry(fake_pulumi: dict[str, FakeStack]) -> None:
    fake_pulumi["s"] = FakeStack("s", {"idf:node_pools": POOLS, "idf:meta": {"temporary": True}}, [])
    fake_pulumi["dp01"] = FakeStack("dp01", {"idf:meta": {"temporary": False}}, [])
    ws = AutomationWorkspace("reap")
    info = ws.info("s")
    assert info.temporary is True
    assert info.expires_at == datetime(2026, 12, 14, 12, tzinfo=UTC)
    assert info.resource_count == 7
    assert ws.info("dp01").temporary is False
    assert ws.info("dp01").expires_at is None
    assert sorted(ws.list_stacks()) == ["dp01", "s"]


def test_info_falls_back_to_the_expiry_tag(fake_pulumi: dict[str, FakeStack]) -> None:
    fake_pulumi["s"] = st = FakeStack("s", {"idf:meta": {"temporary": True}}, [])
    assert AutomationWorkspace("reap").info("s").expires_at is None
    st.tags["idf:expires-at"] = "2026-12-20T00:00:00+00:00"
    assert AutomationWorkspace("reap").info("s").expires_at == datetime(2026, 12, 20, tzinfo=UTC)


def test_status_of_a_removed_stack_says_it_is_not_up(fake_pulumi: dict[str, FakeStack]) -> None:
    with pytest.raises(OperationFailed, match="no stack 'qserv-scale75' in the Pulumi backend"):
        AutomationWorkspace("status").info("qserv-scale75")
