"""Kubernetes layer: what the stack declares inside its GKE cluster, through pulumi_kubernetes
with a Provider built from the cluster's kubeconfig.

Namespaces with resource quotas, Kubernetes service accounts bound to the Workload Identity
service accounts (`infra.iam`), the `qserv` StorageClass (PD CSI, retained, expandable), an
internal static IP for the Qserv front end, cert-manager (:mod:`infra.cert_manager`) and
qserv-operator itself (:mod:`infra.qserv_operator`), each a pinned upstream release digest-checked
at deploy time, the operator in its own namespace and after cert-manager, and its `Qserv`
custom resource, which depends on the operator and on the generated Secrets its pods mount
(:mod:`infra.qserv_secrets`), sized from `idf:qserv` (czar/worker replicas and storage, placement
on the Qserv pools).

Worker volumes follow `idf:qserv.worker_volume`: on `local-nvme-ssd` (the default, what the sizing
and cost model assume) they are claimed from the `qserv-local-ssd` class that
:mod:`infra.qserv_local_ssd` builds over the worker pool's local SSDs; on `persistent-disk` from
the `qserv` PD class, like the czar's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from infra.cert_manager import CertManager, CertManagerArgs
from infra.config import NamespaceQuota, NodePoolConfig, QservConfig
from infra.iam import WORKLOADS
from infra.node_pools import k8s_taint_effect
from infra.qserv_local_ssd import STORAGE_CLASS as LOCAL_SSD_STORAGE_CLASS
from infra.qserv_local_ssd import QservLocalSsd, QservLocalSsdArgs
from infra.qserv_operator import QservOperator, QservOperatorArgs
from infra.qserv_secrets import QSERV_CR_NAME, QservSecrets, QservSecretsArgs
from infra.tap_egress import TAP_EGRESS_POLICY_NAME, TAP_NAMESPACE, tap_egress_spec

__all__ = [
    "PD_STORAGE_CLASS",
    "QSERV_API_VERSION",
    "KubernetesLayer",
    "KubernetesLayerArgs",
    "kubeconfig",
    "qserv_spec",
    "worker_storage_class",
]

QSERV_API_VERSION = "qserv.lsst.org/v1beta1"
PD_STORAGE_CLASS = "qserv"
QSERV_FRONTEND_PORT = 4040


def kubeconfig(cluster_name: str, endpoint: str, ca_certificate: str) -> str:
    """A kubeconfig that authenticates with gke-gcloud-auth-plugin (no static credentials)."""
    return f"""apiVersion: v1
kind: Config
clusters:
- name: {cluster_name}
  cluster:
    server: https://{endpoint}
    certificate-authority-data: {ca_certificate}
contexts:
- name: {cluster_name}
  context:
    cluster: {cluster_name}
    user: {cluster_name}
current-context: {cluster_name}
users:
- name: {cluster_name}
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: gke-gcloud-auth-plugin
      installHint: Install gke-gcloud-auth-plugin (gcloud components install gke-gcloud-auth-plugin)
      provideClusterInfo: true
