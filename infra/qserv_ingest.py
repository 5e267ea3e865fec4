"""Qserv ingest as code on the cloud: the ingest Job (dp01) and the scale catalog's generator (scale stacks).

**Ingest Job** (:class:`QservIngest`, stacks with Qserv and a ``qserv_ingest`` staging bucket):

- its configuration is the one :mod:`idf_core.qserv_ingest` generates (the generator the local
  stand-in's load also runs): ``ingest.yaml``, ``metadata.json``, the database and table files, in a
  ConfigMap mounted at ``/config`` where Rubin's ingest image reads it. The dp01 data entries list
  the ``Chunker(85, 12)`` chunks of the DC2 box (lsst.sphgeom);
- the staging bucket is mounted read-only through GKE's Cloud Storage FUSE CSI driver at
  :data:`STAGING_MOUNT` (the workflow reads ``file://`` input; a private bucket over plain HTTPS
  would need credentials the workflow does not send); the GCS URL is on the ConfigMap
  (``idf.lsst.io/staging-url``);
- identity: a GCP service account of its own with ``roles/storage.objectViewer`` on the staging
  bucket only, bound by Workload Identity to the Job's Kubernetes service account;
- the Job runs the workflow's steps in order (queue, register, chunk transactions, check, publish)
  with Rubin's ingest image at a pinned release, and is ordered after the ``Qserv`` resource.

**Scale catalog generator** (:class:`ScaleCatalogGenerator`, temporary scale stacks): an Indexed Job
on the stack's own worker nodes (no extra cluster), one completion index per share of the chunks,
running ``idf scale generate`` (:mod:`idf_ops.scale.generate`) from dp01's catalogs into the stack's
own scratch bucket in the scale-test project (:func:`idf_core.qserv_ingest.scale_staging_uri`,
:func:`infra.storage.scratch_bucket`: destroyed with the stack, objects and all), with ``objectAdmin``
on that bucket and ``objectViewer`` on dp01's bucket limited by an IAM condition to the seed's prefix:
nothing of a serving stack is writable from a scale stack. One completion per chunk, the parallelism
and the wait of the stack's ``idf:scale_catalog`` (rendered by the sizing model, priced by ``idf scale
plan``; :func:`idf_core.qserv_ingest.generator_parallelism`). ``pulumi up`` waits for it (up to
``timeout_hours``, ``pulumi.com/timeoutSeconds``) and then creates the scale stack's ingest Job, which
reads that bucket. Built by the program for scale stacks (``infra/program.py``).

**Not checked offline** (no cluster here): the ingest image tag, the script names inside it, the
content the ingest image expects in the replication credentials file (``secret-repl-creds-qserv``,
:mod:`infra.qserv_secrets`; empty, as upstream ships it) and that the FUSE CSI add-on
(``infra/gke.py``) serves the mount.

**Images**: the ingest Job runs ``idf:images.qserv_ingest`` of the stack file (Rubin's image,
``qserv/ingest:<tag>@sha256:<digest>``; the program leaves the Job out, with a warning, until it is
recorded: :mod:`infra.images`); the generator runs the idf-ops image the program builds and pushes
(:func:`infra.images.idf_ops_image`, its ``@sha256:`` reference).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from idf_core.contract import QservIngestJob
from idf_core.qserv_ingest import (
    STAGING_MOUNT,
    QservIngestConfig,
    dp01_cloud_config,
    generator_parallelism,
)
from infra.qserv_secrets import secret_name

__all__ = [
    "INGEST_STEPS",
    "STAGING_MOUNT",
    "QservIngest",
    "QservIngestArgs",
    "ScaleCatalogGenerator",
    "ScaleCatalogGeneratorArgs",
    "dp01_cloud_config",
    "generator_parallelism",
]

#: The workflow's steps, in the order its own workflow runs them (script names in its image).
INGEST_STEPS = (
    "load-queue.sh",
    "register.sh",
    "ingest-chunks.sh {transactions}",
    "check-transactions.sh",
    "publish.sh",
)
_CONFIG_MOUNT = "/config"
# The replication credentials file (key ``qserv``): a Secret the program declares before the Qserv
# resource (infra/qserv_secrets.py); qserv-operator does not create it.
_REPL_CREDS_SECRET = secret_name("repl-creds")
_FUSE_DRIVER = "gcsfuse.csi.storage.gke.io"
_SECURITY = {
    "allowPrivilegeEscalation": False,
    "runAsNonRoot": True,
    "runAsUser": 1000,
    "capabilities": {"drop": ["ALL"]},
}


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:10]


@dataclass(frozen=True)
class _Identity:
    ksa: k8s.core.v1.ServiceAccount
    grant: gcp.storage.BucketIAMMember
    binding: gcp.serviceaccount.IAMMember


def _identity(  # noqa: PLR0917 - one private helper, each argument a distinct fact
    parent: pulumi.Resource,
    name: str,
    project: str,
    account: str,
    namespace: str,
    bucket: pulumi.Input[str],
    role: str,
    labels: dict[str, str],
    provider: k8s.Provider,
    depends_on: list[pulumi.Resource],
    condition: gcp.storage.BucketIAMMemberConditionArgs | None = None,
    bucket_resource: pulumi.Resource | None = None,
) -> _Identity:
    """The Job's GCP service account, its one grant on ``bucket`` (created after ``bucket_resource``
    when the same stack creates the bucket), its Workload Identity binding and its Kubernetes account."""
    child = pulumi.ResourceOptions(parent=parent)
    sa = gcp.serviceaccount.Account(
        f"{name}-sa",
        account_id=account[:30],
        project=project,
        display_name=f"{account}: Kubernetes Job of the Qserv ingest path",
        opts=child,
    )
    grant = gcp.storage.BucketIAMMember(
        f"{name}-staging",
        bucket=bucket,
        role=role,
        member=sa.email.apply(lambda e: f"serviceAccount:{e}"),
        condition=condition,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[bucket_resource] if bucket_resource else None),
    )
    binding = gcp.serviceaccount.IAMMember(
        f"{name}-workload-identity",
        service_account_id=sa.name,
        role="roles/iam.workloadIdentityUser",
        member=f"serviceAccount:{project}.svc.id.goog[{namespace}/{account}]",
        opts=child,
    )
    ksa = k8s.core.v1.ServiceAccount(
        f"{name}-ksa",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=account,
            namespace=namespace,
            labels=labels,
            annotations={"iam.gke.io/gcp-service-account": sa.email},
        ),
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=depends_on),
    )
    return _Identity(ksa, grant, binding)


@dataclass(frozen=True)
class QservIngestArgs:
    """Inputs of :class:`QservIngest`."""

    project: str
    stack: str
    namespace: str
    """Qserv's namespace."""
    database: str
    staging_bucket: str
    """Name of the stack's ``qserv_ingest`` bucket."""
    staging_prefix: str
    """Folder of the database's input in the bucket."""
    labels: dict[str, str]
    provider: k8s.Provider
    qserv: pulumi.Resource
    """The `Qserv` custom resource: the Job runs after it."""
    depends_on: list[pulumi.Resource]
    image: str
    """Rubin's ingest image, ``qserv/ingest:<tag>@sha256:<digest>`` (``idf:images.qserv_ingest``)."""
    transactions: int = 10
    chunks: list[int] | None = None
    """The generated scale catalog's chunks (scale stacks); None: dp01's DC2 box."""
    bucket_resource: pulumi.Resource | None = None
    """The bucket, when this stack creates it outside ``idf:buckets`` (a scale stack's scratch bucket)."""
    skip_await: bool = False
    """``pulumi.com/skipAwait``: `pulumi up` does not wait the hours a scale catalog's load takes."""


