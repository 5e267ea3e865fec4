"""The program's typed outputs (`idf_core.contract.ProgramOutputs`) and the one reader of exports
(`contract_of`): the program-only keys are derived from the model, the program exports exactly the
model's fields, and an unknown export is refused alike, with one message, by the offline reader
(`idf plan`) and the live ones (`load_outputs`; `idf scale`'s publish reports it and writes nothing)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from idf_core.contract import PROGRAM_ONLY_OUTPUTS, ProgramOutputs, StackOutputs, contract_of, load_outputs
from idf_core.errors import BadInput
from idf_ops.plan.engine import OfflinePlan, run_offline
from idf_ops.plan.outputs import stack_outputs_of
from idf_ops.scale.service import publish_outputs
from infra.config import (
    config_mapping_from_file,
    resolve_stack_file,
    validate_config_mapping,
)
from infra.program import build, export_all
from support.mocks import use_mocks
from support.plans import with_test_images
from support.stacks import STACKS

INVENTORIES = Path(__file__).resolve().parent.parent / "inventories"
UNKNOWN = "registry_pasword"  # a typo of an export nobody defines


def test_program_only_outputs_are_the_extra_fields_of_the_model() -> None:
    extras = [name for name in ProgramOutputs.model_fields if name not in StackOutputs.model_fields]
    assert tuple(extras) == PROGRAM_ONLY_OUTPUTS
    assert set(PROGRAM_ONLY_OUTPUTS) == {
        "registry_required_extensions",
        "zone_fallbacks",
        "temporary_pools",
        "gcp_project",
        "region",
    }
    assert issubclass(ProgramOutputs, StackOutputs)


@pytest.mark.parametrize("stack", STACKS)
def test_the_program_exports_the_model(plans: Mapping[str, OfflinePlan], stack: str) -> None:
    """The exports are a valid ProgramOutputs; they carry every program-only key, and the contract
    read from them is the one `idf plan` writes."""
    exports = plans[stack].outputs
    model = ProgramOutputs.model_validate({k: v for k, v in exports.items() if v is not None})
    assert set(PROGRAM_ONLY_OUTPUTS) <= set(exports)
    assert set(exports) <= set(ProgramOutputs.model_fields)
    assert model.stack == stack
    contract = stack_outputs_of(plans[stack])
    assert contract.offline_plan is True
    assert contract.model_dump(exclude={"offline_plan"}) == contract_of(exports).model_dump(
        exclude={"offline_plan"}
    )


def _refusal(excinfo: pytest.ExceptionInfo[BadInput]) -> str:
    """The part of a refusal after its source (`<source>: ...`)."""
    return str(excinfo.value).split(": ", 1)[1]


def test_an_unknown_export_is_refused_alike_offline_and_live(
    plans: Mapping[str, OfflinePlan], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = plans["dp01"]
    exports = {**plan.outputs, UNKNOWN: "x"}

    with pytest.raises(BadInput, match=UNKNOWN) as direct:
        contract_of(exports)

    offline_plan = OfflinePlan(
        stack=plan.stack, source=plan.source, resources=[], outputs=exports, seconds=0.0
    )
    with pytest.raises(BadInput, match=UNKNOWN) as offline:
        stack_outputs_of(offline_plan)

    monkeypatch.setenv("IDF_STATE_DIR", str(tmp_path / "var"))
    path = tmp_path / "var" / "stacks" / "dp01" / "outputs.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(exports))  # as `pulumi stack output --json` would print it
    with pytest.raises(BadInput, match=UNKNOWN) as live:
        load_outputs("dp01")

    # `idf scale up/run` publishing the Automation API's outputs: the same refusal, nothing written
    # (reported, not raised: the stack is live by then and must not fail or be torn down for it).
    path.unlink()
    published = publish_outputs(exports)
    assert published.path is None
    assert not path.exists()

    assert str(live.value).startswith(f"{path}: ")
    assert str(offline.value).startswith("stack dp01 (offline plan): ")
    assert _refusal(direct) == _refusal(offline) == _refusal(live)
    assert published.problem == str(direct.value)
    assert "add the field" in _refusal(live)
    # Without the unknown key, all three readers accept the same exports.
    path.write_text(json.dumps(plan.outputs))
    assert load_outputs("dp01").cluster_name == contract_of(plan.outputs).cluster_name == "idf-dp01"


def test_program_only_keys_and_none_values_are_not_refused() -> None:
    exports = {
        "stack": "s",
        "kind": "gcp",
        "tap_url": "https://h/api/tap",
        "hub_url": "https://h/nb",
        "qserv": {"host": "10.0.0.1", "port": 4040, "dialect": "qserv", "expected_workers": 1},
        "butler": {
            "repo_uri": "gs://b/repo",
            "readonly_config": "gs://b/r.yaml",
            "registry_host": "h",
            "registry_database": "d",
        },
        "cloudsql_connection_name": None,
        **dict.fromkeys(PROGRAM_ONLY_OUTPUTS, "anything"),
    }
    outputs = contract_of(exports)
    assert outputs.cloudsql_connection_name is None


@pytest.fixture
def scale_config() -> Any:
    # With the tests' image digests, as the inventories are planned (support/plans.py).
    use_mocks("qserv-scale75")
    path = resolve_stack_file("qserv-scale75")
    return validate_config_mapping(
        with_test_images(config_mapping_from_file(path)), str(path), "qserv-scale75"
    )


@pulumi.runtime.test
def test_export_all_exports_the_inventory_outputs(scale_config: Any) -> Any:
    """`pulumi up` publishes the keys and values of the inventory's `outputs` section; None ones
    (no Cloud SQL on a scale stack) are absent, as the engine drops outputs that resolve to None."""
    export_all(build(scale_config))
    stack = pulumi.runtime.get_root_resource()
    assert stack is not None
    exported: dict[str, Any] = stack.outputs  # type: ignore[attr-defined]
    assert set(ProgramOutputs.model_fields) <= set(exported)
    inventory = yaml.safe_load((INVENTORIES / "qserv-scale75.yaml").read_text())["outputs"]
    keys = sorted(ProgramOutputs.model_fields)

    def check(values: list[Any]) -> None:
        published = {k: v for k, v in zip(keys, values, strict=True) if v is not None}
        expected = {k: v for k, v in inventory.items() if v is not None}
        assert published == expected
        assert "cloudsql_connection_name" not in published

    return pulumi.Output.all(*[exported[k] for k in keys]).apply(check)


def test_a_stack_the_contract_cannot_describe_is_refused() -> None:
    """Without Qserv the stack's outputs cannot be a StackOutputs: the program says so (BadInput,
    naming the source and the missing section), instead of publishing half a contract."""
    doc = yaml.safe_load(resolve_stack_file("dev").read_text())
    doc = json.loads(json.dumps({"config": doc["config"]}, default=str))
    del doc["config"]["idf:qserv"]
    with pytest.raises(BadInput, match=r"dev \(in memory\): .*qserv: .*idf:qserv"):
        run_offline("dev", document=doc)
