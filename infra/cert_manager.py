"""cert-manager, installed by the program before qserv-operator, whose webhook certificate it issues.

qserv-operator's manifest (:mod:`infra.qserv_operator`) serves its admission webhooks with a
certificate from a cert-manager `Issuer`/`Certificate`; on a cluster without cert-manager those
objects have no CRD and the operator's group fails. So the program installs cert-manager first,
from its upstream release: :data:`CERT_MANAGER_RELEASE` names the published `cert-manager.yaml`
release asset at a pinned version and the SHA-256 of that file; at deploy time
:class:`infra.verified_manifest.VerifiedManifest` downloads it, refuses it unless the digest
matches, and a `kubernetes:yaml/v2:ConfigGroup` applies the verified text (CRDs first, and it waits
for the Deployments, so the webhook answers before the operator's group is sent). Nothing of
upstream is in this repository.

Why the release manifest and not the jetstack Helm chart (Argo CD, :mod:`infra.argocd`, is a Helm
Release): Argo CD is installed by Helm because Phalanx's own `argocd` application takes the release
over after the first sync, with the chart's values; nobody takes cert-manager over (Phalanx's
cert-manager application stays disabled: idf_ops/phalanx/values.py), and a Helm Release fetches
its chart with no digest check (only a tag-like version), whereas the manifest is checked against a
recorded SHA-256 before anything is applied, by the same code as the operator's. One mechanism for
both cluster prerequisites, and the digest is what pins it.

The webhook port: cert-manager's webhook listens on 10250 (`--secure-port=10250`, the chart's
default since GKE private clusters let the control plane reach 443 and 10250 only); the program's
control-plane firewall rule (:mod:`infra.gke`) opens :data:`CERT_MANAGER_WEBHOOK_PORT` explicitly,
and :meth:`_CertManagerManifestProvider.narrow` refuses a release whose webhook listens elsewhere.

Not checked offline: the content of the real file (tests serve a small manifest of its shape from a
local server), and that this release supports the cluster's Kubernetes version (cert-manager's
supported-releases table; GKE's release channel picks the version).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
import pulumi_kubernetes as k8s

from idf_core.errors import OperationFailed
from infra.verified_manifest import VerifiedManifest, VerifiedManifestProvider

__all__ = [
    "CERT_MANAGER_NAMESPACE",
    "CERT_MANAGER_RELEASE",
    "CERT_MANAGER_WEBHOOK_PORT",
    "CertManager",
    "CertManagerArgs",
    "CertManagerRelease",
    "webhook_port_checked",
]

CERT_MANAGER_NAMESPACE = "cert-manager"
CERT_MANAGER_WEBHOOK_PORT = 10250
_WEBHOOK_DEPLOYMENT = "cert-manager-webhook"
_PINNED_IN = "infra/cert_manager.py CERT_MANAGER_RELEASE"


@dataclass(frozen=True)
class CertManagerRelease:
    """One cert-manager release: its published all-in-one manifest and what it must hash to."""

    version: str
    """The release tag (cert-manager/cert-manager, `vX.Y.Z`)."""
    sha256: str | None
    """Hex SHA-256 of the published `cert-manager.yaml`; None when not recorded (a deploy refuses it)."""

    @property
    def url(self) -> str:
        """The release asset URL (what cert-manager's `kubectl apply` installation uses)."""
        return (
            f"https://github.com/cert-manager/cert-manager/releases/download/{self.version}/cert-manager.yaml"
        )


# cert-manager v1.20.2. The digest is not computed here (no network to GitHub from this machine):
# it is the one three independent public sources record for this release asset, and they agree
# (cybozu-go/accurate docs/setup.md, whose `sha256sum --check` install step was added in its PR
# #219, and two other projects' pinned install scripts). The first real `pulumi up` checks it
# against the published file; a mismatch applies nothing. To bump: read the release notes, then
# `curl -fsSL <url> | sha256sum` and change version and digest together.
CERT_MANAGER_RELEASE = CertManagerRelease(
    version="v1.20.2",
    sha256="1ce11cae912adecc69e6bb623435fafc9ed21505f9efff98bd71d7b80f01db1f",  # pragma: allowlist secret
)


def webhook_port_checked(docs: list[dict[str, Any]], *, port: int, version: str) -> list[dict[str, Any]]:
    """``docs`` unchanged when cert-manager's webhook listens on ``port`` (the port the control-plane
    firewall rule opens); OperationFailed naming the fix otherwise."""
    webhook = next(
        (
            d
            for d in docs
            if d.get("kind") == "Deployment" and (d.get("metadata") or {}).get("name") == _WEBHOOK_DEPLOYMENT
        ),
        None,
    )
    if webhook is None:
        raise OperationFailed(
            f"cert-manager {version}: the manifest has no Deployment {_WEBHOOK_DEPLOYMENT}; its layout "
            "changed upstream, so infra/cert_manager.py must be reviewed before this release is used"
        )
    containers = webhook["spec"]["template"]["spec"].get("containers") or []
    args = [str(a) for c in containers for a in (c.get("args") or [])]
    if f"--secure-port={port}" not in args:
        shown = [a for a in args if a.startswith("--secure-port")] or ["no --secure-port"]
        raise OperationFailed(
            f"cert-manager {version}: its webhook listens with {', '.join(shown)}, but the private control "
            f"plane may reach the nodes on tcp:{port} only (infra/gke.py); set CERT_MANAGER_WEBHOOK_PORT "
            "in infra/cert_manager.py to the release's port after review"
        )
    return docs


class _CertManagerManifestProvider(VerifiedManifestProvider):
    """Downloads and verifies cert-manager.yaml, and checks its webhook port."""

    component: ClassVar[str] = "cert-manager"
    pinned_in: ClassVar[str] = _PINNED_IN

    def narrow(self, text: str, props: dict[str, Any]) -> list[dict[str, Any]]:
        docs = super().narrow(text, props)
        return webhook_port_checked(docs, port=int(props["webhook_port"]), version=props["version"])


@dataclass(frozen=True)
class CertManagerArgs:
    """Inputs of :class:`CertManager`."""

    provider: k8s.Provider
    depends_on: list[pulumi.Resource]
    """What must exist first (the node pools its pods run on)."""
    release: CertManagerRelease = CERT_MANAGER_RELEASE


class CertManager(pulumi.ComponentResource):
    """cert-manager at a pinned, verified release (its own `cert-manager` namespace, from the manifest)."""

    manifest: VerifiedManifest
    group: k8s.yaml.v2.ConfigGroup

    def __init__(self, name: str, args: CertManagerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("idf:certmanager:CertManager", name, None, opts)
        release = args.release
        self.manifest = VerifiedManifest(
            f"{name}-manifest",
            _CertManagerManifestProvider(),
            url=release.url,
            sha256=release.sha256,
            version=release.version,
            extra={"webhook_port": CERT_MANAGER_WEBHOOK_PORT},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.group = k8s.yaml.v2.ConfigGroup(
            f"{name}-release",
            yaml=self.manifest.yaml,
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=[self.manifest, *args.depends_on]
            ),
        )
        self.register_outputs({"version": release.version, "namespace": CERT_MANAGER_NAMESPACE})
