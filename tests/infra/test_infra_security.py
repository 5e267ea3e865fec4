"""Property tests: every security-relevant setting, on every stack, with the URN in the message.

Each property is a function of one planned resource returning the list of violations; the
mutation tests at the end prove each property can fail.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import pytest

from idf_ops.plan.engine import OfflinePlan, PlannedResource
from infra.iam import NODE_ROLES

STACKS = ["dev", "dp01", "dp02", "qserv-scale75"]
PRIMITIVE_ROLES = {"roles/owner", "roles/editor", "roles/viewer"}


def _get(d: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        d = d.get(k) if isinstance(d, dict) else None  # type: ignore[assignment]
    return d


def cluster_props(r: PlannedResource) -> list[str]:
    i = r.inputs
    bad = []
    if _get(i, "privateClusterConfig", "enablePrivateNodes") is not True:
        bad.append("nodes are not private")
    if not _get(i, "workloadIdentityConfig", "workloadPool"):
        bad.append("Workload Identity is off")
    if i.get("enableShieldedNodes") is not True:
        bad.append("shielded nodes are off")
    if i.get("removeDefaultNodePool") is not True:
        bad.append("the default node pool is kept")
    if not _get(i, "releaseChannel", "channel"):
        bad.append("no release channel")
    blocks = _get(i, "masterAuthorizedNetworksConfig", "cidrBlocks") or []
    if not blocks or any(b.get("cidrBlock") == "0.0.0.0/0" for b in blocks):
        bad.append("control plane not restricted by master authorized networks")
    if i.get("enableLegacyAbac") is not False:
        bad.append("legacy ABAC not disabled")
    if _get(i, "masterAuth", "clientCertificateConfig", "issueClientCertificate") is not False:
        bad.append("client certificates issued")
    return bad


def node_pool_props(r: PlannedResource) -> list[str]:
    i = r.inputs
    nc = i.get("nodeConfig") or {}
    bad = []
    if _get(i, "management", "autoRepair") is not True or _get(i, "management", "autoUpgrade") is not True:
        bad.append("auto-repair/auto-upgrade off")
    if "initialNodeCount" not in r.ignore_changes:
        bad.append("initialNodeCount not in ignore_changes (a resize would replace the pool)")
    if not _get(nc, "shieldedInstanceConfig", "enableSecureBoot"):
        bad.append("secure boot off")
    if _get(nc, "workloadMetadataConfig", "mode") != "GKE_METADATA":
        bad.append("node metadata exposed (workload metadata mode is not GKE_METADATA)")
    if not nc.get("serviceAccount") or "-compute@" in str(nc.get("serviceAccount")):
        bad.append("nodes run as the default compute service account")
    if _get(nc, "metadata", "disable-legacy-endpoints") != "true":
        bad.append("legacy metadata endpoints enabled")
    labels = nc.get("resourceLabels") or {}
    if not labels.get("stack") or not labels.get("owner"):
        bad.append("missing stack/owner labels")
    return bad


def cloudsql_props(r: PlannedResource) -> list[str]:
    s = r.inputs.get("settings") or {}
    ip = s.get("ipConfiguration") or {}
    backup = s.get("backupConfiguration") or {}
    bad = []
    if ip.get("ipv4Enabled") is not False:
        bad.append("public IPv4 enabled")
    if not ip.get("privateNetwork"):
        bad.append("no private network")
    if ip.get("sslMode") != "ENCRYPTED_ONLY":
        bad.append("SSL not required")
    if backup.get("enabled") is not True or backup.get("pointInTimeRecoveryEnabled") is not True:
        bad.append("backups or point-in-time recovery off")
    if r.inputs.get("deletionProtection") is not True or s.get("deletionProtectionEnabled") is not True:
        bad.append("deletion protection off")
    if not r.protect:
        bad.append("not protect=True")
    if not any(f.get("name") == "max_connections" for f in s.get("databaseFlags") or []):
        bad.append("no max_connections flag")
    return bad


def bucket_props(r: PlannedResource) -> list[str]:
    i = r.inputs
    bad = []
    if i.get("uniformBucketLevelAccess") is not True:
        bad.append("uniform bucket-level access off")
    if i.get("publicAccessPrevention") != "enforced":
        bad.append("public access prevention not enforced")
    if i.get("forceDestroy"):
        bad.append("force_destroy on")
    if not r.protect:
        bad.append("not protect=True")
    if not i.get("lifecycleRules"):
        bad.append("no lifecycle rules (storage is the cost driver)")
    labels = i.get("labels") or {}
    if not labels.get("stack") or not labels.get("owner"):
        bad.append("missing stack/owner labels")
    return bad


def firewall_props(r: PlannedResource) -> list[str]:
    i = r.inputs
    bad = []
    ranges = i.get("sourceRanges") or []
    ports = [p for a in i.get("allows") or [] for p in a.get("ports") or []]
    if "0.0.0.0/0" in ranges:
        bad.append("open to 0.0.0.0/0")
    if "4040" in ports and not all(x.startswith("10.") for x in ranges):
        bad.append("Qserv 4040 reachable from outside the Science Platform ranges")
    return bad


def iam_props(r: PlannedResource) -> list[str]:
    role = r.inputs.get("role")
    return [f"primitive role {role}"] if role in PRIMITIVE_ROLES else []


def sql_user_props(r: PlannedResource) -> list[str]:
    return [] if r.secret_inputs == ["password"] else ["password not recorded as a secret"]


PROPERTIES: dict[str, Callable[[PlannedResource], list[str]]] = {
    "gcp:container/cluster:Cluster": cluster_props,
    "gcp:container/nodePool:NodePool": node_pool_props,
    "gcp:sql/databaseInstance:DatabaseInstance": cloudsql_props,
    "gcp:storage/bucket:Bucket": bucket_props,
    "gcp:compute/firewall:Firewall": firewall_props,
    "gcp:projects/iAMMember:IAMMember": iam_props,
    "gcp:storage/bucketIAMMember:BucketIAMMember": iam_props,
    "gcp:sql/user:User": sql_user_props,
}


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("type_token", sorted(PROPERTIES))
def test_security_properties(plans: dict[str, OfflinePlan], stack: str, type_token: str) -> None:
    violations = [
        f"{r.urn}: {problem}"
        for r in plans[stack].of_type(type_token)
        for problem in PROPERTIES[type_token](r)
    ]
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize("stack", ["dp01", "dp02"])
def test_serving_stacks_are_highly_available(plans: dict[str, OfflinePlan], stack: str) -> None:
    (instance,) = plans[stack].of_type("gcp:sql/databaseInstance:DatabaseInstance")
    assert instance.inputs["settings"]["availabilityType"] == "REGIONAL", instance.urn
    (cluster,) = plans[stack].of_type("gcp:container/cluster:Cluster")
    assert cluster.inputs["location"] == "us-central1", f"{cluster.urn}: not regional"


@pytest.mark.parametrize("stack", STACKS)
def test_node_service_account_roles_are_least_privilege(plans: dict[str, OfflinePlan], stack: str) -> None:
    roles = {
        r.inputs["role"]
        for r in plans[stack].of_type("gcp:projects/iAMMember:IAMMember")
        if "gke-nodes" in r.name
    }
    assert roles == set(NODE_ROLES), f"stack {stack}: node roles {sorted(roles)}"


def test_temporary_pools_are_labelled(plans: dict[str, OfflinePlan]) -> None:
    pools = plans["qserv-scale75"].of_type("gcp:container/nodePool:NodePool")
    assert pools
    for r in pools:
        for where in ("resourceLabels", "labels"):
            labels = r.inputs["nodeConfig"][where]
            assert labels.get("purpose") == "scale-test", f"{r.urn}: nodeConfig.{where}"
            assert labels.get("owner"), f"{r.urn}: nodeConfig.{where}"
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}t\d{2}-\d{2}z", labels.get("expires-at", "")), r.urn


def test_scale_stack_declares_no_stateful_resources(plans: dict[str, OfflinePlan]) -> None:
    stateful = [
        r.urn
        for r in plans["qserv-scale75"].resources
        if r.type in ("gcp:sql/databaseInstance:DatabaseInstance", "gcp:storage/bucket:Bucket")
    ]
    assert stateful == []


# ---- each property can fail -----------------------------------------------------------------

MUTATIONS: list[tuple[str, Callable[[PlannedResource], None], str]] = [
    (
        "gcp:container/cluster:Cluster",
        lambda r: r.inputs["privateClusterConfig"].update(enablePrivateNodes=False),
        "not private",
    ),
    ("gcp:container/cluster:Cluster", lambda r: r.inputs.pop("workloadIdentityConfig"), "Workload Identity"),
    ("gcp:container/cluster:Cluster", lambda r: r.inputs.update(enableShieldedNodes=False), "shielded"),
    (
        "gcp:container/cluster:Cluster",
        lambda r: r.inputs.update(removeDefaultNodePool=False),
        "default node pool",
    ),
    (
        "gcp:container/cluster:Cluster",
        lambda r: r.inputs["masterAuthorizedNetworksConfig"]["cidrBlocks"].append({"cidrBlock": "0.0.0.0/0"}),
        "master authorized",
    ),
    ("gcp:container/nodePool:NodePool", lambda r: r.ignore_changes.clear(), "ignore_changes"),
    (
        "gcp:container/nodePool:NodePool",
        lambda r: r.inputs["management"].update(autoRepair=False),
        "auto-repair",
    ),
    (
        "gcp:container/nodePool:NodePool",
        lambda r: r.inputs["nodeConfig"]["workloadMetadataConfig"].update(mode="GCE_METADATA"),
        "metadata",
    ),
    (
        "gcp:sql/databaseInstance:DatabaseInstance",
        lambda r: r.inputs["settings"]["ipConfiguration"].update(ipv4Enabled=True),
        "public IPv4",
    ),
    (
        "gcp:sql/databaseInstance:DatabaseInstance",
        lambda r: r.inputs["settings"]["ipConfiguration"].update(sslMode="ALLOW_UNENCRYPTED_AND_ENCRYPTED"),
        "SSL",
    ),
    (
        "gcp:sql/databaseInstance:DatabaseInstance",
        lambda r: r.inputs["settings"]["backupConfiguration"].update(pointInTimeRecoveryEnabled=False),
        "point-in-time",
    ),
    ("gcp:sql/databaseInstance:DatabaseInstance", lambda r: setattr(r, "protect", False), "protect"),
    (
        "gcp:storage/bucket:Bucket",
        lambda r: r.inputs.update(publicAccessPrevention="inherited"),
        "public access",
    ),
    ("gcp:storage/bucket:Bucket", lambda r: r.inputs.update(uniformBucketLevelAccess=False), "uniform"),
    ("gcp:storage/bucket:Bucket", lambda r: r.inputs.update(lifecycleRules=[]), "lifecycle"),
    ("gcp:compute/firewall:Firewall", lambda r: r.inputs["sourceRanges"].append("0.0.0.0/0"), "0.0.0.0/0"),
    ("gcp:projects/iAMMember:IAMMember", lambda r: r.inputs.update(role="roles/editor"), "primitive"),
    ("gcp:sql/user:User", lambda r: r.secret_inputs.clear(), "secret"),
]


@pytest.mark.parametrize(("type_token", "mutate", "expected"), MUTATIONS, ids=[m[2] for m in MUTATIONS])
def test_each_property_catches_its_mutation(
    plans: dict[str, OfflinePlan], type_token: str, mutate: Callable[[PlannedResource], None], expected: str
) -> None:
    resource = copy.deepcopy(plans["dp01"].of_type(type_token)[0])
    assert PROPERTIES[type_token](resource) == [], "the unmutated resource must pass"
    mutate(resource)
    problems = PROPERTIES[type_token](resource)
    assert any(expected in p for p in problems), problems
