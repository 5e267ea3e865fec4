"""The IDF Pulumi program: stack config -> components -> stack outputs.

`build(config)` declares every resource of one stack and returns its outputs, typed: an
`Output[idf_core.contract.ProgramOutputs]` (the stack outputs contract plus the program-only
keys), validated against that model when the values resolve. `infra/__main__.py` (what
`pulumi up -s <stack>` runs) exports it with :func:`export_all`; the offline plan (`idf_ops.plan`)
reads the same model. Both read the config through `pulumi.Config`
(:func:`infra.config.load_from_pulumi_config`); runbooks/pulumi.md documents the exports.

Each component receives only its own config section and the references it needs (project, region,
labels, ids of other components); the config section of an optional component is passed only when
the stack declares it, so no component checks for it.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pydantic import ValidationError

from idf_core.contract import ButlerEndpoint, ProgramOutputs, QservEndpoint
from idf_core.errors import BadInput
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

__all__ = ["build", "export_all", "exports_of"]


def build(cfg: StackConfig) -> pulumi.Output[ProgramOutputs]:
    """Declare the stack; return its outputs (resolved and validated asynchronously)."""
    prefix = f"idf-{cfg.stack}"
    labels = cfg.labels()
    project, region = cfg.gcp_project, cfg.gcp_region
    pool_names = {key: pool_name(prefix, key) for key in cfg.node_pools}

    network = Network(
        prefix,
        NetworkArgs(
            network=cfg.network,
            project=project,
            region=region,
            labels=labels,
            description=f"IDF stack {cfg.stack} (owner {cfg.meta.owner})",
            private_services_access=cfg.cloudsql is not None,
        ),
    )
    cluster = Cluster(
        prefix,
        ClusterArgs(
            gke=cfg.gke,
            project=project,
            region=region,
            labels=labels,
            master_cidr=cfg.network.master_cidr,
            network_id=network.vpc.id,
            subnet_id=network.subnet.id,
            pods_range_name=network.pods_range_name,
            services_range_name=network.services_range_name,
        ),
    )
    buckets = Buckets(prefix, BucketsArgs(buckets=cfg.buckets, project=project, labels=labels))
    iam = Iam(
        prefix,
        IamArgs(
            project=project,
            stack=cfg.stack,
            namespaces=list(cfg.kubernetes.namespaces),
            buckets=buckets.buckets,
            cluster=cluster.cluster,
        ),
    )
    pools = NodePools(
        prefix,
        NodePoolsArgs(
            pools=cfg.node_pools,
            pool_names=pool_names,
            pool_zones={key: cfg.pool_zones(pool) for key, pool in cfg.node_pools.items()},
            project=project,
            stack=cfg.stack,
            labels=labels,
            cluster_id=cluster.cluster.id,
            cluster_location=cluster.location,
            node_service_account_email=iam.node_service_account.email,
        ),
    )
    registry = None
    if cfg.cloudsql is not None and network.private_services is not None:
        registry = RegistryDatabase(
            prefix,
            RegistryDatabaseArgs(
                cloudsql=cfg.cloudsql,
                project=project,
                region=region,
                labels=labels,
                network_id=network.vpc.id,
                private_services=network.private_services,
            ),
        )
    dns = None
    if cfg.dns is not None:
        dns = PublicDns(prefix, PublicDnsArgs(dns=cfg.dns, project=project, stack=cfg.stack, labels=labels))
    if cfg.budget is not None:
        Budget(prefix, BudgetArgs(budget=cfg.budget, project=project, stack=cfg.stack))
    k8s_layer = KubernetesLayer(
        prefix,
        KubernetesLayerArgs(
            namespaces=cfg.kubernetes.namespaces,
            qserv=cfg.qserv,
            node_pools=cfg.node_pools,
            project=project,
            region=region,
            stack=cfg.stack,
            labels=labels,
            cluster=cluster.cluster,
            subnet_id=network.subnet.id,
            pool_names=pool_names,
            pools=list(pools.pools.values()),
            workload_service_accounts=iam.workload_accounts,
        ),
    )

    host = dns.fqdn if dns is not None else f"{cfg.gke.cluster_name}.internal"
    base = f"https://{host}"
    butler: pulumi.Input[ButlerEndpoint] | dict[str, Any] | None
    if registry is not None and "butler_datastore" in buckets.buckets:
        datastore = cfg.buckets["butler_datastore"].name
        butler = pulumi.Output.all(registry.instance.private_ip_address, registry.database.name).apply(
            lambda v: ButlerEndpoint(
                repo_uri=f"gs://{datastore}/repo",
                readonly_config=f"gs://{datastore}/repo/butler-readonly.yaml",
                registry_host=v[0],
                registry_port=5432,
                registry_database=v[1],
            )
        )
    else:
        # A stack without a Butler of its own names another stack's (infra.config checks that it
        # does); a missing one is left to the contract model to refuse, with the other problems.
        butler = cfg.butler_reference.model_dump() if cfg.butler_reference is not None else None
        if butler is not None:
            butler["registry_port"] = 5432
    qserv: pulumi.Input[QservEndpoint | None] = None
    if cfg.qserv is not None and k8s_layer.qserv_frontend_address is not None:
        q = cfg.qserv
        qserv = k8s_layer.qserv_frontend_address.address.apply(
            lambda address: QservEndpoint(
                host=address,
                port=QSERV_FRONTEND_PORT,
                database=q.database,
                dialect="qserv",
                expected_workers=q.worker_replicas,
            )
        )
    resolved = pulumi.Output.all(
        butler=butler,
        qserv=qserv,
        buckets={role: b.name for role, b in buckets.buckets.items()},
        cluster_name=cluster.cluster.name,
        cloudsql_connection_name=registry.instance.connection_name if registry else None,
    )

    def outputs(values: dict[str, Any]) -> ProgramOutputs:
        try:
            return _outputs(values)
        except ValidationError as exc:
            raise BadInput(
                f"{cfg.source}: the stack cannot meet the stack outputs contract (idf_core.contract): "
                f"{_problems(exc)}; every stack serves Qserv (idf:qserv) and a Butler (its own "
                "idf:cloudsql + butler_datastore bucket, or idf:butler_reference)"
            ) from exc

    def _outputs(values: dict[str, Any]) -> ProgramOutputs:
        return ProgramOutputs(
            stack=cfg.stack,
            kind="gcp",
            tap_url=f"{base}/api/tap",
            hub_url=f"{base}/nb/hub",
            portal_url=f"{base}/portal/app",
            qserv=values["qserv"],
            butler=values["butler"],
            buckets=values["buckets"],
            cluster_name=values["cluster_name"],
            node_pools=list(pool_names.values()),
            cloudsql_connection_name=values["cloudsql_connection_name"],
            registry_required_extensions=REGISTRY_EXTENSIONS if registry else [],
            zone_fallbacks={
                pool_names[k]: list(p.zone_fallbacks) for k, p in cfg.node_pools.items() if p.zone_fallbacks
            },
            temporary_pools={
                pool_names[k]: p.expires_at.isoformat()
                for k, p in cfg.node_pools.items()
                if p.temporary and p.expires_at
            },
            gcp_project=project,
            region=region,
        )

    return resolved.apply(outputs)


def _problems(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())


def exports_of(outputs: pulumi.Output[ProgramOutputs]) -> dict[str, pulumi.Output[Any]]:
    """The stack exports of the outputs: one Output per field of the model. A field the program did
    not set, or set to None, resolves to None: absent, not null (the engine drops such outputs)."""

    def export(key: str) -> pulumi.Output[Any]:
        return outputs.apply(lambda model: model.exports().get(key))

    return {key: export(key) for key in ProgramOutputs.model_fields}


def export_all(outputs: pulumi.Output[ProgramOutputs]) -> None:
    """`pulumi.export` every export of the stack's outputs."""
    for key, value in exports_of(outputs).items():
        pulumi.export(key, value)
