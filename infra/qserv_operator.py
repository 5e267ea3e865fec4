"""qserv-operator, installed by the program before the `Qserv` custom resource that needs it.

Nothing of upstream is in this repository: the program names one qserv-operator release
(:data:`OPERATOR_RELEASE`: the git tag, the path of its published all-in-one manifest, and the
SHA-256 of that file), and at deploy time a Pulumi dynamic resource
(:class:`VerifiedOperatorManifest`) downloads the file from its published URL, checks the digest
*before* anything is applied (a mismatch fails the resource, so the Kubernetes objects that
depend on it are never sent), and hands the verified text, narrowed to least privilege
(:func:`least_privilege`), to a `kubernetes:yaml/v2:ConfigGroup`, which applies the CRD first
and the rest after it. The `Qserv` resource (:mod:`infra.kubernetes`) depends on that group.

Why a downloaded, verified file and not a Helm chart: qserv-operator publishes no chart; its
install documentation applies `manifests/operator.yaml` (cluster scope) or
`manifests/operator-ns-scoped.yaml` (namespace scope) from a release tag
(lsst/qserv-operator doc/install/main.rst). A tag can be moved, so the tag alone pins nothing:
the digest does. `ConfigGroup(files=[url])` would fetch the URL itself without any check.

Least privilege: we take the namespace-scoped manifest (its manager role is granted through a
RoleBinding, never a ClusterRoleBinding), run the operator in its own namespace
(:data:`OPERATOR_NAMESPACE`) and let it watch the Qserv namespace only (``WATCH_NAMESPACE``), with
its manager role bound in that namespace alone. Its only cluster-scoped objects are the CRD and
the two admission webhooks, which the ConfigGroup (Pulumi), not the operator, creates.

The download and digest check are :mod:`infra.verified_manifest`'s (shared with cert-manager); this
module adds the release pin and the least-privilege narrowing.

What the offline plan cannot check (no network at test time): the content of the real file.
Tests serve a small manifest of the same shape from a local HTTP server; the first real
`pulumi up` is the first time the published file is parsed by this code. The manifest's
webhook certificate is a cert-manager `Certificate`/`Issuer`: the group is applied after cert-manager
(:mod:`infra.cert_manager`, ``QservOperatorArgs.cert_manager``), and the private GKE control plane
reaches the webhook port (:data:`OPERATOR_WEBHOOK_PORT`) of the nodes through the firewall rule of
:mod:`infra.gke`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
import pulumi_kubernetes as k8s
import yaml

from idf_core.errors import OperationFailed
from idf_core.facts import QSERV_OPERATOR_NAMESPACE
from infra import verified_manifest
from infra.verified_manifest import (
    FETCH_TIMEOUT_S,
    ManifestDigestMismatch,
    VerifiedManifest,
    VerifiedManifestProvider,
    http_get,
)

__all__ = [
    "OPERATOR_NAMESPACE",
    "OPERATOR_RELEASE",
    "OPERATOR_WEBHOOK_PORT",
    "ManifestDigestMismatch",
    "OperatorRelease",
    "QservOperator",
    "QservOperatorArgs",
    "VerifiedOperatorManifest",
    "fetch_verified",
    "least_privilege",
]

OPERATOR_NAMESPACE = QSERV_OPERATOR_NAMESPACE
# The port the operator's admission webhook server listens on (controller-runtime's default, the
# `webhook-server` containerPort of upstream's manager): the private control plane must reach it
# on the nodes (infra/gke.py opens it from the control-plane range only).
OPERATOR_WEBHOOK_PORT = 9443
# Upstream's placeholder for the namespace in operator-ns-scoped.yaml (its docs `sed` it away).
_NAMESPACE_PLACEHOLDER = "<NAMESPACE>"
_DEPLOYMENT = "qserv-operator-controller-manager"
_MANAGER_ROLE_BINDING = "qserv-operator-manager-rolebinding"
_PINNED_IN = "infra/qserv_operator.py OPERATOR_RELEASE"


@dataclass(frozen=True)
class OperatorRelease:
    """One qserv-operator release: where its manifest is published and what it must hash to."""

    version: str
    """The release tag (lsst/qserv-operator tags, `YYYY.M.D-rcN`)."""
    manifest_path: str
    """Path of the all-in-one manifest inside the tag."""
    sha256: str
    """Hex SHA-256 of the file as published (computed from the tag's blob)."""

    @property
    def url(self) -> str:
        """The published manifest URL (what upstream's install documentation applies)."""
        return f"https://raw.githubusercontent.com/lsst/qserv-operator/{self.version}/{self.manifest_path}"


# The newest release tag of lsst/qserv-operator (2024-05-16), whose operator image is
# qserv/qserv-operator:2024.5.1-rc7. Digest: `git show 2024.5.1-rc7:manifests/operator-ns-scoped.yaml
# | sha256sum` in a clone of github.com/lsst/qserv-operator (raw.githubusercontent.com serves the
# blob's bytes unchanged). Bump version and digest together, after reading the upstream diff.
OPERATOR_RELEASE = OperatorRelease(
    version="2024.5.1-rc7",
    manifest_path="manifests/operator-ns-scoped.yaml",
    sha256="3195cd700f0749907ab0db630a611826c05be161c7a282dbd6d5d681d4698c78",  # pragma: allowlist secret
)


def fetch_verified(
    url: str,
    sha256: str,
    *,
    version: str,
    timeout_s: float = FETCH_TIMEOUT_S,
    get: Callable[[str, float], bytes] = http_get,
) -> str:
    """Download the operator manifest at ``url`` and return its text only if its SHA-256 is ``sha256``
    (:func:`infra.verified_manifest.fetch_verified`, naming this module's pin)."""
    return verified_manifest.fetch_verified(
        url,
        sha256,
        component="qserv-operator",
        version=version,
        pinned_in=_PINNED_IN,
        timeout_s=timeout_s,
        get=get,
    )


def _named(docs: list[dict[str, Any]], kind: str, name: str, version: str) -> dict[str, Any]:
    for doc in docs:
        if doc.get("kind") == kind and (doc.get("metadata") or {}).get("name") == name:
            return doc
    raise OperationFailed(
        f"qserv-operator {version}: the manifest has no {kind} {name}; its layout changed upstream, "
        "so infra/qserv_operator.py least_privilege() must be reviewed before this release is used"
    )


def least_privilege(
    text: str, *, operator_namespace: str, watch_namespace: str, version: str
) -> list[dict[str, Any]]:
    """The verified manifest's objects, narrowed: the operator in ``operator_namespace``, watching
    ``watch_namespace`` only, its manager role bound there only; no cluster-wide role grant.

    The Namespace object of the manifest is dropped: the program declares the operator's namespace
    itself (labels, pod security) and orders the group after it.
    """
    docs = [d for d in yaml.safe_load_all(text.replace(_NAMESPACE_PLACEHOLDER, operator_namespace)) if d]
    deployment = _named(docs, "Deployment", _DEPLOYMENT, version)
    binding = _named(docs, "RoleBinding", _MANAGER_ROLE_BINDING, version)
    containers = deployment["spec"]["template"]["spec"]["containers"]
    manager = next((c for c in containers if c.get("name") == "manager"), None)
    env = (manager or {}).get("env") or []
    watch = next((e for e in env if e.get("name") == "WATCH_NAMESPACE"), None)
    if watch is None:
        raise OperationFailed(
            f"qserv-operator {version}: the manager container has no WATCH_NAMESPACE; the operator "
            "would watch every namespace. Review infra/qserv_operator.py before using this release."
        )
    watch.pop("valueFrom", None)
    watch["value"] = watch_namespace
    binding["metadata"]["namespace"] = watch_namespace
    cluster_grants = [d["metadata"]["name"] for d in docs if d.get("kind") == "ClusterRoleBinding"]
    if cluster_grants:
        raise OperationFailed(
            f"qserv-operator {version}: the manifest grants cluster-wide roles "
            f"({', '.join(cluster_grants)}); the namespace-scoped install must not. Review the release "
            "before using it."
        )
    return [d for d in docs if d.get("kind") != "Namespace"]


class _VerifiedManifestProvider(VerifiedManifestProvider):
    """Downloads, verifies and narrows the manifest when the resource is created or its pin changes."""

    component: ClassVar[str] = "qserv-operator"
    pinned_in: ClassVar[str] = _PINNED_IN

    def narrow(self, text: str, props: dict[str, Any]) -> list[dict[str, Any]]:
        return least_privilege(
            text,
            operator_namespace=props["operator_namespace"],
            watch_namespace=props["watch_namespace"],
            version=props["version"],
        )


class VerifiedOperatorManifest(VerifiedManifest):
    """The operator manifest of one release, downloaded and digest-checked at deploy time."""

    def __init__(
        self,
        name: str,
        release: OperatorRelease,
        *,
        operator_namespace: str,
        watch_namespace: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            name,
            _VerifiedManifestProvider(),
            url=release.url,
            sha256=release.sha256,
            version=release.version,
            extra={"operator_namespace": operator_namespace, "watch_namespace": watch_namespace},
            opts=opts,
        )


@dataclass(frozen=True)
class QservOperatorArgs:
    """Inputs of :class:`QservOperator`."""

    provider: k8s.Provider
    watch_namespace: str
    """The namespace of the `Qserv` resource (the only one the operator manages)."""
    labels: dict[str, str]
    """Kubernetes labels of the objects the program writes itself."""
    depends_on: list[pulumi.Resource]
    """What must exist first (the node pools, the Qserv namespace)."""
    cert_manager: pulumi.Resource
    """cert-manager's applied release (:class:`infra.cert_manager.CertManager`): the manifest's webhook
    certificate is a cert-manager `Certificate`/`Issuer`, so the group is applied after it."""
    release: OperatorRelease = OPERATOR_RELEASE


class QservOperator(pulumi.ComponentResource):
    """qserv-operator at a pinned, verified release, in its own namespace, watching one namespace."""

    namespace: k8s.core.v1.Namespace
    manifest: VerifiedOperatorManifest
    group: k8s.yaml.v2.ConfigGroup

    def __init__(
        self, name: str, args: QservOperatorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("idf:qserv:QservOperator", name, None, opts)
        release = args.release
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=OPERATOR_NAMESPACE,
                labels={
                    **args.labels,
                    "app.kubernetes.io/name": "qserv-operator",
                    "app.kubernetes.io/version": release.version,
                    # Upstream's pods run as non-root without privileges: baseline is enforced,
                    # restricted reported, so a release that regresses shows in the audit log.
                    "pod-security.kubernetes.io/enforce": "baseline",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=args.depends_on),
        )
        self.manifest = VerifiedOperatorManifest(
            f"{name}-manifest",
            release,
            operator_namespace=OPERATOR_NAMESPACE,
            watch_namespace=args.watch_namespace,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.group = k8s.yaml.v2.ConfigGroup(
            f"{name}-release",
            yaml=self.manifest.yaml,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                depends_on=[self.namespace, self.manifest, args.cert_manager, *args.depends_on],
            ),
        )
        self.register_outputs({"version": release.version, "namespace": OPERATOR_NAMESPACE})
