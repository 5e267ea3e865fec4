"""Render the Kubernetes objects of an offline plan to YAML and validate them offline.

Standard kinds (Namespace, ResourceQuota, ServiceAccount, StorageClass, ...) are validated against
the strict OpenAPI schemas of :data:`KUBERNETES_VERSION` that kubernetes-validate ships, as
`kubernetes_validate.validate(..., strict=True)` does, with each kind's validator built once per
process (the shared definitions are 1.4 MB of JSON).

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

The other custom resources of ours (Argo CD's Application, GKE's ManagedCertificate and
BackendConfig) have no schema in kubernetes-validate either: they are validated against our
typed pydantic models of the fields we set (:data:`infra.custom_resources.CUSTOM_RESOURCE_MODELS`),
the same models the components build them from. Helm releases are not API objects and are left
out (the policy pack checks their charts are pinned).

What is NOT checked offline: that the operator's installed CRD version accepts the object
(`kubectl apply --dry-run=server` against the real cluster does; see runbooks/pulumi.md).
"""

# jsonschema loads in the validating process only (the planning process never pays for it).
# ruff: noqa: PLC0415

from __future__ import annotations

import functools
import importlib.resources
import json
import multiprocessing
import re
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import yaml

from idf_ops.plan.engine import OfflinePlan

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from referencing import Registry

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
# Type tokens of pulumi-kubernetes Helm releases (kubernetes:helm.sh/v3:Release).
HELM_RELEASE_PREFIX = "kubernetes:helm.sh/"

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
        # A Helm release is not an object of the API server (Helm renders the chart at deploy
        # time); the policy pack checks that its chart is pinned.
        helm = r.type.startswith(HELM_RELEASE_PREFIX)
        if r.custom and r.type.startswith("kubernetes:") and not helm:
            out.append(_manifest(r.inputs))
    return out


def _kn(manifest: dict[str, Any]) -> str:
    meta = manifest.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    ns = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{manifest.get('kind')} {ns}{meta.get('name')}"


# The strict OpenAPI schemas kubernetes-validate ships, one file per kind and group-version
# (`rbac.authorization.k8s.io/v1` Role -> `role-rbac-v1.json`) plus the shared `_definitions.json`.
_SCHEMA_DIR = f"kubernetes-json-schema/v{KUBERNETES_VERSION}-local-strict"


@functools.cache
def _definitions() -> Registry[Any]:
    from referencing import Registry, Resource

    # 1.4 MB of JSON: parsed once per process, not once per object.
    return Resource.from_contents(_schema_file("_definitions.json")) @ Registry()


def _schema_file(name: str) -> Any:
    schemas = importlib.resources.files("kubernetes_validate").joinpath(_SCHEMA_DIR)
    return json.loads(schemas.joinpath(name).read_text())


@functools.cache
def _standard_validator(kind: str, api_version: str) -> Draft202012Validator | None:
    """The strict validator of one kind (None when kubernetes-validate has no schema for it)."""
    from jsonschema import Draft202012Validator
    from referencing import Resource

    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    name = f"{kind.lower()}-{group_version}.json"
    if not re.fullmatch(r"[a-z0-9]+-[a-z0-9-]+\.json", name):
        return None
    try:
        schema = _schema_file(name)
    except FileNotFoundError:
        return None
    return Draft202012Validator(schema, registry=Resource.from_contents(schema) @ _definitions())


def _validate_standard(manifest: dict[str, Any]) -> list[ManifestProblem]:
    validator = _standard_validator(str(manifest.get("kind")), str(manifest.get("apiVersion")))
    if validator is None:
        return [ManifestProblem(_kn(manifest), "", "no Kubernetes schema for this kind/apiVersion")]
    # The first error, as kubernetes_validate.validate reports it.
    for error in validator.iter_errors(manifest):
        return [ManifestProblem(_kn(manifest), ".".join(str(p) for p in error.path), error.message)]
    return []


@functools.cache
def _qserv_validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(QSERV_CR_SCHEMA)


def _validate_qserv(manifest: dict[str, Any]) -> list[ManifestProblem]:
    problems = [
        ManifestProblem(_kn(manifest), ".".join(str(p) for p in err.absolute_path), err.message)
        for err in _qserv_validator().iter_errors(manifest)
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


def _validate_custom(manifest: dict[str, Any]) -> list[ManifestProblem] | None:
    """Problems of a custom resource of ours against its typed model (infra.custom_resources), or
    None when the kind is not one of them."""
    from pydantic import ValidationError

    from infra.custom_resources import CUSTOM_RESOURCE_MODELS

    model = CUSTOM_RESOURCE_MODELS.get((str(manifest.get("apiVersion")), str(manifest.get("kind"))))
    if model is None:
        return None
    try:
        model.model_validate(manifest)
    except ValidationError as exc:
        return [
            ManifestProblem(_kn(manifest), ".".join(str(p) for p in error["loc"]), error["msg"])
            for error in exc.errors()
        ]
    return []


def validate_manifests(manifests: list[dict[str, Any]]) -> list[ManifestProblem]:
    """All problems of all manifests (empty list: valid)."""
    problems: list[ManifestProblem] = []
    for manifest in manifests:
        custom = _validate_custom(manifest)
        if custom is not None:
            problems += custom
        elif manifest.get("kind") == "Qserv":
            problems += _validate_qserv(manifest)
        else:
            problems += _validate_standard(manifest)
    return problems


def write_manifests(manifests: list[dict[str, Any]], path: Path) -> Path:
    """Write the manifests as one multi-document YAML file."""
    path.write_text(yaml.safe_dump_all(manifests, sort_keys=False))
    return path


def _warm_up() -> None:
    """Load the validators' libraries and the shared definitions, once per worker.

    jsonschema imports rfc3987-syntax when it is installed (it is: jupyter-events asks for
    `jsonschema[format-nongpl]`) to check the `iri` format, and that builds a Lark grammar: about
    a second of CPU at import. Formats are annotations only in these validators (no format
    checker), so the worker, a process of its own, does without it; validation results are the
    same (tests/infra/test_plan_validation_paths.py compares them).
    """
    # A None entry in sys.modules makes `import rfc3987_syntax` raise ImportError, which jsonschema expects.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    _definitions()


class BackgroundValidator:
    """Validate manifests in a second process while the stacks plan.

    The worker starts, loads jsonschema and the Kubernetes definitions as soon as the validator
    is created, so on a 2-core machine that overlaps with importing Pulumi's providers; each stack's
    manifests are then validated while the next stack plans. Use as a context manager.
    """

    def __init__(self) -> None:
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        # Processes start on the first submit: warm up now rather than after the first stack.
        self._pool.submit(_warm_up)

    def submit(self, manifests: list[dict[str, Any]]) -> Future[list[ManifestProblem]]:
        """Queue one stack's manifests; the future yields its problems."""
        return self._pool.submit(validate_manifests, manifests)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._pool.shutdown(wait=exc_type is None, cancel_futures=exc_type is not None)
