"""Every stack's real program, planned under the mock engine, passes every policy.

Uses ``idf_ops.plan.engine.run_offline`` (the same offline plan `idf plan` writes), so the policy
pack sees exactly the resources, camelCase inputs and protect flags the program declares.
"""

from __future__ import annotations

import pytest

from idf_ops.plan.engine import OfflinePlan, run_offline
from infra.policy import rules

STACKS = ["dev", "dp01", "dp02", "qserv-scale75"]
pytestmark = pytest.mark.filterwarnings("ignore:.*has been deprecated in favor of:DeprecationWarning")


@pytest.fixture(scope="module")
def plans() -> dict[str, OfflinePlan]:
    return {stack: run_offline(stack) for stack in STACKS}


@pytest.mark.parametrize("stack", STACKS)
def test_stack_has_no_policy_violation(plans: dict[str, OfflinePlan], stack: str) -> None:
    custom = [r for r in plans[stack].resources if r.custom]
    violations = rules.evaluate_inventory(custom)
    assert violations == [], f"{len(violations)} policy violations on {stack}:\n" + "\n".join(
        map(str, violations)
    )


@pytest.mark.parametrize(
    "resource_type",
    [
        rules.BUCKET,
        rules.BUCKET_IAM_TYPES[0],
        rules.SQL_INSTANCE,
        rules.GKE_CLUSTER,
        rules.GKE_NODE_POOL,
        rules.FIREWALL,
        "gcp:projects/iAMMember:IAMMember",
        "kubernetes:apps/v1:DaemonSet",
        rules.QSERV_CR,
        rules.K8S_STORAGE_CLASS,
    ],
)
def test_policies_see_the_types_the_program_declares(
    plans: dict[str, OfflinePlan], resource_type: str
) -> None:
    """A policy keyed on a type token the program never uses would pass vacuously."""
    assert any(plan.of_type(resource_type) for plan in plans.values()), resource_type


def test_scale_stack_pools_are_checked_as_temporary(plans: dict[str, OfflinePlan]) -> None:
    pools = plans["qserv-scale75"].of_type(rules.GKE_NODE_POOL)
    assert pools
    for pool in pools:
        labels = rules.labels_of(pool.type, pool.inputs) or {}
        assert rules.parse_expires_at(labels.get("expires-at", "")) is not None, pool.urn


def test_host_access_allowances_name_the_program_s_daemonsets(plans: dict[str, OfflinePlan]) -> None:
    """Each allowance matches a workload the program declares, with exactly the access allowed: an
    allowance that no longer matches anything (renamed DaemonSet) or grants more than is used is stale."""
    declared = {}
    for resource in plans["qserv-scale75"].of_type("kubernetes:apps/v1:DaemonSet"):
        meta = resource.inputs["metadata"]
        spec = resource.inputs["spec"]["template"]["spec"]
        declared[("DaemonSet", meta["namespace"], meta["name"])] = frozenset(rules.pod_host_access(spec))
    assert declared == rules.POD_HOST_ACCESS_ALLOWANCES
