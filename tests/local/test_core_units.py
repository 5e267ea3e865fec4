"""Unit tests (no running stack) of the local stack's Python side: health registry, inventory,
outputs, the ansible-runner event accounting and the role argument specs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from idf_core.contract import ButlerEndpoint, QservEndpoint, StackOutputs
from idf_ops.local import health
from idf_ops.local.ansible import PlaybookRun, RoleStats, _EventTally
from idf_ops.local.inventory import render_inventory
from idf_ops.local.settings import ANSIBLE_DIR, SERVICE_ORDER
from idf_ops.local.stack import local_outputs

CORE_ROLES = ("postgresql", "catalogs", "dataload", "butler")


def test_local_outputs_follow_the_contract() -> None:
    outputs = local_outputs()
    assert outputs.tap_url == "http://127.0.0.1:8080/tap"
    assert outputs.hub_url == "http://127.0.0.1:8000"
    assert (outputs.qserv.host, outputs.qserv.port, outputs.qserv.dialect) == (
        "127.0.0.1",
        4040,
        "mariadb-standin",
    )
    assert outputs.butler.readonly_config.endswith("butler-readonly.yaml")
    assert set(outputs.stand_ins) == {"qserv", "nublado"}
    assert outputs.secrets_dir == "/var/lib/idf/secrets"


def _cloud_outputs() -> StackOutputs:
    return StackOutputs(
        stack="dp01",
        kind="gcp",
        offline_plan=True,
        tap_url="https://idf.example/api/tap",
        hub_url="https://idf.example/nb",
        cluster_name="idf-dp01",
        qserv=QservEndpoint(host="10.0.0.5", port=4040, dialect="qserv", expected_workers=5),
        butler=ButlerEndpoint(
            repo_uri="gs://butler-dp01",
            readonly_config="gs://butler-dp01/butler-ro.yaml",
            registry_host="10.0.0.9",
            registry_database="dp01_butler",
        ),
        buckets={"butler": "butler-dp01"},
    )


@pytest.mark.parametrize(
    ("outputs", "group"), [(local_outputs(), "idf_local"), (_cloud_outputs(), "idf_cloud")]
)
def test_inventory_is_rendered_from_outputs(outputs: StackOutputs, group: str) -> None:
    inventory = render_inventory(outputs)
    host_vars = inventory["all"]["children"][group]["hosts"]["localhost"]
    assert host_vars["ansible_connection"] == "local"
    assert host_vars["idf_tap_url"] == outputs.tap_url
    assert host_vars["idf_qserv_port"] == outputs.qserv.port
    assert host_vars["idf_butler_registry_database"] == outputs.butler.registry_database
    assert yaml.safe_load(yaml.safe_dump(inventory)) == inventory


def test_cloud_inventory_carries_cloud_only_values() -> None:
    host_vars = render_inventory(_cloud_outputs())["all"]["children"]["idf_cloud"]["hosts"]["localhost"]
    assert host_vars["idf_cluster_name"] == "idf-dp01"
    assert host_vars["idf_buckets"] == {"butler": "butler-dp01"}
    assert "idf_secrets_dir" not in host_vars


@pytest.fixture
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    registry: dict[str, Any] = {}
    monkeypatch.setattr(health, "_REGISTRY", registry)
    monkeypatch.setattr(health, "CHECK_MODULES", ())
    return registry


def test_a_registered_check_reports_its_state(clean_registry: dict[str, Any]) -> None:
    @health.health_check("postgresql")
    def fine() -> health.ServiceHealth:
        return health.ServiceHealth("postgresql", True, "pg://x", "SELECT 1 answered")

    [result] = health.run_checks()
    assert result == {
        "service": "postgresql",
        "healthy": True,
        "endpoint": "pg://x",
        "detail": "SELECT 1 answered",
        "state": "up",
    }


def test_a_check_that_raises_reports_down_with_the_reason(clean_registry: dict[str, Any]) -> None:
    @health.health_check("butler")
    def broken() -> health.ServiceHealth:
        raise RuntimeError("registry unreachable: start PostgreSQL")

    [result] = health.run_checks()
    assert result["state"] == "down" and result["detail"] == "registry unreachable: start PostgreSQL"


def test_checks_run_in_site_order(clean_registry: dict[str, Any]) -> None:
    for service in reversed(SERVICE_ORDER):
        health.health_check(service)(lambda s=service: health.ServiceHealth(s, True, "", ""))
    assert [r["service"] for r in health.run_checks()] == list(SERVICE_ORDER)


def test_missing_check_modules_are_skipped(
    monkeypatch: pytest.MonkeyPatch, clean_registry: dict[str, Any]
) -> None:
    monkeypatch.setattr(health, "CHECK_MODULES", ("idf_ops.no_such_module_for_test",))
    assert health.registered_checks() == {}


def test_site_imports_every_service_playbook_in_contract_order() -> None:
    site = yaml.safe_load((ANSIBLE_DIR / "playbooks" / "site.yml").read_text())
    assert [Path(p["ansible.builtin.import_playbook"]).stem for p in site] == list(SERVICE_ORDER)


@pytest.mark.parametrize("role", CORE_ROLES)
def test_every_default_is_in_the_argument_spec(role: str) -> None:
    defaults = yaml.safe_load((ANSIBLE_DIR / "roles" / role / "defaults" / "main.yml").read_text())
    spec = yaml.safe_load((ANSIBLE_DIR / "roles" / role / "meta" / "argument_specs.yml").read_text())
    options = spec["argument_specs"]["main"]["options"]
    assert set(defaults) == set(options)
    assert all(name.startswith(role + "_") for name in defaults)


@pytest.mark.parametrize("role", CORE_ROLES)
def test_every_default_is_commented(role: str) -> None:
    lines = (ANSIBLE_DIR / "roles" / role / "defaults" / "main.yml").read_text().splitlines()
    for index, line in enumerate(lines):
        if line and not line.startswith((" ", "#", "-")):
            assert lines[index - 1].startswith(("#", "  ")), f"{role}: {line} has no comment"


def _event(kind: str, role: str = "", **data: Any) -> dict[str, Any]:
    return {"event": kind, "event_data": {"role": role, **data}}


def test_event_tally_counts_per_role_and_reports_failures() -> None:
    run = PlaybookRun(playbook="site.yml", rc=0, seconds=0.0)
    started: list[str] = []
    ended: list[RoleStats] = []
    tally = _EventTally(run, started.append, ended.append)
    events = [
        _event("playbook_on_play_start"),
        _event("playbook_on_task_start", task="Gathering Facts"),
        _event("runner_on_ok", res={"changed": False}),
        _event("playbook_on_task_start", "postgresql", task="Install"),
        _event("runner_on_ok", "postgresql", res={"changed": True}),
        _event("runner_on_failed", "postgresql", ignore_errors=True, res={"msg": "ignored"}),
        _event("playbook_on_play_start"),
        _event("playbook_on_task_start", "butler", task="Build"),
        _event("runner_on_failed", "butler", task="Build", res={"msg": "butler: registry down; start it"}),
    ]
    for event in events:
        assert tally.handle(event) is True
    tally.finish()
    assert started == ["postgresql", "butler"]
    assert [(s.role, s.ok, s.changed, s.failed) for s in ended] == [
        ("postgresql", 1, 1, 0),
        ("butler", 0, 0, 1),
    ]
    assert run.changed == 1
    assert [(f.role, f.task, f.message) for f in run.failures] == [
        ("butler", "Build", "butler: registry down; start it")
    ]
