"""HTCondor on GKE for DP0.2 reprocessing (issue 13 item 4): the pool BPS submits to on a stack
with a `batch` node pool.

In the namespace :data:`HTCONDOR_NAMESPACE` this component owns:

1. the central manager (collector + negotiator, image ``htcondor/cm``) as a one-replica
   StatefulSet on the core pool, behind the Service :data:`CM_SERVICE`;
2. the access point (schedd, image ``htcondor/submit``) as a one-replica StatefulSet on the core
   pool with a persistent spool (the job queue survives a pod restart), Service
   :data:`SUBMIT_SERVICE`; ``bps submit`` runs in this pod (runbooks/batch.md);
3. the execute points (startd, image ``htcondor/execute``) as a Deployment on the spot batch pool
   (its taint tolerated, its ``cloud.google.com/gke-nodepool`` selected), one pod per node
   (requests of nearly a whole node), :data:`EXECUTE_REPLICAS` (0) replicas as declared. The pool
   scales from 0 through the cluster autoscaler:
   ``kubectl -n htcondor scale deployment/htcondor-execute --replicas=N`` leaves N pods Pending,
   the autoscaler adds spot nodes for them (up to the pool's max_nodes) and removes the nodes
   when the Deployment is scaled back to 0;
4. the IDTOKENS signing key: a ``random.RandomPassword`` (a Pulumi secret) in a Kubernetes Secret
   mounted as ``/etc/condor/passwords.d/POOL`` in every daemon; each pod mints its own token from
   it at start (``condor_token_create``), so no token is stored anywhere;
5. Workload Identity: the GCP service account ``htcondor-<stack>`` with objectAdmin on the Butler
   datastore bucket only (no project role), bound to the Kubernetes service account
   :data:`SERVICE_ACCOUNT` that every HTCondor pod runs as; the registry is reached with the
   processing (writer) role's password over the Cloud SQL private address (a Secret holding the
   ``db-auth.yaml`` of lsst-daf-butler and a ConfigMap with host/port/database);
6. a NetworkPolicy: the HTCondor pods accept ingress only from HTCondor pods of this namespace
   and only on the shared port :data:`CONDOR_PORT` (9618).

A spot preemption kills the execute pod and its node: the schedd loses the claim, the job goes
back to Idle in the queue and is matched again on another slot; if the job itself was lost
mid-run, DAGMan retries the node up to BPS's ``numberOfRetries`` (idf_ops/batch/site.py sets
it >= 3). The Deployment recreates the pod; the autoscaler replaces the node.

Images: the official HTCondor images (``htcondor/{cm,submit,execute}:<version>-el9``), pinned by
digest as the policy pack demands (`k8s-batch-pods-pinned-workload-identity` covers Deployments and
StatefulSets). The digests cannot be resolved from the machines that build this repository, so they
are keys of the stack file (``idf:images.htcondor_cm|submit|execute``, :class:`HtcondorImages`); the
program declares this component only when all three are recorded (:mod:`infra.images`: a warning
in a plan, a refusal at a real ``pulumi up``). Recording them is a step of runbooks/batch.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pulumi_random as random

from idf_core.facts import HTCONDOR_NAMESPACE
from infra.config import NodePoolConfig
from infra.node_pools import k8s_taint_effect

__all__ = [
    "CM_SERVICE",
    "CONDOR_PORT",
    "EXECUTE_POOL_ATTR",
    "EXECUTE_REPLICAS",
    "HTCONDOR_NAMESPACE",
    "HTCONDOR_VERSION",
    "SERVICE_ACCOUNT",
    "SUBMIT_SERVICE",
    "BatchHtcondor",
    "BatchHtcondorArgs",
    "HtcondorImages",
    "machine_shape",
]

# HTCondor's LTS series the batch environment's bindings talk to (htcondor==24.12.24 wheels speak
# to 24.x daemons); the images' tag is <version>-el9 (infra.images.UPSTREAM_IMAGES).
HTCONDOR_VERSION = "24.0.7"
CONDOR_PORT = 9618
CM_SERVICE = "htcondor-cm"
SUBMIT_SERVICE = "htcondor-submit"
EXECUTE_NAME = "htcondor-execute"
SERVICE_ACCOUNT = "htcondor"
EXECUTE_REPLICAS = 0
SIGNING_KEY_SECRET = "htcondor-signing-key"  # noqa: S105  # pragma: allowlist secret - a Secret's name
REGISTRY_SECRET = "htcondor-butler-db-auth"  # noqa: S105  # pragma: allowlist secret - a Secret's name
REGISTRY_CONFIG = "htcondor-butler-registry"
CONDOR_CONFIG = "htcondor-config"
EXECUTE_POOL_ATTR = "batch"
# Read by every daemon after the image's own configuration (config.d is read in name order).
# In a container HTCondor runs without PID namespaces or scratch mounts, as in the local pool.
CONDOR_LOCAL_CONFIG = (
    f"CONDOR_HOST = {CM_SERVICE}.{HTCONDOR_NAMESPACE}.svc.cluster.local\n"
    "SEC_DEFAULT_AUTHENTICATION_METHODS = IDTOKENS\n"
    "USE_PID_NAMESPACES = False\n"
    "MOUNT_UNDER_SCRATCH =\n"
    "ENABLE_IPV6 = False\n"
    # The execute pods' slots carry the pool they run on; BPS's site config requires it.
    f'IDF_POOL = "{EXECUTE_POOL_ATTR}"\n'
    "STARTD_ATTRS = $(STARTD_ATTRS) IDF_POOL\n"
)
_PART_OF = {"app.kubernetes.io/part-of": "htcondor"}
# What a node keeps for itself (GKE's allocatable reservations are ~6% CPU and ~10-25% memory on
# an 8-vCPU node): the execute pod asks for the rest, so one pod lands per node.
_NODE_CPU_RESERVED = 1
_NODE_MEMORY_RESERVED_FRACTION = 0.2


# GB of memory per vCPU of the GCE predefined families the stacks use (GCE machine families page).
_GB_PER_VCPU = {
    ("n2", "standard"): 4.0,
    ("n2", "highmem"): 8.0,
    ("n2", "highcpu"): 1.0,
    ("n1", "standard"): 3.75,
    ("n1", "highmem"): 6.5,
    ("e2", "standard"): 4.0,
}


def machine_shape(machine_type: str) -> tuple[int, float]:
    """vCPUs and memory (GB) of a predefined machine type such as ``n2-standard-8``."""
    family, _, rest = machine_type.partition("-")
    kind, _, vcpus = rest.partition("-")
    per_vcpu = _GB_PER_VCPU.get((family, kind))
    if per_vcpu is None or not vcpus.isdigit():
        raise ValueError(
            f"machine type {machine_type!r} has no known shape (known: "
            f"{', '.join(f'{f}-{k}-N' for f, k in _GB_PER_VCPU)}); use one of those for the batch pool"
        )
    return int(vcpus), int(vcpus) * per_vcpu


@dataclass(frozen=True)
class HtcondorImages:
    """The three daemons' images, each ``htcondor/<image>:<tag>@sha256:<digest>`` (``idf:images``)."""

    cm: str
    submit: str
    execute: str