def _prefix_condition(bucket: str, prefix: str, *, title: str) -> gcp.storage.BucketIAMMemberConditionArgs:
    """An IAM condition limiting a bucket grant to the objects under ``prefix``."""
    return gcp.storage.BucketIAMMemberConditionArgs(
        title=title,
        description=f"Objects under {prefix.strip('/')}/ of {bucket} only",
        expression=f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{prefix.strip("/")}/")',
    )


class QservIngest(pulumi.ComponentResource):
    """The ingest configuration and the Job that loads the catalogs into the stack's Qserv."""

    config: k8s.core.v1.ConfigMap
    job: k8s.batch.v1.Job
    ingest_config: QservIngestConfig

    def __init__(self, name: str, args: QservIngestArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("idf:qserv:QservIngest", name, None, opts)
        ns = args.namespace
        account = f"qserv-ingest-{args.stack}"
        self.ingest_config = dp01_cloud_config(
            args.staging_bucket, args.staging_prefix, ns, args.database, chunks=args.chunks
        )
        files = self.ingest_config.files()
        identity = _identity(
            self, name, args.project, account, ns, args.staging_bucket, "roles/storage.objectViewer",
            args.labels, args.provider, args.depends_on, bucket_resource=args.bucket_resource,
        )  # fmt: skip
        k8s_child = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=args.depends_on)
        config_name = f"qserv-ingest-{args.database.replace('_', '-')}"
        self.config = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=config_name,
                namespace=ns,
                labels=args.labels,
                annotations={
                    "idf.lsst.io/staging-url": f"gs://{args.staging_bucket}/{args.staging_prefix.strip('/')}/"
                },
            ),
            data=files,
            opts=k8s_child,
        )
        script = " && ".join(step.format(transactions=args.transactions) for step in INGEST_STEPS)
        job_name = f"qserv-ingest-{_digest(args.image, script, *files.values())}"
        self.job = k8s.batch.v1.Job(  # type: ignore[call-overload]
            f"{name}-job",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=job_name,
                namespace=ns,
                labels=args.labels,
                annotations={"pulumi.com/skipAwait": "true"} if args.skip_await else None,
            ),
            spec=ingest_job_spec(args, account, config_name, script),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                depends_on=[
                    *args.depends_on, args.qserv, self.config, identity.ksa, identity.grant, identity.binding,
                ],
                delete_before_replace=True,
            ),
        )  # fmt: skip
        self.register_outputs({"job": self.job.metadata.name, "config": self.config.metadata.name})

    def job_outputs(self) -> pulumi.Output[QservIngestJob]:
        """What the stack exports of its ingest (``qserv_ingest_job``): what `idf scale run` follows."""
        config = self.ingest_config
        return pulumi.Output.all(self.job.metadata.namespace, self.job.metadata.name).apply(
            lambda v: QservIngestJob(
                namespace=v[0],
                job=v[1],
                database=config.database.database,
                tables=config.table_order(),
                chunks_total=len(config.chunk_ids()),
            )
        )


