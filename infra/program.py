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

from importlib.metadata import version
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import ValidationError

from idf_core.contract import ButlerEndpoint, ExternalS3Store, ProgramOutputs, QservEndpoint, SciencePlatform
from idf_core.errors import BadInput
from idf_core.facts import node_network_tag, pool_name
from idf_core.qserv_ingest import (
    SCALE_STAGING_DELETE_AFTER_DAYS,
    SCALE_STAGING_ROLE,
    scale_chunks,
    scale_staging_uri,
)
from infra.argocd import APP_OF_APPS_NAME, SciencePlatformArgs, github_secret_id
from infra.argocd import SciencePlatform as SciencePlatformComponent
from infra.batch_htcondor import BatchHtcondor, BatchHtcondorArgs, HtcondorImages, machine_shape
from infra.budget import Budget, BudgetArgs
from infra.butler_bootstrap import ButlerBootstrap, ButlerBootstrapArgs
from infra.butler_s3 import ExternalS3Keys, ExternalS3KeysArgs, external_s3_store
from infra.cloudsql import REGISTRY_EXTENSIONS, RegistryDatabase, RegistryDatabaseArgs
from infra.config import StackConfig
from infra.config.models import PhalanxConfig
from infra.dns import PublicDns, PublicDnsArgs
from infra.gke import Cluster, ClusterArgs
from infra.iam import Iam, IamArgs
from infra.images import IdfOpsImage, IdfOpsImageArgs, idf_ops_image, pinned_upstream_image
from infra.kubernetes import QSERV_FRONTEND_PORT, KubernetesLayer, KubernetesLayerArgs
from infra.network import Network, NetworkArgs
from infra.node_pools import NodePools, NodePoolsArgs
from infra.platform_ingress import PlatformIngress, PlatformIngressArgs
from infra.qserv_ingest import QservIngest, QservIngestArgs, ScaleCatalogGenerator, ScaleCatalogGeneratorArgs
from infra.reaper import Reaper, ReaperArgs
from infra.storage import Buckets, BucketsArgs, ScratchBucketArgs, scratch_bucket

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
            node_tag=node_network_tag(cfg.stack),
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
    idf_ops = _idf_ops_image(cfg, prefix=prefix, node_service_account_email=iam.node_service_account.email)
    if cfg.reaper is not None and idf_ops is not None:
        # Independent of the cluster: the reaper must work when nothing else of this stack does.
        Reaper(
            f"{prefix}-reaper",
            ReaperArgs(reaper=cfg.reaper, project=project, region=region, labels=labels, image=idf_ops),
        )
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
            cluster_cidrs=[
                cfg.network.subnet_cidr,
                cfg.network.pods_cidr,
                cfg.network.services_cidr,
                cfg.network.master_cidr,
            ],
        ),
    )

    science_platform = None
    if cfg.phalanx is not None and dns is not None:
        science_platform = _science_platform(
            cfg, cfg.phalanx, dns=dns, provider=k8s_layer.provider, pools=pools
        )

    ingest = _workloads(
        cfg,
        prefix=prefix,
        registry=registry,
        buckets=buckets,
        k8s_layer=k8s_layer,
        pools=pools,
        idf_ops=idf_ops,
    )

    host = dns.fqdn if dns is not None else f"{cfg.gke.cluster_name}.internal"
    base = f"https://{host}"
    butler: pulumi.Input[ButlerEndpoint] | dict[str, Any] | None
    if registry is not None and "butler_datastore" in buckets.buckets:
        datastore = cfg.buckets["butler_datastore"].name
        external_s3 = _external_s3(cfg, prefix, labels)
        butler = pulumi.Output.all(registry.instance.private_ip_address, registry.database.name).apply(
            lambda v: ButlerEndpoint(
                repo_uri=f"gs://{datastore}/repo",
                readonly_config=f"gs://{datastore}/repo/butler-readonly.yaml",
                registry_host=v[0],
                registry_port=5432,
                registry_database=v[1],
                external_s3=external_s3,
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
        science_platform=science_platform,
        buckets={role: b.name for role, b in buckets.buckets.items()},
        cluster_name=cluster.cluster.name,
        cloudsql_connection_name=registry.instance.connection_name if registry else None,
        qserv_ingest_job=ingest.job_outputs() if ingest is not None else None,
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
            hub_url=f"{base}/nb",  # JupyterHub's base URL: its API is <hub_url>/hub/api
            portal_url=f"{base}/portal/app",
            qserv=values["qserv"],
            butler=values["butler"],
            science_platform=values["science_platform"],
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
            qserv_ingest_job=values["qserv_ingest_job"],
            gcp_project=project,
            region=region,
        )

    return resolved.apply(outputs)


def _workloads(
    cfg: StackConfig,
    *,
    prefix: str,
    registry: RegistryDatabase | None,
    buckets: Buckets,
    k8s_layer: KubernetesLayer,
    pools: NodePools,
    idf_ops: pulumi.Output[str] | None,
) -> QservIngest | None:
    """The in-cluster Jobs and pools that need the registry, the buckets or Qserv: HTCondor for
    DP0.2, the Butler bootstrap and the catalogs' ingest (each only where the stack has its parts).
    Returns the ingest, whose Job the outputs name."""
    if registry is not None and "butler_datastore" in buckets.buckets:
        # HTCondor for DP0.2 reprocessing on the spot batch pool (issue 13 item 4), when there is one.
        _batch_htcondor(
            cfg, prefix=prefix, registry=registry, buckets=buckets, k8s_layer=k8s_layer, pools=pools
        )

    if registry is not None and "butler_datastore" in buckets.buckets and "butler" in k8s_layer.namespaces:
        # The Butler repository by code, after Cloud SQL and the bucket (issue 11 item 3).
        _butler_bootstrap(
            cfg,
            prefix=prefix,
            registry=registry,
            buckets=buckets,
            k8s_layer=k8s_layer,
            pools=list(pools.pools.values()),
        )

    # The catalogs' ingest after the Qserv resource (issue 11 item 4), from the configuration the
    # local stand-in's load also follows (idf_core/qserv_ingest.py).
    return _qserv_ingest(
        cfg,
        prefix=prefix,
        buckets=buckets,
        k8s_layer=k8s_layer,
        pools=list(pools.pools.values()),
        idf_ops=idf_ops,
    )


def _idf_ops_image(
    cfg: StackConfig, *, prefix: str, node_service_account_email: pulumi.Output[str]
) -> pulumi.Output[str] | None:
    """The idf-ops build's digest reference, for a stack with a workload that runs idf code (the
    reaper; a scale stack's catalog generator); None for the others. The build checks the Pulumi
    CLI against idf:images.pulumi_cli_sha256 if recorded, else against the release's published
    checksums (docker/idf-ops/Dockerfile)."""
    # idf:scale_catalog exists on temporary scale stacks only (infra/config/checks.py check_scale_catalog).
    if cfg.reaper is None and cfg.scale_catalog is None:
        return None
    image = IdfOpsImage(
        f"{prefix}-idf-ops",
        IdfOpsImageArgs(
            project=cfg.gcp_project,
            region=cfg.gcp_region,
            labels=cfg.labels(),
            version=version("idf"),
            pulumi_cli_sha256=cfg.images.pulumi_cli_sha256 or "",
            node_service_account_email=node_service_account_email,
        ),
    )
    return idf_ops_image(image)


def _qserv_ingest(
    cfg: StackConfig,
    *,
    prefix: str,
    buckets: Buckets,
    k8s_layer: KubernetesLayer,
    pools: list[pulumi.Resource],
    idf_ops: pulumi.Output[str] | None,
) -> QservIngest | None:
    """The ingest Job of the stack's catalog database, ordered after the `Qserv` resource (stacks
    with Qserv and a `qserv_ingest` staging bucket; a scale stack's after its generator Job)."""
    q = cfg.qserv
    if q is not None and k8s_layer.qserv is not None and cfg.scale_catalog is not None:
        image = _ingest_image(cfg)
        if image is None or idf_ops is None:
            return None
        return _scale_catalog(
            cfg, prefix=prefix, k8s_layer=k8s_layer, pools=pools, image=image, idf_ops=idf_ops
        )
    if q is None or k8s_layer.qserv is None or "qserv_ingest" not in buckets.buckets:
        return None
    if not q.ingest_staged:
        # Not an error, even for `pulumi up`: the stack comes up first; the Job follows the data.
        pulumi.log.warn(
            f"{cfg.source}: idf:qserv.ingest_staged is false, so the Qserv ingest Job is left out: "
            f"stage the catalogs in gs://{cfg.buckets['qserv_ingest'].name}/{q.database}/, set it to "
            "true and `pulumi up` again (runbooks/pulumi.md §6)"
        )
        return None
    image = _ingest_image(cfg)
    if image is None:
        return None
    return QservIngest(
        f"{prefix}-qserv-ingest",
        QservIngestArgs(
            project=cfg.gcp_project,
            stack=cfg.stack,
            namespace=q.namespace,
            database=q.database,
            staging_bucket=cfg.buckets["qserv_ingest"].name,
            staging_prefix=q.database,
            labels={"app.kubernetes.io/managed-by": "pulumi", "idf.lsst.io/stack": cfg.stack},
            provider=k8s_layer.provider,
            qserv=k8s_layer.qserv,
            depends_on=[k8s_layer.namespaces[q.namespace], buckets.buckets["qserv_ingest"], *pools],
            image=image,
        ),
    )


def _ingest_image(cfg: StackConfig) -> str | None:
    """Rubin's ingest image as the stack file records it (None, warned or refused, when it does not)."""
    return pinned_upstream_image(
        cfg.images.qserv_ingest, source=cfg.source, key="qserv_ingest", needed_by="the Qserv ingest Job"
    )


def _scale_catalog(
    cfg: StackConfig,
    *,
    prefix: str,
    k8s_layer: KubernetesLayer,
    pools: list[pulumi.Resource],
    image: str,
    idf_ops: pulumi.Output[str],
) -> QservIngest:
    """A scale stack's catalog: its scratch staging bucket (destroyed with the stack), the generator's
    Indexed Job on the Qserv workers (one completion per chunk of ``idf:scale_catalog.percent_of_dr1``)
    writing into it, then the ingest Job of what it wrote, created once the generator has completed."""
    q, sc = cfg.qserv, cfg.scale_catalog
    if q is None or sc is None or k8s_layer.qserv is None:  # the caller checked; for the type checker
        raise BadInput(f"{cfg.source}: a scale catalog needs idf:qserv and idf:scale_catalog")
    staging_uri = scale_staging_uri(cfg.stack)
    bucket, _, staging_prefix = staging_uri.removeprefix("gs://").partition("/")
    staging = scratch_bucket(
        f"{prefix}-scale-staging",
        ScratchBucketArgs(
            name=bucket,
            project=cfg.gcp_project,
            location=cfg.gcp_region.upper(),
            labels=cfg.labels(),
            role=SCALE_STAGING_ROLE,
            delete_after_days=SCALE_STAGING_DELETE_AFTER_DAYS,
        ),
    )
    chunks = scale_chunks(sc.percent_of_dr1)
    labels = {"app.kubernetes.io/managed-by": "pulumi", "idf.lsst.io/stack": cfg.stack}
    worker = cfg.node_pools[q.worker_pool]
    taint = next((t for t in worker.taints if t.effect == "NO_SCHEDULE"), None)
    generator = ScaleCatalogGenerator(
        f"{prefix}-scale-catalog",
        ScaleCatalogGeneratorArgs(
            project=cfg.gcp_project,
            stack=cfg.stack,
            namespace=q.namespace,
            percent=sc.percent_of_dr1,
            staging_uri=staging_uri,
            staging_bucket=staging,
            seed_uri=sc.seed_uri,
            shares=len(chunks),
            parallelism=sc.parallelism,
            worker_pool_name=pool_name(prefix, q.worker_pool),
            worker_taint={"key": taint.key, "value": taint.value} if taint else None,
            labels=labels,
            provider=k8s_layer.provider,
            depends_on=[k8s_layer.namespaces[q.namespace], *pools],
            timeout_hours=sc.timeout_hours,
            image=idf_ops,
        ),
    )
    return QservIngest(
        f"{prefix}-qserv-ingest",
        QservIngestArgs(
            project=cfg.gcp_project,
            stack=cfg.stack,
            namespace=q.namespace,
            database=q.database,
            staging_bucket=bucket,
            staging_prefix=staging_prefix.strip("/"),
            labels=labels,
            provider=k8s_layer.provider,
            qserv=k8s_layer.qserv,
            depends_on=[k8s_layer.namespaces[q.namespace], *pools, generator.job],
            bucket_resource=staging,
            image=image,
            chunks=chunks,
            skip_await=True,
        ),
    )


def _batch_htcondor(
    cfg: StackConfig,
    *,
    prefix: str,
    registry: RegistryDatabase,
    buckets: Buckets,
    k8s_layer: KubernetesLayer,
    pools: NodePools,
) -> BatchHtcondor | None:
    """The HTCondor pool (central manager, schedd, execute pods on the batch pool), after the
    cluster and its pools; None for a stack without a batch and a core pool."""
    batch_pool = next((key for key, p in cfg.node_pools.items() if p.role == "batch"), None)
    core_pool = next((key for key, p in cfg.node_pools.items() if p.role == "core"), None)
    if batch_pool is None or core_pool is None:
        return None
    pinned = {
        key: pinned_upstream_image(
            getattr(cfg.images, key),
            source=cfg.source,
            key=key,
            needed_by="the HTCondor pool (batch node pool)",
        )
        for key in ("htcondor_cm", "htcondor_submit", "htcondor_execute")
    }
    cm, submit, execute = pinned["htcondor_cm"], pinned["htcondor_submit"], pinned["htcondor_execute"]
    if cm is None or submit is None or execute is None:
        return None
    pool_names = {key: pool_name(prefix, key) for key in cfg.node_pools}
    vcpus, memory_gb = machine_shape(cfg.node_pools[batch_pool].machine_type)
    return BatchHtcondor(
        f"{prefix}-htcondor",
        BatchHtcondorArgs(
            project=cfg.gcp_project,
            stack=cfg.stack,
            labels={"app.kubernetes.io/managed-by": "pulumi", "idf.lsst.io/stack": cfg.stack},
            provider=k8s_layer.provider,
            core_pool_name=pool_names[core_pool],
            batch_pool=cfg.node_pools[batch_pool],
            batch_pool_name=pool_names[batch_pool],
            batch_vcpus=vcpus,
            batch_memory_gb=memory_gb,
            depends_on=list(pools.pools.values()),
            datastore_bucket=buckets.buckets["butler_datastore"],
            registry_host=registry.instance.private_ip_address,
            registry_database=registry.database.name,
            writer_user=registry.writer.name,
            writer_password=registry.writer_password,
            images=HtcondorImages(cm=cm, submit=submit, execute=execute),
        ),
    )


def _butler_bootstrap(
    cfg: StackConfig,
    *,
    prefix: str,
    registry: RegistryDatabase,
    buckets: Buckets,
    k8s_layer: KubernetesLayer,
    pools: list[pulumi.Resource],
) -> ButlerBootstrap:
    """The Job that makes the repository by code, after Cloud SQL and the bucket (one
    implementation with the local butler role: idf_ops/butler/bootstrap.py)."""
    return ButlerBootstrap(
        f"{prefix}-butler-bootstrap",
        ButlerBootstrapArgs(
            project=cfg.gcp_project,
            stack=cfg.stack,
            namespace="butler",
            labels={"app.kubernetes.io/managed-by": "pulumi", "idf.lsst.io/stack": cfg.stack},
            provider=k8s_layer.provider,
            depends_on=[
                k8s_layer.namespaces["butler"],
                registry.instance,
                registry.database,
                registry.writer,
                registry.reader,
                buckets.buckets["butler_datastore"],
                *pools,
            ],
            datastore_bucket=buckets.buckets["butler_datastore"],
            repo_uri=f"gs://{cfg.buckets['butler_datastore'].name}/repo",
            registry_host=registry.instance.private_ip_address,
            registry_database=registry.database.name,
            writer_user=registry.writer.name,
            writer_password=registry.writer_password,
            reader_user=registry.reader.name,
        ),
    )


def _external_s3(cfg: StackConfig, prefix: str, labels: dict[str, str]) -> ExternalS3Store | None:
    """The external S3 store (NCSA) the stack names, with the Secret Manager container of its keys."""
    if cfg.butler_external_s3 is None:
        return None
    ExternalS3Keys(
        f"{prefix}-butler-s3",
        ExternalS3KeysArgs(s3=cfg.butler_external_s3, project=cfg.gcp_project, labels=labels),
    )
    return external_s3_store(cfg.butler_external_s3, cfg.gcp_project)


def _science_platform(
    cfg: StackConfig,
    phalanx: PhalanxConfig,
    *,
    dns: PublicDns,
    provider: k8s.Provider,
    pools: NodePools,
) -> pulumi.Output[SciencePlatform]:
    """Argo CD with the Phalanx app-of-apps, and the public HTTPS entry; the contract's view of it.
    Argo CD and the ingress wait for the node pools; the app-of-apps for Argo CD (in the component)."""
    node_pools = list(pools.pools.values())
    prefix = f"idf-{cfg.stack}"
    SciencePlatformComponent(
        prefix,
        SciencePlatformArgs(
            phalanx=phalanx,
            project=cfg.gcp_project,
            stack=cfg.stack,
            labels=cfg.labels(),
            provider=provider,
            depends_on=node_pools,  # type: ignore[arg-type]
        ),
    )
    PlatformIngress(
        f"{prefix}-platform",
        PlatformIngressArgs(
            fqdn=dns.fqdn,
            stack=cfg.stack,
            address=dns.ingress_address,
            provider=provider,
            depends_on=node_pools,  # type: ignore[arg-type]
        ),
    )
    return dns.ingress_address.address.apply(
        lambda ip: SciencePlatform(
            environment=phalanx.environment,
            fqdn=dns.fqdn,
            ingress_ip=ip,
            repo_url=phalanx.repo_url,
            target_revision=phalanx.target_revision,
            app_of_apps_name=APP_OF_APPS_NAME,
            applications=list(phalanx.applications),
            vault_url=phalanx.vault_url,
            vault_path_prefix=phalanx.vault_path_prefix,
            github_client_id=phalanx.github.client_id,
            github_organization=phalanx.github.organization,
            github_team=phalanx.github.team,
            github_client_secret=f"projects/{cfg.gcp_project}/secrets/{github_secret_id(cfg.stack)}",
            gcp_project=cfg.gcp_project,
            gcp_region=cfg.gcp_region,
        )
    )


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
