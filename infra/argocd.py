"""Science Platform component: Argo CD and the Phalanx app-of-apps, the way Rubin deploys it.

Phalanx (lsst-sqre/phalanx) is Rubin's deployment engine for the Science Platform: an Argo CD
"app-of-apps" whose Helm chart (`environments/` of the Phalanx repository) reads
`values-<environment>.yaml` and creates one Argo CD Application per enabled application
(Gafaelfawr, Nublado, TAP, the Portal, datalinker, ...). This component declares what Phalanx's
own installer (`phalanx environment install`) would otherwise do by hand:

1. the `argocd` namespace and Argo CD itself, from the upstream argo-helm `argo-cd` chart at a
   pinned version: a Helm Release that Helm fetches from the chart repository at deploy time
   (nothing of the chart is in this repository);
2. the app-of-apps `Application` for our environment, pointing at the Phalanx repository at a
   pinned commit with Phalanx's own layout (path `environments`, value files `values.yaml` and
   `values-<environment>.yaml`, the `repoUrl`/`targetRevision` parameters its installer sets). It
   has no automated sync policy: syncing it is a person's step, after the secrets are in place
   (runbooks/pulumi.md);
3. the Secret Manager secret (the container only) for Gafaelfawr's GitHub OAuth App client secret:
   a person adds its value; the program never sees it.

The Application custom resource has no schema in kubernetes-validate (its CRD ships with Argo CD):
:class:`infra.custom_resources.ArgoApplication` is our typed model of the fields we set, with the
names and places of Argo CD's `argoproj.io/v1alpha1` Application CRD. The manifest is built from
the model, and the offline plan validates the recorded object against it again
(idf_ops/plan/manifests.py).

Not checked offline: that the chart version exists in the repository and installs on the
cluster's Kubernetes version, and that the Phalanx revision holds `values-<environment>.yaml`
(runbooks/pulumi.md §5: the environment's files are merged into Phalanx before that pin).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from idf_core.facts import ARGOCD_NAMESPACE as _ARGOCD_NAMESPACE
from infra.config.models import PhalanxConfig
from infra.custom_resources import (
    ApplicationDestination,
    ApplicationHelm,
    ApplicationSource,
    ApplicationSpec,
    ArgoApplication,
    HelmParameter,
    ObjectMeta,
)

__all__ = [
    "APP_OF_APPS_NAME",
    "ARGOCD_CHART",
    "ARGOCD_NAMESPACE",
    "ARGO_APPLICATION_API_VERSION",
    "SciencePlatform",
    "SciencePlatformArgs",
    "app_of_apps",
    "github_secret_id",
]

ARGOCD_NAMESPACE = _ARGOCD_NAMESPACE
ARGOCD_CHART = "argo-cd"
ARGO_APPLICATION_API_VERSION: Final = "argoproj.io/v1alpha1"
# Phalanx's name for the parent Application of its Rubin environments (values-idf*.yaml).
APP_OF_APPS_NAME = "science-platform"
IN_CLUSTER = "https://kubernetes.default.svc"


def app_of_apps(phalanx: PhalanxConfig, labels: dict[str, str]) -> ArgoApplication:
    """The Phalanx app-of-apps Application of an environment (what `phalanx environment install`
    creates with `argocd app create`: path `environments`, values.yaml + values-<env>.yaml, the
    repoUrl/targetRevision parameters, destination the argocd namespace of this cluster)."""
    return ArgoApplication(
        api_version=ARGO_APPLICATION_API_VERSION,
        kind="Application",
        metadata=ObjectMeta(name=APP_OF_APPS_NAME, namespace=ARGOCD_NAMESPACE, labels=labels),
        spec=ApplicationSpec(
            project="default",
            source=ApplicationSource(
                repo_url=phalanx.repo_url,
                path="environments",
                target_revision=phalanx.target_revision,
                helm=ApplicationHelm(
                    value_files=["values.yaml", f"values-{phalanx.environment}.yaml"],
                    parameters=[
                        HelmParameter(name="repoUrl", value=phalanx.repo_url),
                        HelmParameter(name="targetRevision", value=phalanx.target_revision),
                    ],
                ),
            ),
            destination=ApplicationDestination(server=IN_CLUSTER, namespace=ARGOCD_NAMESPACE),
        ),
    )


def github_secret_id(stack: str) -> str:
    """Secret Manager id of the stack's Gafaelfawr GitHub OAuth App client secret."""
    return f"idf-{stack}-gafaelfawr-github-client-secret"


@dataclass(frozen=True)
class SciencePlatformArgs:
    """Inputs of :class:`SciencePlatform`."""

    phalanx: PhalanxConfig
    project: str
    stack: str
    labels: dict[str, str]
    """GCP labels (of the Secret Manager secret)."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""
    depends_on: list[pulumi.Resource]
    """What must exist before Argo CD installs: the cluster's node pools."""


class SciencePlatform(pulumi.ComponentResource):
    """Argo CD, the Phalanx app-of-apps and the GitHub OAuth secret container."""

    namespace: k8s.core.v1.Namespace
    argocd: k8s.helm.v3.Release
    app_of_apps: k8s.apiextensions.CustomResource
    github_client_secret: gcp.secretmanager.Secret

    def __init__(
        self, name: str, args: SciencePlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("idf:argocd:SciencePlatform", name, None, opts)
        phalanx = args.phalanx
        k8s_labels = {"app.kubernetes.io/managed-by": "pulumi", "idf.lsst.io/stack": args.stack}
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-ns-argocd",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ARGOCD_NAMESPACE, labels=k8s_labels),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=args.depends_on),
        )
        self.argocd = k8s.helm.v3.Release(
            f"{name}-argocd",
            name="argocd",  # the release name Phalanx's own `argocd` application uses
            chart=ARGOCD_CHART,
            version=phalanx.argocd_chart_version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=phalanx.argocd_chart_repo),
            namespace=ARGOCD_NAMESPACE,
            create_namespace=False,
            # Phalanx's argocd application takes over Argo CD's configuration after the first
            # sync; this release only bootstraps it, with the chart's defaults.
            atomic=True,
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=[*args.depends_on, self.namespace]
            ),
        )
        application = app_of_apps(phalanx, k8s_labels).manifest()
        self.app_of_apps = k8s.apiextensions.CustomResource(
            f"{name}-app-of-apps",
            api_version=application["apiVersion"],
            kind=application["kind"],
            metadata=application["metadata"],
            spec=application["spec"],
            # The Application CRD exists once the Argo CD chart is installed.
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[self.argocd]),
        )
        self.github_client_secret = gcp.secretmanager.Secret(
            f"{name}-github-client-secret",
            secret_id=github_secret_id(args.stack),
            project=args.project,
            replication=gcp.secretmanager.SecretReplicationArgs(
                auto=gcp.secretmanager.SecretReplicationAutoArgs()
            ),
            labels={**args.labels, "app": "gafaelfawr"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs(
            {
                "argocd_chart_version": phalanx.argocd_chart_version,
                "app_of_apps": APP_OF_APPS_NAME,
                "github_client_secret": self.github_client_secret.name,
            }
        )