def _fuse_volume(name: str, bucket: str, *, read_only: bool, only_dir: str | None = None) -> dict[str, Any]:
    options = "implicit-dirs" + (f",only-dir={only_dir}" if only_dir else "")
    return {
        "name": name,
        "csi": {
            "driver": _FUSE_DRIVER,
            "readOnly": read_only,
            "volumeAttributes": {"bucketName": bucket, "mountOptions": options},
        },
    }


def ingest_job_spec(args: QservIngestArgs, account: str, config_name: str, script: str) -> dict[str, Any]:
    """The ingest Job's spec, in Kubernetes wire format."""
    labels = {**args.labels, "app.kubernetes.io/name": "qserv-ingest"}
    return {
        "backoffLimit": 3,
        "template": {
            "metadata": {"labels": labels, "annotations": {"gke-gcsfuse/volumes": "true"}},
            "spec": {
                "serviceAccountName": account,
                "restartPolicy": "Never",
                "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [
                    {
                        "name": "ingest",
                        "image": args.image,
                        "command": ["/bin/sh", "-c", script],
                        "resources": {
                            "requests": {"cpu": "1", "memory": "2Gi"},
                            "limits": {"cpu": "2", "memory": "4Gi"},
                        },
                        "securityContext": _SECURITY,
                        "volumeMounts": [
                            {"name": "config", "mountPath": _CONFIG_MOUNT, "readOnly": True},
                            {"name": "repl-creds", "mountPath": "/home/qserv/.lsst", "readOnly": True},
                            {"name": "staging", "mountPath": STAGING_MOUNT, "readOnly": True},
                        ],
                    }
                ],
                "volumes": [
                    {"name": "config", "configMap": {"name": config_name}},
                    {"name": "repl-creds", "secret": {"secretName": _REPL_CREDS_SECRET}},
                    _fuse_volume("staging", args.staging_bucket, read_only=True),
                ],
            },
        },
    }


@dataclass(frozen=True)
class ScaleCatalogGeneratorArgs:
    """Inputs of :class:`ScaleCatalogGenerator`."""

    project: str
    stack: str
    namespace: str
    percent: float
    staging_uri: str
    """``gs://<bucket>/<folder>/``: where the chunks go (a folder of the stack's scratch bucket)."""
    seed_uri: str
    """``gs://<bucket>/<prefix>/``: dp01's catalogs as Parquet (``<table>.parquet``)."""
    shares: int
    """Completion indexes: the chunks are split into this many shares."""
    parallelism: int
    worker_pool_name: str
    """GKE node pool of the Qserv workers (the generator runs on the stack's own nodes)."""
    worker_taint: dict[str, str] | None
    labels: dict[str, str]
    provider: k8s.Provider
    depends_on: list[pulumi.Resource]
    image: pulumi.Input[str]
    """The idf-ops build's digest reference (:func:`infra.images.idf_ops_image`)."""
    timeout_hours: float = 4.0
    """How long `pulumi up` waits for the Job to complete (the ingest Job is created after it)."""
    staging_bucket: pulumi.Resource | None = None
    """The scratch bucket of ``staging_uri`` (:func:`infra.storage.scratch_bucket`), when this stack
    creates it: the grant on it is created after it."""


