"""Platform ingress component: the public HTTPS entry of the Science Platform.

One Google Cloud external HTTP(S) load balancer on the stack's global static address
(`infra.dns.PublicDns.ingress_address`, the A record of the public host), terminating TLS with a
Google-managed certificate for the host, in front of Phalanx's in-cluster router (ingress-nginx,
which Phalanx deploys and Gafaelfawr's ingresses use). Declared here, in the `ingress-nginx`
namespace:

- a GKE `ManagedCertificate` (networking.gke.io/v1) for the public host;
- a `BackendConfig` (cloud.google.com/v1) whose health check asks ingress-nginx's `/healthz`
  (its default server answers 200 there; the load balancer's default `/` would get 404);
- an `Ingress` of class `gce` on the global address, HTTPS only, whose default backend is the
  `ingress-nginx-controller` Service. `idf phalanx render` writes the ingress-nginx values that
  make that Service a ClusterIP with container-native load balancing (NEG) and this BackendConfig.

Because TLS ends at the load balancer with a Google-managed certificate, the environment's
values disable Phalanx's cert-manager (Phalanx: "required unless the environment makes separate
arrangements to inject a current TLS certificate").

ManagedCertificate and BackendConfig have no schema in kubernetes-validate: :class:`ManagedCertificate`
and :class:`BackendConfig` are our typed models of the fields we set (names and places from GKE's
CRDs: `spec.domains`; `spec.healthCheck.{type,requestPath,port}`), checked again on the offline
plan. The Ingress and Namespace are standard kinds, validated strict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from idf_core.facts import PLATFORM_NGINX_BACKEND_CONFIG
from infra.custom_resources import (
    BackendConfig,
    BackendConfigSpec,
    HealthCheck,
    ManagedCertificate,
    ManagedCertificateSpec,
    ObjectMeta,
)

__all__ = [
    "BACKEND_CONFIG_NAME",
    "INGRESS_NAMESPACE",
    "NGINX_SERVICE",
    "PlatformIngress",
    "PlatformIngressArgs",
]

INGRESS_NAMESPACE = "ingress-nginx"
# The controller Service of Phalanx's ingress-nginx application (release `ingress-nginx`).
NGINX_SERVICE = "ingress-nginx-controller"
BACKEND_CONFIG_NAME = PLATFORM_NGINX_BACKEND_CONFIG
NGINX_HTTP_PORT = 80


@dataclass(frozen=True)
class PlatformIngressArgs:
    """Inputs of :class:`PlatformIngress`."""

    fqdn: str
    stack: str
    address: gcp.compute.GlobalAddress
    """The global static address the public host's A record points at."""
    provider: k8s.Provider
    depends_on: list[pulumi.Resource]
    """The node pools (nothing schedules without nodes) and Argo CD."""


class PlatformIngress(pulumi.ComponentResource):
    """Managed certificate, health check config and the HTTPS load balancer Ingress."""

    def __init__(
        self, name: str, args: PlatformIngressArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("idf:platform_ingress:PlatformIngress", name, None, opts)
        labels = {"app.kubernetes.io/managed-by": "pulumi", "idf.lsst.io/stack": args.stack}
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=INGRESS_NAMESPACE, labels=labels),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=args.depends_on),
        )
        in_namespace = pulumi.ResourceOptions(
            parent=self, provider=args.provider, depends_on=[self.namespace]
        )
        certificate = ManagedCertificate(
            api_version="networking.gke.io/v1",
            kind="ManagedCertificate",
            metadata=ObjectMeta(name=f"{name}-cert", namespace=INGRESS_NAMESPACE, labels=labels),
            spec=ManagedCertificateSpec(domains=[args.fqdn]),
        ).model_dump(by_alias=True)
        self.certificate = k8s.apiextensions.CustomResource(
            f"{name}-cert", **_cr_args(certificate), opts=in_namespace
        )
        backend = BackendConfig(
            api_version="cloud.google.com/v1",
            kind="BackendConfig",
            metadata=ObjectMeta(name=BACKEND_CONFIG_NAME, namespace=INGRESS_NAMESPACE, labels=labels),
            spec=BackendConfigSpec(
                health_check=HealthCheck(type="HTTP", request_path="/healthz", port=NGINX_HTTP_PORT)
            ),
        ).model_dump(by_alias=True)
        self.backend_config = k8s.apiextensions.CustomResource(
            f"{name}-backend", **_cr_args(backend), opts=in_namespace
        )
        self.ingress = k8s.networking.v1.Ingress(
            f"{name}-https",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="science-platform",
                namespace=INGRESS_NAMESPACE,
                labels=labels,
                annotations={
                    "kubernetes.io/ingress.class": "gce",
                    "kubernetes.io/ingress.global-static-ip-name": args.address.name,
                    "networking.gke.io/managed-certificates": f"{name}-cert",
                    # HTTPS only: the load balancer gets no port-80 forwarding rule.
                    "kubernetes.io/ingress.allow-http": "false",
                },
            ),
            spec=k8s.networking.v1.IngressSpecArgs(
                default_backend=k8s.networking.v1.IngressBackendArgs(
                    service=k8s.networking.v1.IngressServiceBackendArgs(
                        name=NGINX_SERVICE,
                        port=k8s.networking.v1.ServiceBackendPortArgs(number=NGINX_HTTP_PORT),
                    )
                )
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                depends_on=[self.namespace, self.certificate, self.backend_config],
            ),
        )
        self.register_outputs({"fqdn": args.fqdn, "ingress_ip": args.address.address})


def _cr_args(manifest: dict[str, Any]) -> dict[str, Any]:
    return {
        "api_version": manifest["apiVersion"],
        "kind": manifest["kind"],
        "metadata": manifest["metadata"],
        "spec": manifest["spec"],
    }
