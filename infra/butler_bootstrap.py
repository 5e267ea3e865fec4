"""Butler bootstrap Job: the cloud stacks' repository is created by code, after Cloud SQL and the
datastore bucket exist, by the same function the local ``butler`` role runs
(``idf_ops/butler/bootstrap.py``: btree_gist, ``butler create`` on ``gs://``, the four DP0.1 RUN
collections and their chain, Appendix B's dataset types, the reader's SELECT-only privileges).

How the Job runs, and why:

- **Code**: that module's text, shipped as a ConfigMap (this program reads the file; it does not
  import idf_ops). The Job's name carries a digest of the code and command, so a change runs a new
  Job; the bootstrap is idempotent, so a rerun changes only what is missing.
- **Image and command pinned**: a Python image by digest; an init container installs exact versions
  of lsst-daf-butler, lsst-resources[gs] and psycopg2-binary into an emptyDir (the Butler has no
  published image of its own at a version we pin; building one is left to a registry we do not
  have here), then the main container runs the module.
- **Registry**: the Cloud SQL private address, TLS required (``sslmode=require``; the instance is
  ``ENCRYPTED_ONLY``). No Auth Proxy sidecar: the cluster is VPC-native on the same network, and a
  proxy sidecar never exits, which keeps a Job from completing.
- **Datastore**: Workload Identity. The Job's Kubernetes service account is bound to a GCP service
  account of its own holding ``roles/storage.objectAdmin`` on the datastore bucket only.
- **Password**: the writer's generated password (``RandomPassword``, a Pulumi secret) in a
  Kubernetes Secret, read through ``secretKeyRef``; never in the manifest or a ConfigMap.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from idf_core.paths import REPO_ROOT

__all__ = [
    "BOOTSTRAP_MODULE",
    "BOOTSTRAP_PIP_REQUIREMENTS",
    "BOOTSTRAP_PYTHON_IMAGE",
    "WORKLOAD_IDENTITY_ANNOTATION",
    "ButlerBootstrap",
    "ButlerBootstrapArgs",
]

#: The one implementation (read as text, shipped as a ConfigMap).
BOOTSTRAP_MODULE = REPO_ROOT / "idf_ops" / "butler" / "bootstrap.py"
#: Docker Hub's python:3.11-slim-bookworm at a recorded digest (not resolvable from these machines:
#: check with `docker buildx imagetools inspect python:3.11-slim-bookworm` before a first `pulumi up`).
BOOTSTRAP_PYTHON_IMAGE = (
    "python:3.11-slim-bookworm@sha256:"
    "2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91"  # pragma: allowlist secret
)
#: Exact versions, the ones pyproject.toml pins for the local stack.
BOOTSTRAP_PIP_REQUIREMENTS = (
    "lsst-daf-butler==30.2026.4300",
    "lsst-resources[gs]==30.2026.4200",
    "psycopg2-binary==2.9.13",
)
WORKLOAD_IDENTITY_ANNOTATION = "iam.gke.io/gcp-service-account"
_WRITER_PASSWORD_ENV = "IDF_BUTLER_WRITER_PASSWORD"  # noqa: S105  # pragma: allowlist secret - a variable name
_SERVICE_ACCOUNT = "butler-bootstrap"
_DEPS, _CODE, _HOME = "/opt/idf/deps", "/opt/idf/code", "/tmp/home"  # noqa: S108 - an emptyDir


@dataclass(frozen=True)
class ButlerBootstrapArgs:
    """Inputs of :class:`ButlerBootstrap`."""

    project: str
    stack: str
    namespace: str
    """Kubernetes namespace of the Job (the stack's ``butler`` namespace)."""
    labels: dict[str, str]
    """Kubernetes labels every object carries."""
    provider: k8s.Provider
    depends_on: list[pulumi.Resource]
    """What must exist first: the namespace, the Cloud SQL instance, database and users, the bucket."""
    datastore_bucket: gcp.storage.Bucket
    repo_uri: str
    """``gs://<datastore bucket>/repo``."""
    registry_host: pulumi.Input[str]
    """The Cloud SQL instance's private address."""
    registry_database: pulumi.Input[str]
    writer_user: pulumi.Input[str]
    writer_password: pulumi.Output[str]
    """A Pulumi secret."""
    reader_user: pulumi.Input[str]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:10]


