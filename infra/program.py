"""The IDF Pulumi program: stack config -> components -> stack outputs.

`build(config)` declares every resource of one stack and returns its exports; `infra/__main__.py`
(what `pulumi up -s <stack>` runs) and the offline plan (`idf_ops.plan`) both call it, after
reading the config through `pulumi.Config` (:func:`infra.config.load_from_pulumi_config`).

The exports are the stack outputs contract (`idf_core.contract.StackOutputs`) plus a few
program-only keys (listed in `idf_core.contract.PROGRAM_ONLY_OUTPUTS`, which readers of live
outputs drop); runbooks/pulumi.md documents them.
"""

from __future__ import annotations

from typing import Any

import pulumi

from idf_core.facts import pool_name
from infra.budget import Budget, BudgetArgs
from infra.cloudsql import REGISTRY_EXTENSIONS, RegistryDatabase, RegistryDatabaseArgs
from infra.config import StackConfig
from infra.dns import PublicDns, PublicDnsArgs
from infra.gke import Cluster, ClusterArgs
from infra.iam import Iam, IamArgs
from infra.kubernetes import QSERV_FRONTEND_PORT, KubernetesLayer, KubernetesLayerArgs
from infra.network import Network, NetworkArgs
from infra.node_pools import NodePools, NodePoolsArgs
from infra.storage import Buckets, BucketsArgs

__all__ = ["build", "export_all"]


def build(cfg: StackConfig) -> dict[str, Any]:
    """Declare the stack; return its exports (values may be Outputs)."""
    prefix = f"idf-{cfg.stack}"
    network = Network(prefix, NetworkArgs(config=cfg, private_services_access=cfg.cloudsql is not None))
    cluster = Cluster(
        prefix,
        ClusterArgs(
            config=cfg,
            network_id=network.vpc.id,
            subnet_id=network.subnet.id,
            pods_range_name=network.pods_range_name,
            services_range_name=network.services_range_name,
        ),
    )
    buckets = Buckets(prefix, BucketsArgs(config=cfg))
    iam = Iam(prefix, IamArgs(config=cfg, buckets=buckets.buckets, cluster=cluster.cluster))
    pools = NodePools(
        prefix,
        NodePoolsArgs(
            config=cfg,
            cluster_id=cluster.cluster.id,
            cluster_location=cluster.location,
            node_service_account_email=iam.node_service_account.email,
        ),
    )
    pool_names = {key: pool_name(prefix, key) for key in cfg.node_pools}
    registry = None
    if cfg.cloudsql is not None and network.private_services is not None:
        registry = RegistryDatabase(
            prefix,
            RegistryDatabaseArgs(
                config=cfg, network_id=network.vpc.id, private_services=network.private_services
            ),
        )
    dns = PublicDns(prefix, PublicDnsArgs(config=cfg)) if cfg.dns is not None else None
    if cfg.budget is not None:
        Budget(prefix, BudgetArgs(config=cfg))
    k8s_layer = KubernetesLayer(
        prefix,
        KubernetesLayerArgs(
            config=cfg,
            cluster=cluster.cluster,
            subnet_id=network.subnet.id,
            pool_names=pool_names,
            pools=list(pools.pools.values()),
            workload_service_accounts=iam.workload_accounts,
        ),
    )

    host = dns.fqdn if dns is not None else f"{cfg.gke.cluster_name}.internal"
    base = f"https://{host}"
    if registry is not None and "butler_datastore" in buckets.buckets:
        datastore = cfg.buckets["butler_datastore"].name
        butler: dict[str, Any] = {
            "repo_uri": f"gs://{datastore}/repo",
            "readonly_config": f"gs://{datastore}/repo/butler-readonly.yaml",
            "registry_host": registry.instance.private_ip_address,
            "registry_port": 5432,
            "registry_database": registry.database.name,
        }
    else:
        ref = cfg.butler_reference
        if ref is None:
            raise ValueError("no Butler: guarded by infra.config")  # validated before build()
        butler = {
            "repo_uri": ref.repo_uri,
            "readonly_config": ref.readonly_config,
            "registry_host": ref.registry_host,
            "registry_port": 5432,
            "registry_database": ref.registry_database,
        }
    qserv: dict[str, Any] | None = None
    if cfg.qserv is not None and k8s_layer.qserv_frontend_address is not None:
        qserv = {
            "host": k8s_layer.qserv_frontend_address.address,
            "port": QSERV_FRONTEND_PORT,
            "database": cfg.qserv.database,
            "dialect": "qserv",
            "expected_workers": cfg.qserv.worker_replicas,
        }
    return {
        "stack": cfg.stack,
        "kind": "gcp",
        "tap_url": f"{base}/api/tap",
        "hub_url": f"{base}/nb/hub",
        "portal_url": f"{base}/portal/app",
        "qserv": qserv,
        "butler": butler,
        "buckets": {role: b.name for role, b in buckets.buckets.items()},
        "cluster_name": cluster.cluster.name,
        "node_pools": list(pool_names.values()),
        "cloudsql_connection_name": registry.instance.connection_name if registry else None,
        "registry_required_extensions": REGISTRY_EXTENSIONS if registry else [],
        "zone_fallbacks": {
            pool_names[k]: list(p.zone_fallbacks) for k, p in cfg.node_pools.items() if p.zone_fallbacks
        },
        "temporary_pools": {
            pool_names[k]: p.expires_at.isoformat()
            for k, p in cfg.node_pools.items()
            if p.temporary and p.expires_at
        },
        "gcp_project": cfg.gcp_project,
        "region": cfg.gcp_region,
    }


def export_all(outputs: dict[str, Any]) -> None:
    """`pulumi.export` every output (None values are skipped: absent, not null)."""
    for key, value in outputs.items():
        if value is not None:
            pulumi.export(key, value)
