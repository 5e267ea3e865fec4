"""The scale service decides what `idf scale` prints: expiry states, the expiry warning, the dry
run's policy verdict, publishing outputs, and when a reap needs a person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from idf_core.errors import BadInput, OperationFailed
from idf_ops.cli import scale_cmd
from idf_ops.scale import offline, service
from idf_ops.scale.lifecycle import StackInfo
from scale.fake_workspace import FakeWorkspace, info

NOW = datetime(2026, 12, 15, tzinfo=UTC)
SQL_TYPE = "gcp:sql/databaseInstance:DatabaseInstance"
SQL_URN = f"urn:pulumi:qserv-scale75::idf::{SQL_TYPE}::qserv-scale75-butler"


@pytest.mark.parametrize(
    ("expires_at", "state", "hours_left"),
    [
        (None, "no-expiry", None),
        (NOW - timedelta(hours=1), "expired", None),
        (NOW, "expired", None),  # expiring now is expired: reap takes it
        (NOW + timedelta(hours=6), "expires", 6.0),
    ],
)
def test_stack_status_against_now(expires_at: datetime | None, state: str, hours_left: float | None) -> None:
    status = service.stack_status(StackInfo(name="s", temporary=True, expires_at=expires_at), NOW)
    assert (status.state, status.hours_left) == (state, hours_left)


def test_parse_time_names_its_option() -> None:
    assert service.parse_time("2026-12-15T00:00:00Z") == NOW
    with pytest.raises(BadInput, match=r"^--expires-at '2026-12-15T00:00:00': needs a time zone"):
        service.parse_time("2026-12-15T00:00:00", option="--expires-at")
    with pytest.raises(BadInput, match=r"^--now 'soon': not an ISO 8601 time"):
        service.parse_time("soon")


def test_plan_until_warns_only_when_the_expiry_is_shorter_than_recommended() -> None:
    short = service.plan_until("6h", service.SizingOptions(), stack="qserv-scale75")
    assert short.warning is not None and "--expires-in 6h is shorter than the recommended" in short.warning
    assert short.planned.plan.expires_at == short.expires_at
    assert service.plan_until("3d", service.SizingOptions(), stack="qserv-scale75").warning is None


def test_bad_sizing_input_names_the_option() -> None:
    with pytest.raises(BadInput, match=r"^--machine-type: "):
        service.plan(
            service.SizingOptions(machine_type="n2-standard-2"), expires_at=NOW, stack="qserv-scale75"
        )


def test_dry_run_refuses_a_stateful_resource_on_a_scale_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    planned = service.plan(service.SizingOptions(), expires_at=NOW, stack="qserv-scale75")

    def stateful_plan(stack: str, document: dict[str, object]) -> offline.OfflinePlan:
        sql = {"type": SQL_TYPE, "name": "qserv-scale75-butler", "urn": SQL_URN, "inputs": {}}
        return offline.OfflinePlan(
            engine="test",
            resource_counts={SQL_TYPE: 1},
            stateful_resources=[SQL_URN],
            node_pools={},
            resources=[sql],
        )

    monkeypatch.setattr(offline, "offline_plan", stateful_plan)
    with pytest.raises(OperationFailed, match="qserv-scale75 breaks the scale-test policy"):
        service.dry_run(planned)


@pytest.mark.parametrize("outputs", [{"not_a_contract_key": 1}, {"stack": "qserv-scale75", "kind": "moon"}])
def test_outputs_outside_the_contract_are_not_published(outputs: dict[str, object]) -> None:
    published = service.publish_outputs(outputs)
    assert published.path is None and published.problem


def test_reap_needs_attention_only_for_unjudgeable_stacks() -> None:
    fine = FakeWorkspace(
        {
            "dp01": info("dp01", temporary=False, expires_at=None),
            "qserv-scale75": info("qserv-scale75", temporary=True, expires_at=NOW),
        }
    )
    report = service.reap(fine, NOW, dry_run=True, on_event=lambda _: None)
    assert [d.action for d in report.decisions] == ["kept", "would-destroy"]
    assert not report.needs_attention
    odd = FakeWorkspace({"qserv-scale75": info("qserv-scale75", temporary=True, expires_at=None)})
    assert service.reap(odd, NOW, dry_run=True, on_event=lambda _: None).needs_attention


def test_commands_are_module_level() -> None:
    callbacks = [command.callback for command in scale_cmd.scale_app.registered_commands]
    assert len(callbacks) == 10  # plan render-stack up run status down reap generate ingest bench
    for callback in callbacks:
        assert callback is not None
        assert getattr(scale_cmd, callback.__name__, None) is callback, f"{callback.__name__} is nested"