"""


def _affinity(pool_name: str) -> dict[str, Any]:
    """Required node affinity to one GKE node pool (qserv-operator: `spec.<role>.affinity`)."""
    pool = {"key": "cloud.google.com/gke-nodepool", "operator": "In", "values": [pool_name]}
    term = {"matchExpressions": [pool]}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}


def _tolerations(pools: list[NodePoolConfig]) -> list[dict[str, str]]:
    """Tolerations of the taints of the given pools, each once. qserv-operator's CRD has a single
    `spec.tolerations` for every Qserv pod (no per-role list): the per-role affinity keeps each
    role on its own pool."""
    tolerations: list[dict[str, str]] = []
    for pool in pools:
        for t in pool.taints:
            effect = k8s_taint_effect(t.effect)
            toleration = {"key": t.key, "operator": "Equal", "value": t.value, "effect": effect}
            if toleration not in tolerations:
                tolerations.append(toleration)
    return tolerations


def worker_storage_class(qserv: QservConfig) -> str:
    """The StorageClass Qserv workers claim their volume from."""
    if qserv.worker_volume == "local-nvme-ssd":
        return LOCAL_SSD_STORAGE_CLASS
    return PD_STORAGE_CLASS


def qserv_spec(
    q: QservConfig, pools: dict[str, NodePoolConfig], pool_names: dict[str, str], frontend_ip: str | None
) -> dict[str, Any]:
    """The `spec` of the Qserv custom resource, sized from `idf:qserv` and placed on its pools
    (``pools``: pool key -> pool, ``pool_names``: pool key -> GKE node pool name)."""
    query_service: dict[str, Any] = {
        "type": "LoadBalancer",
        "annotations": {"networking.gke.io/load-balancer-type": "Internal"},
    }
    if frontend_ip is not None:
        query_service["loadBalancerIP"] = frontend_ip
    # Field names and places follow qserv-operator's v1beta1 CRD (spec.image and spec.dbImage
    # required; tolerations only at spec level; affinity, replicas, storage per role).
    return {
        "image": q.image,
        "dbImage": q.db_image,
        "storageClassName": PD_STORAGE_CLASS,
        "tolerations": _tolerations([pools[q.czar_pool], pools[q.worker_pool]]),
        "czar": {
            "replicas": q.czar_replicas,
            "storage": f"{q.czar_storage_gb}Gi",
            "storageClassName": PD_STORAGE_CLASS,
            "affinity": _affinity(pool_names[q.czar_pool]),
        },
        "worker": {
            "replicas": q.worker_replicas,
            "storage": f"{q.worker_storage_gb}Gi",
            "storageClassName": worker_storage_class(q),
            "affinity": _affinity(pool_names[q.worker_pool]),
        },
        "queryService": query_service,
    }


@dataclass(frozen=True)
class KubernetesLayerArgs:
    """Inputs of :class:`KubernetesLayer`."""

    namespaces: dict[str, NamespaceQuota]
    """Namespace -> resource quota (`idf:kubernetes.namespaces`)."""
    qserv: QservConfig | None
    """The Qserv instance, if the stack serves one (`idf:qserv`)."""
    node_pools: dict[str, NodePoolConfig]
    """Pool key -> pool: Qserv tolerates the taints of its pools."""
    project: str
    region: str
    stack: str
    labels: dict[str, str]
    """GCP labels (of the Qserv front-end address)."""
    cluster: gcp.container.Cluster
    subnet_id: pulumi.Input[str]
    pool_names: dict[str, str]
    """Node pool key -> GKE node pool name (for Qserv placement)."""
    pools: list[pulumi.Resource]
    workload_service_accounts: dict[str, gcp.serviceaccount.Account]
    """Workload key (== Kubernetes service account name) -> GCP service account."""
    cluster_cidrs: list[str] = field(default_factory=list)
    """Node, pod, service and control-plane ranges: the TAP pods' egress never reaches them."""