def _bucket_and_prefix(uri: str) -> tuple[str, str]:
    if not uri.startswith("gs://"):
        raise ValueError(f"{uri}: a gs:// URI is expected")
    bucket, _, prefix = uri.removeprefix("gs://").partition("/")
    return bucket, prefix.strip("/")


class ScaleCatalogGenerator(pulumi.ComponentResource):
    """The Indexed Job that writes the scale catalog's chunks to the stack's scratch bucket."""

    job: k8s.batch.v1.Job
    seed_grant: gcp.storage.BucketIAMMember

    def __init__(
        self, name: str, args: ScaleCatalogGeneratorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("idf:qserv:ScaleCatalogGenerator", name, None, opts)
        bucket, _ = _bucket_and_prefix(args.staging_uri)
        seed_bucket, seed_prefix = _bucket_and_prefix(args.seed_uri)
        account = f"scale-gen-{args.stack}"
        # objectAdmin on its own stack's scratch bucket only: created, written and destroyed with it.
        identity = _identity(
            self, name, args.project, account, args.namespace, bucket, "roles/storage.objectAdmin",
            args.labels, args.provider, args.depends_on, bucket_resource=args.staging_bucket,
        )  # fmt: skip
        # Read the seed (dp01's Parquet files) and nothing else of its bucket.
        self.seed_grant = gcp.storage.BucketIAMMember(
            f"{name}-seed",
            bucket=seed_bucket,
            role="roles/storage.objectViewer",
            member=identity.grant.member,
            condition=_prefix_condition(seed_bucket, seed_prefix, title="seed-read-only"),
            # The one grant outside the scale-test project: the reaper may not change dp01's bucket,
            # so a destroy leaves it (inert: it names an account the destroy deletes; a new account
            # of that name is another principal) instead of failing on it.
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        spec = generator_job_spec(args, account)
        self.job = k8s.batch.v1.Job(  # type: ignore[call-overload]
            f"{name}-job",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="scale-catalog-generate",
                namespace=args.namespace,
                labels=args.labels,
                # Awaited (no skipAwait): what depends on the Job (the ingest) is created once it completes.
                annotations={"pulumi.com/timeoutSeconds": str(math.ceil(args.timeout_hours * 3600))},
            ),
            spec=spec,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                depends_on=[
                    *args.depends_on,
                    identity.ksa,
                    identity.grant,
                    identity.binding,
                    self.seed_grant,
                ],
            ),
        )
        self.register_outputs({"job": self.job.metadata.name, "staging_uri": args.staging_uri})


def generator_job_spec(args: ScaleCatalogGeneratorArgs, account: str) -> dict[str, Any]:
    """The generator's Indexed Job spec, in Kubernetes wire format."""
    labels = {**args.labels, "app.kubernetes.io/name": "scale-catalog-generate"}
    command = [
        "idf", "scale", "generate", "--percent", f"{args.percent:g}",
        "--seed", args.seed_uri, "--out", args.staging_uri, "--of", str(args.shares),
    ]  # fmt: skip
    tolerations = (
        [{**args.worker_taint, "operator": "Equal", "effect": "NoSchedule"}] if args.worker_taint else []
    )
    return {
        "completionMode": "Indexed",
        "completions": args.shares,
        "parallelism": min(args.parallelism, args.shares),
        "backoffLimitPerIndex": 2,
        "maxFailedIndexes": max(1, math.ceil(args.shares / 100)),
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "serviceAccountName": account,
                "restartPolicy": "Never",
                "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                "nodeSelector": {"cloud.google.com/gke-nodepool": args.worker_pool_name},
                "tolerations": tolerations,
                "containers": [
                    {
                        "name": "generate",
                        "image": args.image,
                        # `--index` defaults to JOB_COMPLETION_INDEX, which Kubernetes sets in each pod.
                        "command": command,
                        "env": [{"name": "HOME", "value": "/tmp"}],  # noqa: S108 - an emptyDir
                        "resources": {
                            "requests": {"cpu": "1", "memory": "6Gi"},
                            "limits": {"cpu": "1", "memory": "8Gi"},
                        },
                        "securityContext": _SECURITY,
                        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108
                    }
                ],
                "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "20Gi"}}],
            },
        },
    }
