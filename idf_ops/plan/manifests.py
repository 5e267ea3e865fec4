"""Render the Kubernetes objects of an offline plan to YAML and validate them offline.

Standard kinds (Namespace, ResourceQuota, ServiceAccount, StorageClass, ...) are validated with
kubernetes-validate in strict mode against :data:`KUBERNETES_VERSION`'s OpenAPI schemas.

The Qserv custom resource has no schema in kubernetes-validate (the CRD ships with
qserv-operator, which is not installed here), so it is checked in two parts:

1. :data:`QSERV_CR_SCHEMA`, our JSON Schema of the fields this program sets, with the names and
   places of qserv-operator's v1beta1 CRD (`spec.image` and `spec.dbImage` required, tolerations
   only at `spec.tolerations`, per-role `affinity`/`replicas`/`storage`/`storageClassName`; read
   from lsst/qserv-operator config/crd/bases/qserv.lsst.org_qservs.yaml, commit 5592088, and
   api/v1beta1/qserv_types.go); `additionalProperties: false`, so a misspelt or misplaced field
   fails here instead of being pruned silently by the API server;
2. the pod-level fragments it carries (each role's `affinity`, the spec's `tolerations`) are
   wrapped into a synthetic Pod and validated with kubernetes-validate strict.

What is NOT checked offline: that the operator's installed CRD version accepts the object
(`kubectl apply --dry-run=server` against the real cluster does; see runbooks/pulumi.md).
"""

# kubernetes-validate and jsonschema load in the validating process only (seconds of import).
# ruff: noqa: PLC0415

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from idf_ops.plan.engine import OfflinePlan

__all__ = [
    "KUBERNETES_VERSION",
    "QSERV_CR_SCHEMA",
    "BackgroundValidator",
    "ManifestProblem",
    "manifests_of",
    "validate_manifests",
    "write_manifests",
]

KUBERNETES_VERSION = "1.33.0"

_QUANTITY = {"type": "string", "pattern": r"^[0-9]+(Gi|Ti)$"}
_ROLE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["replicas", "storage", "storageClassName"],
    "properties": {
        "replicas": {"type": "integer", "minimum": 1},
        "storage": _QUANTITY,
        "storageClassName": {"type": "string", "minLength": 1},
        "affinity": {"type": "object"},
    },
}
QSERV_CR_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "qserv.lsst.org/v1beta1"},
        "kind": {"const": "Qserv"},
        "metadata": {
            "type": "object",
            "required": ["name", "namespace"],
            "properties": {
                "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
                "namespace": {"type": "string"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["image", "dbImage", "czar", "worker", "storageClassName"],
            "properties": {
                "image": {"type": "string", "minLength": 1},
                "dbImage": {"type": "string", "minLength": 1},
                "storageClassName": {"type": "string"},
                "tolerations": {"type": "array", "items": {"type": "object"}},
                "czar": _ROLE,
                "worker": _ROLE,
                "queryService": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "type": {"enum": ["ClusterIP", "NodePort", "LoadBalancer"]},
                        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
                        "loadBalancerIP": {"type": "string"},
                    },
                },
            },
        },
    },
}


@dataclass(frozen=True)
class ManifestProblem:
    """One validation failure."""

    resource: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.resource}: {self.path or '<root>'}: {self.message}"


def _manifest(inputs: dict[str, Any]) -> dict[str, Any]:
    # Pulumi-only keys never reach the API server.
    return {k: v for k, v in inputs.items() if not k.startswith("__")}


def manifests_of(plan: OfflinePlan) -> list[dict[str, Any]]:
    """The plan's Kubernetes objects, as the API server would receive them."""
    out = []
    for r in plan.resources:
        if r.custom and r.type.startswith("kubernetes:") and not r.type.startswith("pulumi:providers"):
            out.append(_manifest(r.inputs))
    return out


def _kn(manifest: dict[str, Any]) -> str:
    meta = manifest.get("metadata") or {}
    ns = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{manifest.get('kind')} {ns}{meta.get('name')}"


def _validate_standard(manifest: dict[str, Any]) -> list[ManifestProblem]:
    import kubernetes_validate

    try:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path)
        return [ManifestProblem(_kn(manifest), path, exc.message)]
    except kubernetes_validate.SchemaNotFoundError:
        return [ManifestProblem(_kn(manifest), "", "no Kubernetes schema for this kind/apiVersion")]
    return []


def _validate_qserv(manifest: dict[str, Any]) -> list[ManifestProblem]:
    import jsonschema

    problems = [
        ManifestProblem(_kn(manifest), ".".join(str(p) for p in err.absolute_path), err.message)
        for err in jsonschema.Draft202012Validator(QSERV_CR_SCHEMA).iter_errors(manifest)
    ]
    spec = manifest.get("spec") or {}
    for role in ("czar", "worker"):
        fragment = spec.get(role) or {}
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"qserv-{role}-placement-check"},
            "spec": {
                "containers": [{"name": "check", "image": "busybox"}],
                "affinity": fragment.get("affinity", {}),
                # qserv-operator applies spec.tolerations to every Qserv pod
                "tolerations": spec.get("tolerations", []),
            },
        }
        problems += [
            ManifestProblem(_kn(manifest), f"spec.{role}.{p.path}", p.message)
            for p in _validate_standard(pod)
        ]
    return problems


def validate_manifests(manifests: list[dict[str, Any]]) -> list[ManifestProblem]:
    """All problems of all manifests (empty list: valid)."""
    problems: list[ManifestProblem] = []
    for manifest in manifests:
        if manifest.get("kind") == "Qserv":
            problems += _validate_qserv(manifest)
        else:
            problems += _validate_standard(manifest)
    return problems


def write_manifests(manifests: list[dict[str, Any]], path: Path) -> Path:
    """Write the manifests as one multi-document YAML file."""
    path.write_text(yaml.safe_dump_all(manifests, sort_keys=False))
    return path


def _warm_up() -> None:
    import jsonschema  # noqa: F401 -- loaded once per worker
    import kubernetes_validate  # noqa: F401


class BackgroundValidator:
    """Validate manifests in a second process while the next stack plans.

    Importing kubernetes-validate and its schemas costs seconds of CPU; on a 2-core machine it
    overlaps with planning instead of adding to it. Use as a context manager.
    """

    def __init__(self) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_warm_up
        )

    def submit(self, manifests: list[dict[str, Any]]) -> Future[list[ManifestProblem]]:
        """Queue one stack's manifests; the future yields its problems."""
        return self._pool.submit(validate_manifests, manifests)

    def __enter__(self) -> BackgroundValidator:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._pool.shutdown(wait=exc_type is None, cancel_futures=exc_type is not None)
