"""HTCondor on GKE (issue 13 item 4): dp02's plan holds the central manager and schedd on the core
pool and the execute pods on the spot batch pool, after the cluster and its pools; every manifest
is valid (kubernetes-validate strict); the identity is objectAdmin on the datastore bucket only;
the signing key is a Pulumi secret; the policy pack's digest rule covers the Deployment and the
StatefulSets (a tag-only image is caught), and dp02 has 0 violations.

The component test is a `@pulumi.runtime.test` program run (a failing `apply` fails it); the stack
tests read the offline plan of the real stack file.
"""

from __future__ import annotations

import copy
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pytest

from idf_core.facts import HTCONDOR_NAMESPACE, pool_name
from idf_ops.plan.engine import OfflinePlan
from idf_ops.plan.manifests import manifests_of, validate_manifests
from infra import batch_htcondor
from infra.batch_htcondor import BatchHtcondor, BatchHtcondorArgs, machine_shape
from infra.config import load_stack_file, resolve_stack_file
from infra.node_pools import k8s_taint_effect
from infra.policy.rules import POLICIES, evaluate_inventory
from support.mocks import use_mocks
from support.plans import TEST_IMAGES, OfflinePlans

STACK = "dp02"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFULSET = "kubernetes:apps/v1:StatefulSet"
NODE_POOL = "gcp:container/nodePool:NodePool"
CLUSTER = "gcp:container/cluster:Cluster"


def _plan(plans: OfflinePlans) -> OfflinePlan:
    return plans[STACK]


def _htcondor(plan: OfflinePlan, type_token: str) -> list[Any]:
    return [
        r for r in plan.of_type(type_token) if r.inputs["metadata"].get("namespace") == HTCONDOR_NAMESPACE
    ]