@dataclass(frozen=True)
class BatchHtcondorArgs:
    """Inputs of :class:`BatchHtcondor`."""

    project: str
    stack: str
    labels: dict[str, str]
    """Kubernetes labels every object carries."""
    provider: k8s.Provider
    core_pool_name: str
    """GKE name of the core pool (central manager and schedd)."""
    batch_pool: NodePoolConfig
    batch_pool_name: str
    """GKE name of the spot batch pool (execute pods)."""
    batch_vcpus: int
    batch_memory_gb: float
    """Shape of one batch node (from its machine type)."""
    depends_on: list[pulumi.Resource]
    """The cluster and its node pools."""
    datastore_bucket: gcp.storage.Bucket
    registry_host: pulumi.Input[str]
    """The Cloud SQL instance's private address."""
    registry_database: pulumi.Input[str]
    writer_user: pulumi.Input[str]
    writer_password: pulumi.Output[str]
    """The processing (writer) role's password, a Pulumi secret."""
    images: HtcondorImages


class BatchHtcondor(pulumi.ComponentResource):
    """Central manager, schedd, execute pods, their identity and their network policy."""

    namespace: k8s.core.v1.Namespace
    signing_key: random.RandomPassword
    service_account: gcp.serviceaccount.Account
    central_manager: k8s.apps.v1.StatefulSet
    submit: k8s.apps.v1.StatefulSet
    execute: k8s.apps.v1.Deployment
    network_policy: k8s.networking.v1.NetworkPolicy

    def __init__(
        self, name: str, args: BatchHtcondorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("idf:batch:BatchHtcondor", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ns = HTCONDOR_NAMESPACE
        labels = {**args.labels, **_PART_OF}
        meta = lambda n: k8s.meta.v1.ObjectMetaArgs(name=n, namespace=ns, labels=labels)  # noqa: E731
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ns, labels=labels),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=args.depends_on),
        )
        k8s_child = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[self.namespace])

        # --- identity: objectAdmin on the datastore bucket only ---------------------------------
        self.service_account = gcp.serviceaccount.Account(
            f"{name}-sa",
            account_id=f"htcondor-{args.stack}"[:30],
            project=args.project,
            display_name="HTCondor pool of DP0.2 reprocessing: writes Butler outputs",
            opts=child,
        )
        member = self.service_account.email.apply(lambda e: f"serviceAccount:{e}")
        datastore_grant = gcp.storage.BucketIAMMember(
            f"{name}-datastore-admin",
            bucket=args.datastore_bucket.name,
            role="roles/storage.objectAdmin",
            member=member,
            opts=child,
        )
        identity = gcp.serviceaccount.IAMMember(
            f"{name}-workload-identity",
            service_account_id=self.service_account.name,
            role="roles/iam.workloadIdentityUser",
            member=f"serviceAccount:{args.project}.svc.id.goog[{ns}/{SERVICE_ACCOUNT}]",
            opts=pulumi.ResourceOptions(parent=self, depends_on=args.depends_on),
        )
        ksa = k8s.core.v1.ServiceAccount(
            f"{name}-ksa",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=SERVICE_ACCOUNT,
                namespace=ns,
                labels=labels,
                annotations={"iam.gke.io/gcp-service-account": self.service_account.email},
            ),
            opts=k8s_child,
        )

        # --- secrets: the IDTOKENS signing key and the registry's db-auth ------------------------
        self.signing_key = random.RandomPassword(f"{name}-signing-key", length=64, special=False, opts=child)
        key_secret = k8s.core.v1.Secret(
            f"{name}-signing-key-secret",
            metadata=meta(SIGNING_KEY_SECRET),
            type="Opaque",
            string_data={"POOL": pulumi.Output.secret(cast("Any", self.signing_key.result))},
            opts=k8s_child,
        )
        db_auth = pulumi.Output.all(args.writer_user, args.registry_host, args.registry_database).apply(
            lambda v: f"postgresql://{v[0]}@{v[1]}:5432/{v[2]}"
        )
        auth_text: pulumi.Output[str] = pulumi.Output.all(db_auth, args.writer_password).apply(
            lambda v: f"- url: {v[0]}\n  password: {v[1]}\n"
        )
        auth_yaml: pulumi.Output[str] = pulumi.Output.secret(cast("Any", auth_text))
        registry_secret = k8s.core.v1.Secret(
            f"{name}-db-auth",
            metadata=meta(REGISTRY_SECRET),
            type="Opaque",
            string_data={"db-auth.yaml": auth_yaml},
            opts=k8s_child,
        )
        registry_config = k8s.core.v1.ConfigMap(
            f"{name}-registry",
            metadata=meta(REGISTRY_CONFIG),
            data={
                "host": args.registry_host,
                "port": "5432",
                "database": args.registry_database,
                "datastore": args.datastore_bucket.name.apply(lambda b: f"gs://{b}/repo"),
            },
            opts=k8s_child,
        )

        condor_config = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=meta(CONDOR_CONFIG),
            data={"99-idf.conf": CONDOR_LOCAL_CONFIG},
            opts=k8s_child,
        )

        # --- the daemons ---------------------------------------------------------------------------
        core = _placement(args.core_pool_name, None)
        batch = _placement(args.batch_pool_name, args.batch_pool)
        after = pulumi.ResourceOptions(
            parent=self,
            provider=args.provider,
            depends_on=[
                *args.depends_on,
                self.namespace,
                ksa,
                key_secret,
                registry_secret,
                registry_config,
                condor_config,
            ],
        )
        for service in (CM_SERVICE, SUBMIT_SERVICE):
            k8s.core.v1.Service(
                f"{name}-{service}-service",
                metadata=meta(service),
                spec=_wire(
                    {
                        "selector": {"app.kubernetes.io/name": service},
                        "ports": [{"name": "condor", "port": CONDOR_PORT, "targetPort": CONDOR_PORT}],
                    }
                ),
                opts=k8s_child,
            )
        self.central_manager = k8s.apps.v1.StatefulSet(
            f"{name}-cm",
            metadata=meta(CM_SERVICE),
            spec=_stateful(
                CM_SERVICE, labels, _pod(CM_SERVICE, args.images.cm, "CENTRAL_MANAGER", core, _small()), None
            ),
            opts=after,
        )
        self.submit = k8s.apps.v1.StatefulSet(
            f"{name}-submit",
            metadata=meta(SUBMIT_SERVICE),
            spec=_stateful(
                SUBMIT_SERVICE,
                labels,
                _pod(SUBMIT_SERVICE, args.images.submit, "SUBMIT", core, _small()),
                "100Gi",
            ),
            opts=after,
        )
        memory_gib = int(args.batch_memory_gb * (1 - _NODE_MEMORY_RESERVED_FRACTION))
        execute_resources = {
            "requests": {
                "cpu": str(max(args.batch_vcpus - _NODE_CPU_RESERVED, 1)),
                "memory": f"{memory_gib}Gi",
            },
            "limits": {"memory": f"{memory_gib}Gi"},
        }
        self.execute = k8s.apps.v1.Deployment(
            f"{name}-execute",
            metadata=meta(EXECUTE_NAME),
            spec=_wire(
                {
                    "replicas": EXECUTE_REPLICAS,
                    "selector": {"matchLabels": {"app.kubernetes.io/name": EXECUTE_NAME}},
                    "template": {
                        "metadata": {"labels": {**labels, "app.kubernetes.io/name": EXECUTE_NAME}},
                        "spec": _pod(EXECUTE_NAME, args.images.execute, "EXECUTE", batch, execute_resources),
                    },
                }
            ),
            opts=after,
        )
        selector = {"matchLabels": _PART_OF}
        self.network_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-ingress",
            metadata=meta("htcondor-ingress"),
            spec=_wire(
                {
                    "podSelector": selector,
                    "policyTypes": ["Ingress"],
                    "ingress": [
                        {
                            "from": [{"podSelector": selector}],
                            "ports": [{"protocol": "TCP", "port": CONDOR_PORT}],
                        }
                    ],
                }
            ),
            opts=k8s_child,
        )
        self.register_outputs(
            {
                "namespace": ns,
                "central_manager": f"{CM_SERVICE}.{ns}.svc.cluster.local:{CONDOR_PORT}",
                "service_account": self.service_account.email,
                "grants": [datastore_grant.role, identity.role],
            }
        )