class ButlerBootstrap(pulumi.ComponentResource):
    """Identity, code, password and the Job that bootstraps the Butler repository."""

    job: k8s.batch.v1.Job
    code: k8s.core.v1.ConfigMap
    writer_secret: k8s.core.v1.Secret
    service_account: gcp.serviceaccount.Account

    def __init__(
        self, name: str, args: ButlerBootstrapArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("idf:butler:ButlerBootstrap", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ns = args.namespace
        self.service_account = gcp.serviceaccount.Account(
            f"{name}-sa",
            account_id=f"{_SERVICE_ACCOUNT}-{args.stack}"[:30],
            project=args.project,
            display_name="Butler bootstrap Job: creates the repository in the datastore bucket",
            opts=child,
        )
        datastore_grant = gcp.storage.BucketIAMMember(
            f"{name}-datastore-admin",
            bucket=args.datastore_bucket.name,
            role="roles/storage.objectAdmin",
            member=self.service_account.email.apply(lambda e: f"serviceAccount:{e}"),
            opts=child,
        )
        identity = gcp.serviceaccount.IAMMember(
            f"{name}-workload-identity",
            service_account_id=self.service_account.name,
            role="roles/iam.workloadIdentityUser",
            member=f"serviceAccount:{args.project}.svc.id.goog[{ns}/{_SERVICE_ACCOUNT}]",
            opts=child,
        )
        k8s_child = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=args.depends_on)
        ksa = k8s.core.v1.ServiceAccount(
            f"{name}-ksa",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=_SERVICE_ACCOUNT,
                namespace=ns,
                labels=args.labels,
                annotations={WORKLOAD_IDENTITY_ANNOTATION: self.service_account.email},
            ),
            opts=k8s_child,
        )
        self.writer_secret = password = k8s.core.v1.Secret(
            f"{name}-registry-writer",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="butler-bootstrap-registry", namespace=ns, labels=args.labels
            ),
            type="Opaque",
            string_data={"password": args.writer_password},
            opts=k8s_child,
        )
        source = BOOTSTRAP_MODULE.read_text()
        self.code = k8s.core.v1.ConfigMap(
            f"{name}-code",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="butler-bootstrap-code", namespace=ns, labels=args.labels
            ),
            data={"bootstrap.py": source},
            opts=k8s_child,
        )
        db_url = pulumi.Output.all(args.writer_user, args.registry_host, args.registry_database).apply(
            lambda v: f"postgresql+psycopg2://{v[0]}@{v[1]}:5432/{v[2]}?sslmode=require"
        )
        pip_command = [
            "python", "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check",
            "--target", _DEPS, *BOOTSTRAP_PIP_REQUIREMENTS,
        ]  # fmt: skip
        job_name = f"butler-bootstrap-{_digest(source, BOOTSTRAP_PYTHON_IMAGE, *pip_command)}"
        spec: pulumi.Output[Any] = pulumi.Output.all(db_url, args.reader_user).apply(
            lambda v: _job_spec(args, pip_command, str(v[0]), str(v[1]))
        )
        self.job = k8s.batch.v1.Job(
            f"{name}-job",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=job_name, namespace=ns, labels=args.labels),
            spec=spec,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                # After Cloud SQL, the bucket, its grant and the identity binding: the Job's first
                # attempt must find all of them.
                depends_on=[*args.depends_on, datastore_grant, identity, ksa, password, self.code],
                delete_before_replace=True,
            ),
        )
        self.register_outputs({"job": self.job.metadata.name, "repo_uri": args.repo_uri})


def _job_spec(args: ButlerBootstrapArgs, pip_command: list[str], db_url: str, reader: str) -> dict[str, Any]:
    """The Job's spec, in Kubernetes wire format (what the policy pack and kubernetes-validate read)."""
    security = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "capabilities": {"drop": ["ALL"]},
    }
    resources = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}
    env = [{"name": "HOME", "value": _HOME}, {"name": "PYTHONPATH", "value": _DEPS}]
    return {
        "backoffLimit": 3,
        "activeDeadlineSeconds": 1800,
        "template": {
            "metadata": {"labels": {**args.labels, "app.kubernetes.io/name": "butler-bootstrap"}},
            "spec": {
                "serviceAccountName": _SERVICE_ACCOUNT,
                "restartPolicy": "Never",
                "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                "initContainers": [
                    {
                        "name": "install",
                        "image": BOOTSTRAP_PYTHON_IMAGE,
                        "command": pip_command,
                        "env": env,
                        "resources": resources,
                        "securityContext": security,
                        "volumeMounts": [
                            {"name": "deps", "mountPath": _DEPS},
                            {"name": "home", "mountPath": _HOME},
                        ],
                    }
                ],
                "containers": [
                    {
                        "name": "bootstrap",
                        "image": BOOTSTRAP_PYTHON_IMAGE,
                        "command": [
                            "python",
                            f"{_CODE}/bootstrap.py",
                            "--repo",
                            args.repo_uri,
                            "--db-url",
                            db_url,
                            "--reader-role",
                            reader,
                        ],
                        "env": [
                            *env,
                            {
                                "name": _WRITER_PASSWORD_ENV,
                                "valueFrom": {
                                    "secretKeyRef": {"name": "butler-bootstrap-registry", "key": "password"}
                                },
                            },
                        ],
                        "resources": resources,
                        "securityContext": security,
                        "volumeMounts": [
                            {"name": "deps", "mountPath": _DEPS, "readOnly": True},
                            {"name": "code", "mountPath": _CODE, "readOnly": True},
                            {"name": "home", "mountPath": _HOME},
                        ],
                    }
                ],
                "volumes": [
                    {"name": "deps", "emptyDir": {"sizeLimit": "2Gi"}},
                    {"name": "home", "emptyDir": {"sizeLimit": "256Mi"}},
                    {"name": "code", "configMap": {"name": "butler-bootstrap-code"}},
                ],
            },
        },
    }