def test_plan_places_daemons_on_their_pools(plans: OfflinePlans) -> None:
    plan = _plan(plans)
    cfg = load_stack_file(resolve_stack_file(STACK))
    (execute,) = _htcondor(plan, DEPLOYMENT)
    statefulsets = {r.inputs["metadata"]["name"]: r for r in _htcondor(plan, STATEFULSET)}
    assert set(statefulsets) == {batch_htcondor.CM_SERVICE, batch_htcondor.SUBMIT_SERVICE}
    for sts in statefulsets.values():
        pod = sts.inputs["spec"]["template"]["spec"]
        assert pod["nodeSelector"] == {"cloud.google.com/gke-nodepool": pool_name("idf-dp02", "core")}, (
            sts.urn
        )
        assert "tolerations" not in pod, sts.urn
    pod = execute.inputs["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"cloud.google.com/gke-nodepool": pool_name("idf-dp02", "batch")}
    batch = cfg.node_pools["batch"]
    assert batch.spot and batch.min_nodes == 0
    assert [(t["key"], t["value"], t["effect"]) for t in pod["tolerations"]] == [
        (t.key, t.value, k8s_taint_effect(t.effect)) for t in batch.taints
    ]
    assert execute.inputs["spec"]["replicas"] == batch_htcondor.EXECUTE_REPLICAS == 0
    # One execute pod per n2-standard-8 node: 7 of its 8 vCPUs, 80 % of its 32 GB.
    assert pod["containers"][0]["resources"]["requests"] == {"cpu": "7", "memory": "25Gi"}
    for workload in [execute, *statefulsets.values()]:
        spec = workload.inputs["spec"]["template"]["spec"]
        assert spec["serviceAccountName"] == batch_htcondor.SERVICE_ACCOUNT, workload.urn
        for container in spec["initContainers"] + spec["containers"]:
            assert container["image"].startswith("htcondor/"), workload.urn
            assert "@sha256:" in container["image"], workload.urn


def test_daemons_come_after_the_cluster_and_every_pool(plans: OfflinePlans) -> None:
    plan = _plan(plans)
    pools = {r.urn for r in plan.of_type(NODE_POOL)}
    assert pools
    for workload in _htcondor(plan, DEPLOYMENT) + _htcondor(plan, STATEFULSET):
        assert pools <= set(workload.dependencies), workload.urn
    (namespace,) = [
        r
        for r in plan.of_type("kubernetes:core/v1:Namespace")
        if r.inputs["metadata"]["name"] == HTCONDOR_NAMESPACE
    ]
    assert pools <= set(namespace.dependencies)
    # The node pools take the cluster's id (an input dependency), so the chain is cluster -> pools -> pods.
    (cluster,) = plan.of_type(CLUSTER)
    assert cluster.urn not in pools
    assert all(p.inputs["cluster"] for p in plan.of_type(NODE_POOL))


def test_htcondor_manifests_are_valid_strict(plans: OfflinePlans) -> None:
    manifests = [
        m for m in manifests_of(_plan(plans)) if m["metadata"].get("namespace") == HTCONDOR_NAMESPACE
    ]
    kinds = sorted(m["kind"] for m in manifests)
    assert kinds == [
        "ConfigMap", "ConfigMap", "Deployment", "NetworkPolicy", "Secret", "Secret",
        "Service", "Service", "ServiceAccount", "StatefulSet", "StatefulSet",
    ]  # fmt: skip
    assert validate_manifests(manifests) == []
    broken = copy.deepcopy(next(m for m in manifests if m["kind"] == "Deployment"))
    broken["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    assert validate_manifests([broken]), "strict validation must refuse an unknown field"


def test_identity_is_object_admin_on_the_datastore_only(plans: OfflinePlans) -> None:
    plan = _plan(plans)
    cfg = load_stack_file(resolve_stack_file(STACK))
    account = plan.by_name("idf-dp02-htcondor-sa")
    grants = [r for r in plan.resources if r.parent == account.parent and r.type.startswith("gcp:")]
    bucket_grants = [r for r in grants if r.type == "gcp:storage/bucketIAMMember:BucketIAMMember"]
    assert [(g.inputs["bucket"], g.inputs["role"]) for g in bucket_grants] == [
        (cfg.buckets["butler_datastore"].name, "roles/storage.objectAdmin")
    ]
    assert not [r for r in grants if r.type == "gcp:projects/iAMMember:IAMMember"]
    (wi,) = [r for r in grants if r.type == "gcp:serviceaccount/iAMMember:IAMMember"]
    assert wi.inputs["member"] == f"serviceAccount:{cfg.gcp_project}.svc.id.goog[htcondor/htcondor]"


def test_network_policy_admits_only_pool_pods_on_the_condor_port(plans: OfflinePlans) -> None:
    (policy,) = _htcondor(_plan(plans), "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    spec = policy.inputs["spec"]
    assert spec["policyTypes"] == ["Ingress"]
    (rule,) = spec["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": batch_htcondor.CONDOR_PORT}]
    assert rule["from"] == [{"podSelector": spec["podSelector"]}]


def test_policy_covers_deployments_and_statefulsets(plans: OfflinePlans) -> None:
    """dp02 is compliant; the same plan with the execute pods on a bare tag is not (the rule reads
    Deployments and StatefulSets, not only Jobs and Pods). The digests are the tests' (support.plans)."""
    inventory = [r.to_json() for r in _plan(plans).resources if r.custom]
    assert evaluate_inventory(inventory) == []
    (rule,) = [p for p in POLICIES if p.name == "k8s-batch-pods-pinned-workload-identity"]
    for kind, name in ((DEPLOYMENT, "htcondor-execute"), (STATEFULSET, "htcondor-cm")):
        mutated = copy.deepcopy(inventory)
        target = next(r for r in mutated if r["type"] == kind and r["inputs"]["metadata"]["name"] == name)
        container = target["inputs"]["spec"]["template"]["spec"]["containers"][0]
        container["image"] = container["image"].split("@")[0]
        violations = evaluate_inventory(mutated, [rule])
        assert [v.urn for v in violations] == [target["urn"]], violations


def test_machine_shape_and_unknown_types() -> None:
    assert machine_shape("n2-standard-8") == (8, 32.0)
    assert machine_shape("n1-highmem-4") == (4, 26.0)
    with pytest.raises(ValueError, match="no known shape"):
        machine_shape("c3-standard-8")


@pulumi.runtime.test
def test_signing_key_is_a_secret_and_mounted_read_only() -> Any:
    use_mocks(STACK)
    cfg = load_stack_file(resolve_stack_file(STACK))
    provider = k8s.Provider("t-provider", kubeconfig="{}")
    bucket = gcp.storage.Bucket("t-bucket", location="US")
    component = BatchHtcondor(
        "t",
        BatchHtcondorArgs(
            project=cfg.gcp_project,
            stack=STACK,
            labels={},
            provider=provider,
            core_pool_name="core",
            batch_pool=cfg.node_pools["batch"],
            batch_pool_name="batch",
            batch_vcpus=8,
            batch_memory_gb=32.0,
            depends_on=[],
            datastore_bucket=bucket,
            registry_host="10.0.0.5",
            registry_database="butler_registry",
            writer_user="butler_writer",
            writer_password=pulumi.Output.secret("generated-at-runtime"),
            images=batch_htcondor.HtcondorImages(
                cm=TEST_IMAGES["htcondor_cm"],
                submit=TEST_IMAGES["htcondor_submit"],
                execute=TEST_IMAGES["htcondor_execute"],
            ),
        ),
    )

    def check(values: list[Any]) -> None:
        is_secret, spec = values
        assert is_secret
        pod = spec["template"]["spec"]
        key = next(v for v in pod["volumes"] if v["name"] == "signing-key")
        assert key["secret"]["secret_name"] == batch_htcondor.SIGNING_KEY_SECRET
        for container in pod["containers"]:
            mount = next(m for m in container["volume_mounts"] if m["name"] == "signing-key")
            assert mount["read_only"] is True

    is_secret = pulumi.Output.from_input(component.signing_key.result.is_secret())
    return pulumi.Output.all(is_secret, component.execute.spec).apply(check)