def _placement(pool_name: str, pool: NodePoolConfig | None) -> dict[str, Any]:
    placement: dict[str, Any] = {"nodeSelector": {"cloud.google.com/gke-nodepool": pool_name}}
    if pool is not None and pool.taints:
        placement["tolerations"] = [
            {"key": t.key, "operator": "Equal", "value": t.value, "effect": k8s_taint_effect(t.effect)}
            for t in pool.taints
        ]
    return placement


def _small() -> dict[str, Any]:
    return {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}}


def _pod(
    name: str, image: str, role: str, placement: dict[str, Any], resources: dict[str, Any]
) -> dict[str, Any]:
    """One HTCondor daemon pod in wire format; its token is minted from the signing key at start."""
    mint = (
        f"condor_token_create -identity {role.lower()}@{HTCONDOR_NAMESPACE} "
        f"-key POOL > /etc/condor/tokens.d/{role.lower()}"
    )
    return {
        "serviceAccountName": SERVICE_ACCOUNT,
        **placement,
        # A preempted spot node gives ~30 s notice: the startd is told to vacate its jobs.
        "terminationGracePeriodSeconds": 25,
        "initContainers": [
            {
                "name": "token",
                "image": image,
                "command": ["/bin/sh", "-c", mint],
                "securityContext": {"allowPrivilegeEscalation": False},
                "volumeMounts": _mounts(),
            }
        ],
        "containers": [
            {
                "name": name,
                "image": image,
                "env": [
                    {"name": "IDF_HTCONDOR_ROLE", "value": role},
                    {"name": "LSST_DB_AUTH", "value": "/etc/idf/db-auth/db-auth.yaml"},
                    {
                        "name": "IDF_BUTLER_REGISTRY_HOST",
                        "valueFrom": {"configMapKeyRef": {"name": REGISTRY_CONFIG, "key": "host"}},
                    },
                ],
                "ports": [{"name": "condor", "containerPort": CONDOR_PORT, "protocol": "TCP"}],
                "resources": resources,
                "securityContext": {"allowPrivilegeEscalation": False},
                "volumeMounts": [
                    *_mounts(),
                    {"name": "db-auth", "mountPath": "/etc/idf/db-auth", "readOnly": True},
                ],
            }
        ],
        "volumes": [
            {"name": "signing-key", "secret": {"secretName": SIGNING_KEY_SECRET, "defaultMode": 0o400}},
            {"name": "tokens", "emptyDir": {"sizeLimit": "1Mi"}},
            {"name": "local-config", "configMap": {"name": CONDOR_CONFIG}},
            {"name": "db-auth", "secret": {"secretName": REGISTRY_SECRET, "defaultMode": 0o400}},
        ],
    }


