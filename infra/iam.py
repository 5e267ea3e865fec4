"""IAM component: one service account per workload, least-privilege roles, Workload Identity.

Workloads are data (:data:`WORKLOADS`): each names its Kubernetes namespace/service account, its
project roles and its per-bucket roles. No primitive roles (owner/editor/viewer) anywhere; bucket
access is granted on the bucket, not the project. A workload is declared only when its namespace
exists in the stack; a bucket grant only when the bucket exists.

The distributed load test (idf_ops/loadtest, `idf loadtest run`) is not a namespace of the stack
(its run creates its own): its identity is declared when the stack has a reports bucket, and may
create and read objects under the stack's reports prefix of that bucket only (an IAM condition).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from idf_core.facts import (
    LOADTEST_NAMESPACE,
    LOADTEST_REPORTS_BUCKET_ROLES,
    LOADTEST_SERVICE_ACCOUNT,
    loadtest_account_id,
    loadtest_reports_prefix,
)

__all__ = ["LOADTEST_BUCKET_ROLES", "NODE_ROLES", "WORKLOADS", "Iam", "IamArgs", "Workload"]

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


# What the load-test master does with its reports: upload them (create) and read them back; each
# granted under the stack's reports prefix only.
LOADTEST_BUCKET_ROLES = ("roles/storage.objectCreator", "roles/storage.objectViewer")


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
    loadtest_account: gcp.serviceaccount.Account | None

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
        self.loadtest_account = self._loadtest(name, args)
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
        self._workload_identity(f"{name}-{workload.key}", account, args, workload.namespace, workload.key)
        return account

    def _loadtest(self, name: str, args: IamArgs) -> gcp.serviceaccount.Account | None:
        """The load-test pods' account: Workload Identity from the Job's Kubernetes service account,
        object create/read under the reports prefix of the stack's reports bucket; None without one."""
        role_key = next((r for r in LOADTEST_REPORTS_BUCKET_ROLES if r in args.buckets), None)
        if role_key is None:
            return None
        bucket = args.buckets[role_key]
        child = pulumi.ResourceOptions(parent=self)
        account = gcp.serviceaccount.Account(
            f"{name}-loadtest",
            account_id=loadtest_account_id(args.stack),
            project=args.project,
            display_name="Load tests: upload their reports to the stack's bucket",
            opts=child,
        )
        member = account.email.apply(lambda e: f"serviceAccount:{e}")
        prefix = loadtest_reports_prefix(args.stack)
        for role in LOADTEST_BUCKET_ROLES:
            gcp.storage.BucketIAMMember(
                f"{name}-loadtest-{role.split('.')[-1].lower()}",
                bucket=bucket.name,
                role=role,
                member=member,
                condition=gcp.storage.BucketIAMMemberConditionArgs(
                    title=f"loadtest-reports-{args.stack}",
                    description=f"Objects under {prefix}/ only",
                    expression=bucket.name.apply(
                        lambda b: f'resource.name.startsWith("projects/_/buckets/{b}/objects/{prefix}/")'
                    ),
                ),
                opts=child,
            )
        self._workload_identity(
            f"{name}-loadtest", account, args, LOADTEST_NAMESPACE, LOADTEST_SERVICE_ACCOUNT
        )
        return account

    def _workload_identity(
        self, name: str, account: gcp.serviceaccount.Account, args: IamArgs, namespace: str, ksa: str
    ) -> None:
        """The Kubernetes service account `namespace/ksa` may act as `account` (Workload Identity)."""
        gcp.serviceaccount.IAMMember(
            f"{name}-workload-identity",
            service_account_id=account.name,
            role="roles/iam.workloadIdentityUser",
            member=f"serviceAccount:{args.project}.svc.id.goog[{namespace}/{ksa}]",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.cluster]),
        )
