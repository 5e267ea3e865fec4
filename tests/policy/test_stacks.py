"""Every stack's real program, planned under the mock engine, passes every policy.

Uses the session's offline plans (``plans``, from ``idf_ops.plan.engine.run_offline``: the same
offline plan `idf plan` writes), so the policy pack sees exactly the resources, camelCase inputs,
protect flags and ignore_changes the program declares.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from idf_core.facts import is_scale_stack
from idf_ops.plan.engine import OfflinePlan
from infra.policy import rules
from support.stacks import STACKS

pytestmark = pytest.mark.filterwarnings("ignore:.*has been deprecated in favor of:DeprecationWarning")


@pytest.mark.parametrize("stack", STACKS)
def test_stack_has_no_policy_violation(plans: Mapping[str, OfflinePlan], stack: str) -> None:
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
    plans: Mapping[str, OfflinePlan], resource_type: str
) -> None:
    """A policy keyed on a type token the program never uses would pass vacuously."""
    assert any(plan.of_type(resource_type) for plan in plans.values()), resource_type


@pytest.mark.parametrize("stack", STACKS)
def test_node_pool_policies_have_something_to_check(plans: Mapping[str, OfflinePlan], stack: str) -> None:
    """Every pool sets initialNodeCount (nodepool-resize-in-place applies) and its service account is
    granted roles in the plan (node-service-account-least-privilege reads those grants)."""
    pools = plans[stack].of_type(rules.GKE_NODE_POOL)
    assert pools
    assert all(pool.inputs.get("initialNodeCount") is not None for pool in pools), stack
    accounts = {f"serviceAccount:{pool.inputs['nodeConfig']['serviceAccount']}" for pool in pools}
    granted = {r.inputs.get("member") for r in plans[stack].of_type("gcp:projects/iAMMember:IAMMember")}
    assert accounts <= granted, f"{stack}: node service accounts {sorted(accounts - granted)} have no grant"


def test_every_stack_kind_is_planned() -> None:
    """The stack-dependent policies (dev exemptions, serving-stack HA, scale-stack rules) each see a
    stack of their kind."""
    assert set(STACKS) & rules.DEV_STACKS
    assert any(is_scale_stack(stack) for stack in STACKS)
    assert any(stack not in rules.DEV_STACKS and not is_scale_stack(stack) for stack in STACKS)


@pytest.mark.parametrize("stack", STACKS)
def test_qserv_frontend_rule_is_checked(plans: Mapping[str, OfflinePlan], stack: str) -> None:
    """Each stack opens the Qserv front end to something: firewall-qserv-private-only has a rule to read."""
    ports = {
        str(port)
        for firewall in plans[stack].of_type(rules.FIREWALL)
        for allow in firewall.inputs.get("allows") or []
        for port in allow.get("ports") or []
    }
    assert str(rules.QSERV_FRONTEND_PORT) in ports, stack


def test_scale_stack_pools_are_checked_as_temporary(plans: Mapping[str, OfflinePlan]) -> None:
    pools = plans["qserv-scale75"].of_type(rules.GKE_NODE_POOL)
    assert pools
    for pool in pools:
        labels = rules.labels_of(pool.type, pool.inputs) or {}
        assert rules.parse_expires_at(labels.get("expires-at", "")) is not None, pool.urn


def test_host_access_allowances_name_the_program_s_daemonsets(plans: Mapping[str, OfflinePlan]) -> None:
    """Each allowance matches a workload the program declares, with exactly the access allowed: an
    allowance that no longer matches anything (renamed DaemonSet) or grants more than is used is stale."""
    declared = {}
    for resource in plans["qserv-scale75"].of_type("kubernetes:apps/v1:DaemonSet"):
        meta = resource.inputs["metadata"]
        spec = resource.inputs["spec"]["template"]["spec"]
        declared[("DaemonSet", meta["namespace"], meta["name"])] = frozenset(rules.pod_host_access(spec))
    assert declared == rules.POD_HOST_ACCESS_ALLOWANCES
