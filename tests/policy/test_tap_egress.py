"""Policy `tap-egress-denies-internal` (issue 16, finding 7): TAP pods never reach the metadata
server or cluster ranges. The policy spec of infra/tap_egress.py passes; each mutation is caught."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from infra.policy.rules import POLICIES, evaluate_inventory
from infra.tap_egress import LINK_LOCAL_CIDR, tap_egress_spec

POLICY = "tap-egress-denies-internal"
SUBNET, PODS, SERVICES, MASTER = "10.10.0.0/20", "10.20.0.0/14", "10.30.0.0/20", "172.16.0.16/28"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def _resource(resource_type: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": resource_type,
        "name": name,
        "urn": f"urn:pulumi:dp01::idf::{resource_type}::{name}",
        "inputs": inputs,
    }


def inventory() -> list[dict[str, Any]]:
    return [
        _resource(
            "gcp:compute/subnetwork:Subnetwork",
            "nodes",
            {
                "ipCidrRange": SUBNET,
                "secondaryIpRanges": [
                    {"rangeName": "pods", "ipCidrRange": PODS},
                    {"rangeName": "services", "ipCidrRange": SERVICES},
                ],
            },
        ),
        _resource("kubernetes:core/v1:Namespace", "ns-tap", {"metadata": {"name": "tap"}}),
        _resource(
            NETWORK_POLICY,
            "tap-egress",
            {
                "metadata": {"name": "tap-egress", "namespace": "tap"},
                "spec": tap_egress_spec([SUBNET, PODS, SERVICES, MASTER], "qserv", 4040),
            },
        ),
    ]


def _violations(resources: list[dict[str, Any]]) -> list[str]:
    policies = [p for p in POLICIES if p.name == POLICY]
    return [v.urn for v in evaluate_inventory(resources, policies)]


def test_the_spec_of_infra_passes() -> None:
    assert _violations(inventory()) == []


def _egress_block(resources: list[dict[str, Any]]) -> dict[str, Any]:
    spec = resources[2]["inputs"]["spec"]
    return next(rule for rule in spec["egress"] if "ipBlock" in rule["to"][0])["to"][0]["ipBlock"]


def _drop_policy(resources: list[dict[str, Any]]) -> str:
    del resources[2]
    return str(resources[1]["urn"])


def _allow_metadata(resources: list[dict[str, Any]]) -> str:
    _egress_block(resources)["except"].remove(LINK_LOCAL_CIDR)
    return str(resources[2]["urn"])


def _allow_pods(resources: list[dict[str, Any]]) -> str:
    block = _egress_block(resources)
    block["except"] = [c for c in block["except"] if c not in {PODS, "10.0.0.0/8"}]
    return str(resources[2]["urn"])


def _allow_everything(resources: list[dict[str, Any]]) -> str:
    resources[2]["inputs"]["spec"]["egress"].append({})
    return str(resources[2]["urn"])


def _ingress_only(resources: list[dict[str, Any]]) -> str:
    resources[2]["inputs"]["spec"]["policyTypes"] = ["Ingress"]
    return str(resources[1]["urn"])


def _some_pods_only(resources: list[dict[str, Any]]) -> str:
    resources[2]["inputs"]["spec"]["podSelector"] = {"matchLabels": {"app": "tap"}}
    return str(resources[1]["urn"])


@pytest.mark.parametrize(
    "mutate",
    [_drop_policy, _allow_metadata, _allow_pods, _allow_everything, _ingress_only, _some_pods_only],
    ids=lambda f: f.__name__.strip("_"),
)
def test_each_mutation_is_caught(mutate: Callable[[list[dict[str, Any]]], str]) -> None:
    resources = copy.deepcopy(inventory())
    offending = mutate(resources)
    assert offending in _violations(resources)


def test_a_stack_without_a_tap_namespace_needs_no_policy() -> None:
    assert _violations([inventory()[0]]) == []
