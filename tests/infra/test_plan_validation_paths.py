"""The fast paths of `idf plan`: cached Kubernetes validators, the background validator process,
and the paused garbage collector. Each must give exactly what the slow path gave."""

from __future__ import annotations

import copy
import functools
import gc
from typing import Any

import kubernetes_validate
import pytest

from idf_ops.plan.engine import collector_paused, run_offline
from idf_ops.plan.manifests import (
    KUBERNETES_VERSION,
    BackgroundValidator,
    ManifestProblem,
    manifests_of,
    validate_manifests,
)
from infra.custom_resources import CUSTOM_RESOURCE_MODELS
from support.plans import OfflinePlans


def _by_kubernetes_validate(manifest: dict[str, Any]) -> str | None:
    """What `kubernetes_validate.validate(..., strict=True)` says: None, or its error as text."""
    try:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return f"{'.'.join(str(p) for p in exc.path)}: {exc.message}"
    except kubernetes_validate.SchemaNotFoundError:
        return "no schema"
    return None


def _by_idf(manifest: dict[str, Any]) -> str | None:
    problems = validate_manifests([manifest])
    if not problems:
        return None
    (problem,) = problems
    if problem.message == "no Kubernetes schema for this kind/apiVersion":
        return "no schema"
    return f"{problem.path}: {problem.message}"


def _mutations(manifest: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The manifest with one field renamed, retyped or removed, for every field in it."""
    out = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
        for key, child in list(items):
            where = (*path, key)
            for how in ("renamed", "retyped", "removed"):
                if how == "renamed" and not isinstance(node, dict):
                    continue
                if where[:1] in (("kind",), ("apiVersion",)):
                    continue  # the schema lookup itself: tested below
                changed = copy.deepcopy(manifest)
                parent = changed
                for step in path:
                    parent = parent[step]
                if how == "renamed":
                    parent[f"{key}x"] = parent.pop(key)
                elif how == "retyped":
                    parent[key] = 7 if isinstance(child, str) else "seven"
                else:
                    del parent[key]
                out.append((f"{'.'.join(map(str, where))} {how}", changed))
            walk(child, where)

    walk(manifest, ())
    return out


def test_cached_validators_say_what_kubernetes_validate_says(
    plans: OfflinePlans, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reference re-reads 1.4 MB of schemas per call: cache its file reads (a pure function of
    # the packaged files) and compare every 5th mutation, to keep this to a second or two.
    reference = kubernetes_validate.utils
    monkeypatch.setattr(reference, "schema_contents", functools.cache(reference.schema_contents))
    # One manifest of each kind the stacks declare (the Qserv CR has its own schema, tested apart).
    standard = {
        (m["kind"], m["apiVersion"]): m
        for stack in ("dp01", "qserv-scale75")
        for m in manifests_of(plans[stack])
        # The Qserv CR and our own custom resources (Argo CD Application, ManagedCertificate,
        # BackendConfig) have their own schemas or typed models, tested apart.
        if m["kind"] != "Qserv" and (m["apiVersion"], m["kind"]) not in CUSTOM_RESOURCE_MODELS
    }
    assert {"Namespace", "ResourceQuota", "ServiceAccount", "DaemonSet"} <= {kind for kind, _ in standard}
    failing = 0
    for manifest in standard.values():
        assert _by_idf(manifest) is None
        for what, changed in _mutations(manifest)[::5]:
            expected = _by_kubernetes_validate(changed)
            failing += expected is not None
            assert _by_idf(changed) == expected, f"{manifest['kind']} {what}"
    assert failing > 40  # the mutations do break manifests: the comparison is not of empty lists


def test_unknown_kinds_are_a_problem_not_a_crash() -> None:
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "qserv"}}
    for changed in (
        {**namespace, "kind": "Namespase"},
        {**namespace, "apiVersion": "example.org/v9"},
        {**namespace, "kind": "../../Namespace"},
        {k: v for k, v in namespace.items() if k != "apiVersion"},
    ):
        (problem,) = validate_manifests([changed])
        assert problem.message == "no Kubernetes schema for this kind/apiVersion", changed


def test_background_validator_finds_what_validation_in_process_finds(plans: OfflinePlans) -> None:
    manifests = manifests_of(plans["dp01"])
    broken = copy.deepcopy(manifests)
    quota = next(m for m in broken if m["kind"] == "ResourceQuota")
    quota["spec"]["hardd"] = quota["spec"].pop("hard")
    qserv = next(m for m in broken if m["kind"] == "Qserv")
    qserv["spec"]["tolerations"][0]["effect"] = 7
    with BackgroundValidator() as validator:
        valid, invalid = validator.submit(manifests), validator.submit(broken)
        assert valid.result(timeout=120) == []
        problems: list[ManifestProblem] = invalid.result(timeout=120)
    assert problems == validate_manifests(broken)
    assert any("hardd" in str(p) for p in problems) and any("tolerations" in str(p) for p in problems)


def test_collector_is_paused_inside_and_restored_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # nested: the outer block still holds it
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_then_freeze_hides_what_is_alive_from_the_collector() -> None:
    gc.unfreeze()
    try:
        with collector_paused(then_freeze=True):
            made = [[index] for index in range(1000)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= len(made)
    finally:
        gc.unfreeze()


def test_planning_leaves_the_collector_on() -> None:
    assert gc.isenabled()
    run_offline("dp01")
    assert gc.isenabled()
