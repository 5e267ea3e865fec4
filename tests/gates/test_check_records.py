"""The check records: one per check, the registry's ids come from them, the runner decides from them."""

from __future__ import annotations

import datetime as dt
import importlib
import re
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml

from idf_core.contract import StackOutputs
from idf_core.errors import BadInput
from idf_ops.cli.main import main
from idf_ops.gates.checks import CHECKS, CheckSpec, base, check
from idf_ops.gates.registry import REGISTRY_PATH, LoadtestGate, PlainGate, TableGate, load_registry
from idf_ops.gates.report import GateResult
from idf_ops.gates.runner import Budget, CheckContext, Outcome, resolve_check, run_gates
from idf_ops.gates.service import check_gates

from .conftest import gcp_offline_outputs, local_outputs, write_outputs

AREAS = ("infra", "butler", "qserv", "notebook", "tap", "loadtests", "batch")

# The checks whose cloud side talks to Google APIs: on a live cloud stack without Application
# Default Credentials each fails with the command that creates them (never a blanket refusal).
GCP_CLIENT_CHECKS = (
    "compute-ready",
    "database-reachable",
    "storage-present",
    "butler-read",
    "butler-write-refused",
)


def test_live_gcp_outputs_without_credentials_name_the_adc_command(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(state_dir / "no-gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    write_outputs(state_dir, {**gcp_offline_outputs("cloudy"), "offline_plan": False})
    report = check_gates("cloudy", ["L2-DP-0010", "L3-MW-0030"], today=dt.date(2021, 1, 1))
    gates = {gate.check: gate for row in report.checkpoints for gate in row.gates}
    assert gates["outputs-present"].status == "pass", gates["outputs-present"].reason
    for check_id in GCP_CLIENT_CHECKS:
        gate = gates[check_id]
        assert gate.status == "fail", check_id
        assert "run `gcloud auth application-default login`" in gate.reason, (check_id, gate.reason)
    assert set(gates) == {"outputs-present", *GCP_CLIENT_CHECKS}


def test_every_check_declares_a_cloud_side() -> None:
    assert all("gcp" in spec.stack_kinds for spec in CHECKS.values())


def test_registry_accepts_exactly_the_declared_check_ids() -> None:
    by_model = {
        model.__name__: get_args(model.model_fields["check"].annotation)
        for model in (PlainGate, TableGate, LoadtestGate)
    }
    accepted = [check_id for ids in by_model.values() for check_id in ids]
    assert sorted(accepted) == sorted(CHECKS), by_model
    assert by_model["TableGate"] == ("table-loaded", "tap-query")
    assert by_model["LoadtestGate"] == ("loadtest-summary",)


def test_every_check_function_of_an_area_is_declared_once() -> None:
    declared = {spec.function: spec for spec in CHECKS.values()}
    for area in AREAS:
        module = importlib.import_module(f"idf_ops.gates.checks.{area}")
        functions = [f for name, f in vars(module).items() if name.startswith("check_") and callable(f)]
        assert functions, area
        for function in functions:
            if function.__module__ != module.__name__:
                continue  # imported from elsewhere (the decorator itself is called `check`)
            assert function in declared, f"{module.__name__}.{function.__name__} has no @check record"
            assert declared[function].area == area
    assert {spec.area for spec in CHECKS.values()} == set(AREAS)


def _registry_with(tmp_path: Path, **gate: object) -> Path:
    """The real registry with the first gate of L2-DP-0010 (outputs-present) changed."""
    data = yaml.safe_load(REGISTRY_PATH.read_text())
    first = data["milestones"][1]["gates"][0]
    first.update(gate)
    for key in [k for k, v in gate.items() if v is None]:
        first.pop(key)
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize(("check_value", "said"), [("ping", "unknown check 'ping'"), (None, "no check")])
def test_unknown_check_id_names_file_key_and_known_ids(
    tmp_path: Path, check_value: str | None, said: str
) -> None:
    path = _registry_with(tmp_path, check=check_value)
    with pytest.raises(BadInput) as info:
        load_registry(path)
    message = str(info.value)
    assert str(path) in message
    assert f"milestones.1.gates.0.check: {said}; known checks" in message
    assert all(check_id in message for check_id in CHECKS)


def test_gate_timeout_above_its_check_record_is_bad_input(tmp_path: Path) -> None:
    ceiling = CHECKS["outputs-present"].timeout_s
    at_ceiling = load_registry(_registry_with(tmp_path, timeout_s=ceiling))
    assert at_ceiling.milestones[1].gates[0].timeout_s == ceiling
    path = _registry_with(tmp_path, timeout_s=ceiling + 1)
    with pytest.raises(BadInput) as info:
        load_registry(path)
    message = str(info.value)
    assert str(path) in message and "milestones.1.gates.0" in message
    assert f"timeout_s {ceiling + 1:g} exceeds the {ceiling:g} s that check outputs-present allows" in message


def test_unknown_check_in_registry_is_exit_2(
    state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_outputs(state_dir, local_outputs("lt", 1, tmp_path))
    path = _registry_with(tmp_path, check="ping")
    assert main(["gates", "check", "--stack", "lt", "--registry", str(path)]) == 2
    err = capsys.readouterr().err
    assert "unknown check 'ping'" in err and "Traceback" not in err


def _never_called(ctx: CheckContext, gate: object, budget: Budget) -> Outcome:
    raise AssertionError("the runner should not have called the check")


def _spec(**fields: Any) -> CheckSpec:
    defaults: dict[str, Any] = {
        "id": "probe", "function": _never_called, "live": True, "stack_kinds": frozenset({"local"}),
        "timeout_s": 5, "requires": (), "gate": "plain",
    }  # fmt: skip
    return CheckSpec(**{**defaults, **fields})


def _context(tmp_path: Path, doc: dict[str, Any]) -> CheckContext:
    outputs = StackOutputs.model_validate(doc)
    return CheckContext(outputs=outputs, now=dt.datetime.now(dt.UTC), loadtests_dir=tmp_path)


def _run(spec: CheckSpec, ctx: CheckContext) -> GateResult:
    gate = PlainGate(id="probe", check="hub-api", title="a probe gate", timeout_s=2)
    return run_gates([("A", gate)], ctx, lambda _: resolve_check(spec, ctx))[("A", "probe")]


def test_runner_refuses_a_stack_kind_from_the_record(tmp_path: Path) -> None:
    # Records built by hand (the decorator refuses a check without a gcp side).
    gcp = _context(tmp_path, {**gcp_offline_outputs("cloudy"), "offline_plan": False})
    result = _run(_spec(), gcp)
    assert (result.status, result.reason) == (
        "fail",
        "check probe runs only on local stacks, not on this gcp stack",
    )
    local = _context(tmp_path, local_outputs("here", 1, tmp_path))
    result = _run(_spec(stack_kinds=frozenset({"gcp"})), local)
    assert result.status == "fail"
    assert result.reason == "check probe runs only on gcp stacks, not on this local stack"


def test_runner_decides_offline_before_stack_kind(tmp_path: Path) -> None:
    planned = _context(tmp_path, gcp_offline_outputs("planned"))
    assert _run(_spec(), planned).status == "offline"
    ran = _run(_spec(live=False, stack_kinds=frozenset({"local", "gcp"}),
                     function=lambda *_: Outcome("read the outputs")), planned)  # fmt: skip
    assert (ran.status, ran.reason) == ("pass", "read the outputs")


def test_runner_runs_a_check_on_its_stack_kinds(tmp_path: Path) -> None:
    local = _context(tmp_path, local_outputs("here", 1, tmp_path))
    spec = _spec(function=lambda *_: Outcome("answered"), requires=("json",))
    assert _run(spec, local).status == "pass"


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"id": "hub-api"}, "'hub-api' is already declared in idf_ops.gates.checks.notebook"),
        (
            {"stack_kinds": {"local"}},
            "stack_kinds must include 'gcp': every check needs a cloud implementation",
        ),
        ({"stack_kinds": set()}, "must be a non-empty subset"),
        ({"stack_kinds": {"aws"}}, "must be a non-empty subset"),
        ({"timeout_s": 0}, "timeout_s 0 must be in (0, 300]"),
        ({"timeout_s": 301}, "timeout_s 301 must be in (0, 300]"),
        ({"gate": "matrix"}, "gate 'matrix' must be one of"),
    ],
)
def test_check_decorator_refuses_a_bad_record(fields: dict[str, Any], said: str) -> None:
    before = dict(CHECKS)
    record: dict[str, Any] = {
        "id": "new-probe", "live": True, "stack_kinds": {"local", "gcp"}, "timeout_s": 5,
    }  # fmt: skip
    with pytest.raises(ValueError, match=re.escape(said)):
        check(**{**record, **fields})(_never_called)
    assert before == CHECKS


def test_check_decorator_registers_a_good_record(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "CHECKS", {})
    declare = base.check(id="new-probe", live=False, stack_kinds=("local", "gcp"), timeout_s=5)
    decorated = declare(_never_called)
    assert decorated is _never_called
    spec = base.CHECKS["new-probe"]
    assert (spec.stack_kinds, spec.gate, spec.requires, spec.area) == (
        frozenset({"local", "gcp"}), "plain", (), "test_check_records",
    )  # fmt: skip