def _mounts() -> list[dict[str, Any]]:
    return [
        {"name": "signing-key", "mountPath": "/etc/condor/passwords.d", "readOnly": True},
        {"name": "tokens", "mountPath": "/etc/condor/tokens.d"},
        {"name": "local-config", "mountPath": "/etc/condor/config.d/99-idf.conf", "subPath": "99-idf.conf"},
    ]


def _stateful(name: str, labels: dict[str, str], pod: dict[str, Any], spool: str | None) -> Any:
    spec: dict[str, Any] = {
        "serviceName": name,
        "replicas": 1,
        "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
        "template": {"metadata": {"labels": {**labels, "app.kubernetes.io/name": name}}, "spec": pod},
    }
    if spool is not None:
        # The schedd's queue and DAGMan's files survive a restart of the pod.
        pod["containers"][0]["volumeMounts"].append({"name": "spool", "mountPath": "/var/lib/condor/spool"})
        spec["volumeClaimTemplates"] = [
            {
                "metadata": {"name": "spool"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": spool}}},
            }
        ]
    return _wire(spec)


def _wire(manifest: dict[str, Any]) -> Any:
    """A spec in Kubernetes wire format (camelCase), which pulumi_kubernetes passes through as is;
    its typed ``*ArgsDict`` spell keys in snake_case, so wire-format dicts go in untyped."""
    return manifest
