"""Our typed models of the Kubernetes custom resources the program writes.

kubernetes-validate ships schemas for the built-in kinds only; the CRDs of these kinds come with
Argo CD and GKE, which are not installed here. Each model holds just the fields we set, with the
names and places of the upstream CRD, and forbids anything else, so a misspelt or misplaced field
fails offline instead of being pruned silently by the API server. The components build their
manifests from these models, and the offline plan validates the recorded objects against them
again (:data:`CUSTOM_RESOURCE_MODELS`, used by idf_ops/plan/manifests.py).

- Argo CD `Application` (argoproj.io/v1alpha1; argo-cd manifests/crds/application-crd.yaml):
  spec.project, spec.source.{repoURL,path,targetRevision,helm.{valueFiles,parameters}},
  spec.destination.{server,namespace};
- GKE `ManagedCertificate` (networking.gke.io/v1): spec.domains;
- GKE `BackendConfig` (cloud.google.com/v1): spec.healthCheck.{type,requestPath,port}.

Only pydantic here (no Pulumi): the manifest validator imports it in its own process.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CUSTOM_RESOURCE_MODELS",
    "ArgoApplication",
    "BackendConfig",
    "ManagedCertificate",
    "ObjectMeta",
]

_DNS_NAME = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$"
_K8S_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class _Cr(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class HelmParameter(_Cr):
    """`spec.source.helm.parameters[]`: one `--set name=value`."""

    name: str = Field(min_length=1, description="Helm value path.")
    value: str = Field(description="Its value (a string, as Argo CD passes it).")


class ApplicationHelm(_Cr):
    """`spec.source.helm`."""

    value_files: list[str] = Field(alias="valueFiles", min_length=1, description="Values files, in order.")
    parameters: list[HelmParameter] = Field(default_factory=list, description="Helm parameters.")


class ApplicationSource(_Cr):
    """`spec.source`: a Git repository at a pinned commit."""

    repo_url: str = Field(alias="repoURL", pattern=r"^https://\S+$", description="Git repository URL.")
    path: str = Field(min_length=1, description="Chart directory inside the repository.")
    target_revision: str = Field(
        alias="targetRevision", pattern=r"^[0-9a-f]{40}$", description="Pinned commit (never a branch)."
    )
    helm: ApplicationHelm = Field(description="Helm options.")


class ApplicationDestination(_Cr):
    """`spec.destination`."""

    server: str = Field(pattern=r"^https://\S+$", description="API server of the target cluster.")
    namespace: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", description="Target namespace.")


class ApplicationSpec(_Cr):
    """`spec` (no `syncPolicy`: the app-of-apps is synced by a person)."""

    project: str = Field(min_length=1, description="Argo CD project.")
    source: ApplicationSource
    destination: ApplicationDestination


class ObjectMeta(_Cr):
    """`metadata` of the fields we set."""

    name: str = Field(pattern=_K8S_NAME)
    namespace: str = Field(pattern=_K8S_NAME)
    labels: dict[str, str] = Field(default_factory=dict)


class ArgoApplication(_Cr):
    """An Argo CD Application, as far as this program writes one."""

    api_version: Literal["argoproj.io/v1alpha1"] = Field(alias="apiVersion")
    kind: Literal["Application"]
    metadata: ObjectMeta
    spec: ApplicationSpec

    def manifest(self) -> dict[str, Any]:
        """The object in Kubernetes wire format."""
        return self.model_dump(by_alias=True, exclude_defaults=False)


class ManagedCertificateSpec(_Cr):
    """`spec` of a GKE ManagedCertificate."""

    domains: list[Annotated[str, Field(pattern=_DNS_NAME)]] = Field(
        min_length=1, max_length=100, description="Host names (no wildcards)."
    )


class ManagedCertificate(_Cr):
    """A GKE ManagedCertificate (networking.gke.io/v1), as far as we write one."""

    api_version: Literal["networking.gke.io/v1"] = Field(alias="apiVersion")
    kind: Literal["ManagedCertificate"]
    metadata: ObjectMeta
    spec: ManagedCertificateSpec


class HealthCheck(_Cr):
    """`spec.healthCheck` of a BackendConfig."""

    type: Literal["HTTP", "HTTPS", "HTTP2"]
    request_path: str = Field(alias="requestPath", pattern=r"^/")
    port: int = Field(ge=1, le=65535)


class BackendConfigSpec(_Cr):
    """`spec` of a BackendConfig."""

    health_check: HealthCheck = Field(alias="healthCheck")


class BackendConfig(_Cr):
    """A GKE BackendConfig (cloud.google.com/v1), as far as we write one."""

    api_version: Literal["cloud.google.com/v1"] = Field(alias="apiVersion")
    kind: Literal["BackendConfig"]
    metadata: ObjectMeta
    spec: BackendConfigSpec


# (apiVersion, kind) -> the model an object of that kind must meet.
CUSTOM_RESOURCE_MODELS: dict[tuple[str, str], type[BaseModel]] = {
    ("argoproj.io/v1alpha1", "Application"): ArgoApplication,
    ("networking.gke.io/v1", "ManagedCertificate"): ManagedCertificate,
    ("cloud.google.com/v1", "BackendConfig"): BackendConfig,
}
