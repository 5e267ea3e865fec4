"""Node pools component: one GKE node pool per `idf:node_pools` entry.

Counts belong to the autoscaler: pools declare total min/max bounds and an initial count whose
later changes are ignored (`ignore_changes`), so resizing a pool never replaces it (pulumi-gcp
#412). Auto-repair and auto-upgrade are on; nodes are shielded, run as the least-privileged
node service account, and expose only the GKE metadata server (Workload Identity).
Temporary pools (scale tests) carry `purpose=scale-test`, `owner` and `expires-at` labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from idf_core.facts import node_network_tag
from infra.config import NodePoolConfig

__all__ = ["IGNORED_POOL_PROPERTIES", "NodePools", "NodePoolsArgs", "pool_labels"]

# Pulumi property names (camelCase, as the engine records them) a count change must not touch.
IGNORED_POOL_PROPERTIES = ["initialNodeCount", "nodeCount"]

_TAINT_EFFECTS_K8S = {
    "NO_SCHEDULE": "NoSchedule",
    "PREFER_NO_SCHEDULE": "PreferNoSchedule",
    "NO_EXECUTE": "NoExecute",
}


def pool_labels(stack_labels: dict[str, str], key: str, pool: NodePoolConfig) -> dict[str, str]:
    """GCP resource labels of a pool: the stack's labels (stack, owner, ...), its key and role, and
    the scale-test labels when temporary."""
    labels = {**stack_labels, "pool": key.replace("_", "-"), "role": pool.role}
    if pool.temporary and pool.expires_at is not None:
        labels["purpose"] = "scale-test"
        labels["expires-at"] = pool.expires_at.strftime("%Y-%m-%dt%H-%Mz").lower()
    return labels


def k8s_taint_effect(effect: str) -> str:
    """GKE's taint effect enum -> the Kubernetes spelling (for tolerations)."""
    return _TAINT_EFFECTS_K8S[effect]


@dataclass(frozen=True)
class NodePoolsArgs:
    """Inputs of :class:`NodePools`."""

    pools: dict[str, NodePoolConfig]
    """Pool key (`qserv_worker`) -> pool (`idf:node_pools`)."""
    pool_names: dict[str, str]
    """Pool key -> GKE node pool name (the program's mapping, :func:`idf_core.facts.pool_name`)."""
    pool_zones: dict[str, list[str]]
    """Pool key -> the zones it is placed in (:meth:`infra.config.StackConfig.pool_zones`)."""
    project: str
    stack: str
    """Network tag of every node (`<stack>-nodes`)."""
    labels: dict[str, str]
    cluster_id: pulumi.Input[str]
    cluster_location: str
    node_service_account_email: pulumi.Input[str]


class NodePools(pulumi.ComponentResource):
    """All node pools of a cluster."""

    pools: dict[str, gcp.container.NodePool]

    def __init__(self, name: str, args: NodePoolsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("idf:node_pools:NodePools", name, None, opts)
        self.pools = {key: self._pool(key, pool, args) for key, pool in args.pools.items()}
        self.register_outputs({"pool_names": {k: p.name for k, p in self.pools.items()}})

    def _pool(self, key: str, pool: NodePoolConfig, args: NodePoolsArgs) -> gcp.container.NodePool:
        zones = args.pool_zones[key]
        pool_name = args.pool_names[key]
        labels = pool_labels(args.labels, key, pool)
        node_labels = {**pool.labels, "idf-role": pool.role}
        if pool.temporary:
            node_labels.update({k: labels[k] for k in ("purpose", "owner", "expires-at")})
        return gcp.container.NodePool(
            pool_name,
            name=pool_name,
            project=args.project,
            cluster=args.cluster_id,
            location=args.cluster_location,
            node_locations=zones,
            # initial_node_count is per zone; the autoscaler bounds below are totals.
            initial_node_count=math.ceil(pool.effective_initial_nodes / len(zones)),
            autoscaling=gcp.container.NodePoolAutoscalingArgs(
                total_min_node_count=pool.min_nodes,
                total_max_node_count=pool.max_nodes,
                location_policy="ANY" if pool.spot else "BALANCED",
            ),
            management=gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            upgrade_settings=gcp.container.NodePoolUpgradeSettingsArgs(max_surge=1, max_unavailable=0),
            node_config=gcp.container.NodePoolNodeConfigArgs(
                machine_type=pool.machine_type,
                disk_size_gb=pool.disk_size_gb,
                disk_type=pool.disk_type,
                spot=pool.spot,
                service_account=args.node_service_account_email,
                oauth_scopes=["https://www.googleapis.com/auth/cloud-platform"],
                labels=node_labels,
                resource_labels=labels,
                tags=[pool.role, node_network_tag(args.stack)],
                metadata={"disable-legacy-endpoints": "true"},
                taints=[
                    gcp.container.NodePoolNodeConfigTaintArgs(key=t.key, value=t.value, effect=t.effect)
                    for t in pool.taints
                ],
                local_nvme_ssd_block_config=(
                    gcp.container.NodePoolNodeConfigLocalNvmeSsdBlockConfigArgs(
                        local_ssd_count=pool.local_nvme_ssd_count
                    )
                    if pool.local_nvme_ssd_count
                    else None
                ),
                shielded_instance_config=gcp.container.NodePoolNodeConfigShieldedInstanceConfigArgs(
                    enable_secure_boot=True, enable_integrity_monitoring=True
                ),
                workload_metadata_config=gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(
                    mode="GKE_METADATA"
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=IGNORED_POOL_PROPERTIES),
        )