class KubernetesLayer(pulumi.ComponentResource):
    """Objects inside the cluster."""

    provider: k8s.Provider
    qserv: k8s.apiextensions.CustomResource | None
    qserv_operator: QservOperator | None
    cert_manager: CertManager | None
    qserv_frontend_address: gcp.compute.Address | None
    qserv_local_ssd: QservLocalSsd | None
    qserv_secrets: QservSecrets | None

    def __init__(
        self, name: str, args: KubernetesLayerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("idf:kubernetes:KubernetesLayer", name, None, opts)
        cluster = args.cluster
        config_text = pulumi.Output.all(
            cluster.name, cluster.endpoint, cluster.master_auth.cluster_ca_certificate
        ).apply(lambda v: kubeconfig(str(v[0]), str(v[1]), str(v[2])))
        self.provider = k8s.Provider(
            f"{name}-provider",
            # No credential inside: the exec plugin authenticates (the CA certificate is public).
            kubeconfig=config_text,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Objects wait for the node pools: nothing schedules on a cluster without nodes.
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=args.pools)
        common_labels = {"app.kubernetes.io/managed-by": "pulumi", "idf.lsst.io/stack": args.stack}

        self.namespaces: dict[str, k8s.core.v1.Namespace] = {}
        for ns, quota in args.namespaces.items():
            namespace = k8s.core.v1.Namespace(
                f"{name}-ns-{ns}",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=ns, labels=common_labels),
                opts=k8s_opts,
            )
            self.namespaces[ns] = namespace
            k8s.core.v1.ResourceQuota(
                f"{name}-quota-{ns}",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{ns}-quota", namespace=ns, labels=common_labels),
                spec=k8s.core.v1.ResourceQuotaSpecArgs(
                    hard={
                        "requests.cpu": str(quota.cpu),
                        "requests.memory": f"{quota.memory_gib}Gi",
                        "pods": str(quota.pods),
                    }
                ),
                opts=pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=[namespace]),
            )
        if TAP_NAMESPACE in self.namespaces:
            # TAP UPLOAD by URL makes the server fetch it: its pods never reach internal addresses.
            k8s.networking.v1.NetworkPolicy(  # type: ignore[call-overload]
                f"{name}-tap-egress",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=TAP_EGRESS_POLICY_NAME, namespace=TAP_NAMESPACE, labels=common_labels
                ),
                spec=tap_egress_spec(
                    args.cluster_cidrs,
                    args.qserv.namespace if args.qserv is not None else None,
                    QSERV_FRONTEND_PORT,
                ),
                opts=pulumi.ResourceOptions(
                    parent=self, provider=self.provider, depends_on=[self.namespaces[TAP_NAMESPACE]]
                ),
            )
        for key, account in args.workload_service_accounts.items():
            ns = next(w.namespace for w in WORKLOADS if w.key == key)
            k8s.core.v1.ServiceAccount(
                f"{name}-ksa-{key}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=key,
                    namespace=ns,
                    labels=common_labels,
                    annotations={"iam.gke.io/gcp-service-account": account.email},
                ),
                opts=pulumi.ResourceOptions(
                    parent=self, provider=self.provider, depends_on=[self.namespaces[ns]]
                ),
            )

        self.qserv = None
        self.qserv_operator = None
        self.cert_manager = None
        self.qserv_frontend_address = None
        self.qserv_local_ssd = None
        self.qserv_secrets = None
        q = args.qserv
        if q is not None:
            self.storage_class = k8s.storage.v1.StorageClass(
                f"{name}-qserv-storage",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=PD_STORAGE_CLASS, labels=common_labels),
                provisioner="pd.csi.storage.gke.io",
                parameters={"type": q.storage_disk_type},
                reclaim_policy="Retain",
                volume_binding_mode="WaitForFirstConsumer",
                allow_volume_expansion=True,
                opts=k8s_opts,
            )
            worker_classes: list[pulumi.Resource] = []
            if q.worker_volume == "local-nvme-ssd":
                self.qserv_local_ssd = QservLocalSsd(
                    f"{name}-qserv-local-ssd",
                    QservLocalSsdArgs(
                        worker_pool=args.node_pools[q.worker_pool],
                        worker_pool_name=args.pool_names[q.worker_pool],
                        provider=self.provider,
                        depends_on=list(args.pools),
                        labels=common_labels,
                    ),
                    opts=pulumi.ResourceOptions(parent=self),
                )
                # The CR waits for the class and the provisioner that fills it with PVs.
                worker_classes = [self.qserv_local_ssd.storage_class, self.qserv_local_ssd.provisioner]
            # cert-manager before the operator: the operator's webhook certificate is a cert-manager
            # Certificate/Issuer (infra/cert_manager.py).
            self.cert_manager = CertManager(
                f"{name}-cert-manager",
                CertManagerArgs(provider=self.provider, depends_on=list(args.pools)),
                opts=pulumi.ResourceOptions(parent=self),
            )
            # The operator and its CRD first: a `Qserv` object sent to a cluster without them fails.
            self.qserv_operator = QservOperator(
                f"{name}-qserv-operator",
                QservOperatorArgs(
                    provider=self.provider,
                    watch_namespace=q.namespace,
                    labels=common_labels,
                    depends_on=[*args.pools, self.namespaces[q.namespace]],
                    cert_manager=self.cert_manager.group,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.qserv_frontend_address = gcp.compute.Address(
                f"{name}-qserv-frontend",
                name=f"{name}-qserv-frontend",
                project=args.project,
                region=args.region,
                address_type="INTERNAL",
                subnetwork=args.subnet_id,
                labels=args.labels,
                opts=pulumi.ResourceOptions(parent=self),
            )
            # The Secrets its pods mount (the operator never creates them), before the CR.
            self.qserv_secrets = QservSecrets(
                f"{name}-qserv-secrets",
                QservSecretsArgs(
                    namespace=q.namespace,
                    provider=self.provider,
                    labels=common_labels,
                    depends_on=[self.namespaces[q.namespace]],
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            spec = self.qserv_frontend_address.address.apply(
                lambda ip: qserv_spec(q, args.node_pools, args.pool_names, ip)
            )
            self.qserv = k8s.apiextensions.CustomResource(
                f"{name}-qserv",
                api_version=QSERV_API_VERSION,
                kind="Qserv",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=QSERV_CR_NAME, namespace=q.namespace, labels=common_labels
                ),
                spec=spec,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    provider=self.provider,
                    depends_on=[
                        *args.pools,
                        self.namespaces[q.namespace],
                        self.storage_class,
                        *worker_classes,
                        self.qserv_operator.group,
                        *self.qserv_secrets.secrets.values(),
                    ],
                ),
            )
        self.register_outputs(
            {
                "namespaces": list(args.namespaces),
                "qserv_frontend_ip": self.qserv_frontend_address.address
                if self.qserv_frontend_address
                else None,
            }
        )
