"""IAM component: one service account per workload, least-privilege roles, Workload Identity.

Workloads are data (:data:`WORKLOADS`): each names its Kubernetes namespace/service account, its
project roles and its per-bucket roles. No primitive roles (owner/editor/viewer) anywhere; bucket
access is granted on the bucket, not the project. A workload is declared only when its namespace
exists in the stack; a bucket grant only when the bucket exists.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

__all__ = ["NODE_ROLES", "WORKLOADS", "Iam", "IamArgs", "Workload"]

# What GKE nodes need and nothing more (GKE hardening guide).
NODE_ROLES = [
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/artifactregistry.reader",
]


@dataclass(frozen=True)
class Workload:
    """A workload's identity: Kubernetes service account -> GCP service account -> roles."""

    key: str
    namespace: str
    description: str
    project_roles: list[str] = field(default_factory=list)
    bucket_roles: dict[str, str] = field(default_factory=dict)


WORKLOADS = [
    Workload(
        key="butler-reader",
        namespace="butler",
        description="Read-only Butler: reads the datastore, connects to the registry",
        project_roles=["roles/cloudsql.client", "roles/cloudsql.instanceUser"],
        bucket_roles={"butler_datastore": "roles/storage.objectViewer"},
    ),
    Workload(
        key="nublado",
        namespace="nublado",
        description="Notebook user labs: read the Butler datastore",
        bucket_roles={"butler_datastore": "roles/storage.objectViewer"},
    ),
    Workload(
        key="qserv",
        namespace="qserv",
        description="Qserv: reads ingest staging, writes backups",
        bucket_roles={"qserv_ingest": "roles/storage.objectViewer", "backups": "roles/storage.objectCreator"},
    ),
    Workload(
        key="batch",
        namespace="batch",
        description="DP0.2 reprocessing (BPS/PanDA): writes Butler outputs and the registry",
        project_roles=["roles/cloudsql.client"],
        bucket_roles={"butler_datastore": "roles/storage.objectAdmin"},
    ),
]


@dataclass(frozen=True)
class IamArgs:
    """Inputs of :class:`Iam`."""

    project: str
    stack: str
    """Suffix of the service account ids (`gke-nodes-<stack>`)."""
    namespaces: Collection[str]
    """Kubernetes namespaces of the stack: a workload is declared only when its namespace exists."""
    buckets: dict[str, gcp.storage.Bucket]
    cluster: pulumi.Resource
    """Workload Identity bindings need the cluster's identity pool to exist."""


class Iam(pulumi.ComponentResource):
    """Service accounts and their bindings."""

    node_service_account: gcp.serviceaccount.Account
    workload_accounts: dict[str, gcp.serviceaccount.Account]

    def __init__(self, name: str, args: IamArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("idf:iam:Iam", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.node_service_account = gcp.serviceaccount.Account(
            f"{name}-gke-nodes",
            account_id=f"gke-nodes-{args.stack}",
            project=args.project,
            display_name=f"GKE nodes of {args.stack}",
            opts=child,
        )
        for role in NODE_ROLES:
            gcp.projects.IAMMember(
                f"{name}-gke-nodes-{role.split('/')[1].replace('.', '-')}",
                project=args.project,
                role=role,
                member=self.node_service_account.email.apply(lambda e: f"serviceAccount:{e}"),
                opts=child,
            )
        self.workload_accounts = {}
        for workload in WORKLOADS:
            if workload.namespace not in args.namespaces:
                continue
            self.workload_accounts[workload.key] = self._workload(name, workload, args)
        self.register_outputs(
            {
                "node_service_account": self.node_service_account.email,
                "workload_service_accounts": {k: a.email for k, a in self.workload_accounts.items()},
            }
        )

    def _workload(self, name: str, workload: Workload, args: IamArgs) -> gcp.serviceaccount.Account:
        child = pulumi.ResourceOptions(parent=self)
        account = gcp.serviceaccount.Account(
            f"{name}-{workload.key}",
            account_id=f"{workload.key}-{args.stack}",
            project=args.project,
            display_name=workload.description,
            opts=child,
        )
        member = account.email.apply(lambda e: f"serviceAccount:{e}")
        for role in workload.project_roles:
            gcp.projects.IAMMember(
                f"{name}-{workload.key}-{role.split('/')[1].replace('.', '-')}",
                project=args.project,
                role=role,
                member=member,
                opts=child,
            )
        for bucket_role, role in workload.bucket_roles.items():
            bucket = args.buckets.get(bucket_role)
            if bucket is None:
                continue
            gcp.storage.BucketIAMMember(
                f"{name}-{workload.key}-{bucket_role.replace('_', '-')}",
                bucket=bucket.name,
                role=role,
                member=member,
                opts=child,
            )
        gcp.serviceaccount.IAMMember(
            f"{name}-{workload.key}-workload-identity",
            service_account_id=account.name,
            role="roles/iam.workloadIdentityUser",
            member=f"serviceAccount:{args.project}.svc.id.goog[{workload.namespace}/{workload.key}]",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.cluster]),
        )
        return account
