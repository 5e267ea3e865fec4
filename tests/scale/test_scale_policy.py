"""The `scale-stack-no-stateful-resources` policy, run as the engine runs it, on mock-engine inventories."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from idf_ops.cost.prices import load_price_table
from idf_ops.plan.engine import OfflinePlan
from idf_ops.scale.offline import offline_plan
from idf_ops.scale.plan import plan_scale_test
from idf_ops.scale.sizing import SizingInputs
from infra.policy.rules import SCALE_STACK_POLICIES, evaluate_inventory


def _resource(typ: str, stack: str, name: str = "r", **inputs: Any) -> dict[str, Any]:
    return {"type": typ, "name": name, "urn": f"urn:pulumi:{stack}::idf::{typ}::{name}", "inputs": inputs}


def test_bucket_and_cloudsql_on_a_scale_stack_are_violations() -> None:
    resources = [
        _resource("gcp:storage/bucket:Bucket", "qserv-scale75", "scratch"),
        _resource("gcp:sql/databaseInstance:DatabaseInstance", "qserv-scale20", "registry"),
        _resource("gcp:compute/disk:Disk", "dev", "scratch", labels={"purpose": "scale-test"}),
    ]
    violations = evaluate_inventory(resources, policies=SCALE_STACK_POLICIES)
    assert [v.urn.rsplit("::", 1)[1] for v in violations] == ["scratch", "registry", "scratch"]
    assert all(v.policy == "scale-stack-no-stateful-resources" for v in violations)


def test_serving_stacks_and_node_pools_pass() -> None:
    resources = [
        _resource("gcp:storage/bucket:Bucket", "dp01", "butler"),
        _resource("gcp:sql/databaseInstance:DatabaseInstance", "dp01", "registry"),
        _resource("gcp:container/nodePool:NodePool", "qserv-scale75", "workers"),
    ]
    assert evaluate_inventory(resources, policies=SCALE_STACK_POLICIES) == []


def test_the_generated_scale_stack_passes_on_the_mock_engine_inventory() -> None:
    _, doc = plan_scale_test(
        SizingInputs(percent_of_dr1=75), load_price_table(), expires_at=datetime(2026, 12, 15, tzinfo=UTC)
    )
    plan = offline_plan("qserv-scale75", doc)
    assert len(plan.resources) > 20
    assert evaluate_inventory(plan.resources, policies=SCALE_STACK_POLICIES) == []


def test_dp01s_inventory_under_a_scale_stack_name_is_refused(plans: Mapping[str, OfflinePlan]) -> None:
    # The same inventory as dp01 (Cloud SQL + buckets) planned as a scale stack: the rule fires.
    as_scale = [
        {**r.to_json(), "urn": r.urn.replace("urn:pulumi:dp01::", "urn:pulumi:qserv-scale-x::")}
        for r in plans["dp01"].resources
        if r.custom
    ]
    kinds = {
        v.urn.split("::")[2].split("$")[-1]
        for v in evaluate_inventory(as_scale, policies=SCALE_STACK_POLICIES)
    }
    assert {"gcp:sql/databaseInstance:DatabaseInstance", "gcp:storage/bucket:Bucket"} <= kinds
