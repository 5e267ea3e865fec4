"""A stack whose Pods or Jobs mount a bucket through the Cloud Storage FUSE CSI driver enables the add-on.

Without ``addonsConfig.gcsFuseCsiDriverConfig.enabled`` GKE has no ``gcsfuse.csi.storage.gke.io``
driver and the Pod stays ContainerCreating (the Qserv ingest and scale generator Jobs,
infra/qserv_ingest.py).
"""

from __future__ import annotations

from typing import Any

from support.plans import OfflinePlans
from support.stacks import STACKS

FUSE_DRIVER = "gcsfuse.csi.storage.gke.io"
CLUSTER = "gcp:container/cluster:Cluster"
WORKLOADS = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
}


def _fuse_users(plan: Any) -> list[str]:
    users = []
    for resource in plan.resources:
        path = WORKLOADS.get(resource.type)
        if path is None:
            continue
        spec: Any = resource.inputs
        for key in path:
            spec = (spec or {}).get(key)
        volumes = (spec or {}).get("volumes") or []
        if any((v.get("csi") or {}).get("driver") == FUSE_DRIVER for v in volumes):
            users.append(resource.name)
    return users


def test_clusters_enable_gcs_fuse_where_a_workload_mounts_it(plans: OfflinePlans) -> None:
    """Every stack whose plan mounts a bucket through the driver (the others have nothing to check)."""
    for stack in STACKS:
        plan = plans[stack]
        users = _fuse_users(plan)
        if not users:
            continue
        clusters = plan.of_type(CLUSTER)
        assert clusters, f"{stack}: {users} need a cluster"
        for cluster in clusters:
            fuse = (cluster.inputs.get("addonsConfig") or {}).get("gcsFuseCsiDriverConfig") or {}
            assert fuse.get("enabled") is True, (
                f"{stack}: {cluster.name} lacks the GCS FUSE CSI add-on ({users})"
            )


def test_some_stack_mounts_a_bucket_through_fuse(plans: OfflinePlans) -> None:
    """Guard: the check above is not vacuous (dp01's ingest Job mounts its staging bucket)."""
    assert _fuse_users(plans["dp01"])
