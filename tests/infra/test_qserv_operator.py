"""qserv-operator before the `Qserv` resource: the pin, the ordering, the digest check, least privilege.

No network to GitHub here: the manifest the tests download is a small one of the published file's
shape, written by the test and served from 127.0.0.1 (pytest-httpserver). The first time the real
file is parsed is the first real `pulumi up` (infra/qserv_operator.py says so).
"""

from __future__ import annotations

import hashlib
from typing import Any

import kubernetes_validate
import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from pytest_httpserver import HTTPServer

from idf_core.errors import OperationFailed
from idf_ops.plan.manifests import KUBERNETES_VERSION
from infra.qserv_operator import (
    OPERATOR_NAMESPACE,
    OPERATOR_RELEASE,
    ManifestDigestMismatch,
    OperatorRelease,
    QservOperator,
    QservOperatorArgs,
    _VerifiedManifestProvider,
    fetch_verified,
    least_privilege,
)
from support.mocks import use_recording_monitor
from support.plans import OfflinePlans
from support.stacks import STACKS

QSERV_CR = "kubernetes:qserv.lsst.org/v1beta1:Qserv"
GROUP = "kubernetes:yaml/v2:ConfigGroup"
DYNAMIC = "pulumi-python:dynamic:Resource"
MANIFEST_PATH = f"/lsst/qserv-operator/{OPERATOR_RELEASE.version}/manifests/operator-ns-scoped.yaml"


def _manifest_text(*, cluster_binding: bool = False, watch_env: bool = True) -> str:
    """A manifest shaped like upstream's operator-ns-scoped.yaml (our own few objects, not theirs)."""
    ns = "<NAMESPACE>"
    sa = {"kind": "ServiceAccount", "name": "qserv-operator-controller-manager", "namespace": ns}
    env = [{"name": "WATCH_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}]
    docs: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa["name"], "namespace": ns}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "qserv-operator-manager-role"},
            "rules": [
                {"apiGroups": ["apps"], "resources": ["statefulsets"], "verbs": ["get", "list", "watch"]}
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "qserv-operator-manager-rolebinding", "namespace": ns},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "qserv-operator-manager-role",
            },
            "subjects": [sa],
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "qserv-operator-controller-manager", "namespace": ns},
            "spec": {
                "selector": {"matchLabels": {"control-plane": "controller-manager"}},
                "template": {
                    "metadata": {"labels": {"control-plane": "controller-manager"}},
                    "spec": {
                        "serviceAccountName": sa["name"],
                        "containers": [
                            {
                                "name": "manager",
                                "image": "qserv/qserv-operator:2024.5.1-rc7",
                                "env": env if watch_env else [],
                            }
                        ],
                    },
                },
            },
        },
    ]
    if cluster_binding:
        docs.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": "qserv-operator-manager-rolebinding"},
                "roleRef": docs[3]["roleRef"],
                "subjects": [sa],
            }
        )
    return yaml.safe_dump_all(docs)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- the pin --------------------------------------------------------------------------------


def test_release_is_a_tag_with_a_digest() -> None:
    assert OPERATOR_RELEASE.url == (
        "https://raw.githubusercontent.com/lsst/qserv-operator/2024.5.1-rc7/manifests/operator-ns-scoped.yaml"
    )
    assert len(OPERATOR_RELEASE.sha256) == 64
    int(OPERATOR_RELEASE.sha256, 16)  # hex


# --- ordering in the plan ---------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_qserv_depends_on_the_operator_release(plans: OfflinePlans, stack: str) -> None:
    plan = plans[stack]
    crs = plan.of_type(QSERV_CR)
    assert len(crs) == 1, "every stack serves Qserv (the stack outputs contract)"
    groups = [g for g in plan.of_type(GROUP) if g.name.endswith("-qserv-operator-release")]
    assert len(groups) == 1, "one operator release per Qserv stack"
    group, cr = groups[0], crs[0]
    assert group.urn in cr.dependencies, "the Qserv CR must wait for qserv-operator and its CRD"
    manifest = next(r for r in plan.of_type(DYNAMIC) if r.inputs.get("url") == OPERATOR_RELEASE.url)
    assert manifest.inputs["sha256"] == OPERATOR_RELEASE.sha256
    assert manifest.inputs["watch_namespace"] == cr.inputs["metadata"]["namespace"]
    namespace = next(
        r
        for r in plan.of_type("kubernetes:core/v1:Namespace")
        if r.inputs["metadata"]["name"] == OPERATOR_NAMESPACE
    )
    assert {manifest.urn, namespace.urn} <= set(group.dependencies), "applied only after the digest check"


@pytest.fixture
def recorded() -> Any:
    """A mock engine that records registrations with their dependencies (the offline planner's)."""
    return use_recording_monitor("dev")


def test_component_orders_group_after_its_verified_manifest(recorded: Any) -> None:
    @pulumi.runtime.test
    def program() -> Any:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        cert_manager = k8s.core.v1.Namespace("t-cert-manager", opts=pulumi.ResourceOptions(provider=provider))
        operator = QservOperator(
            "t-op",
            QservOperatorArgs(
                provider=provider,
                watch_namespace="qserv",
                labels={},
                depends_on=[],
                cert_manager=cert_manager,
            ),
        )
        cr = k8s.apiextensions.CustomResource(
            "t-qserv",
            api_version="qserv.lsst.org/v1beta1",
            kind="Qserv",
            metadata={"name": "qserv", "namespace": "qserv"},
            opts=pulumi.ResourceOptions(provider=provider, depends_on=[operator.group]),
        )
        return cr.urn

    program()
    by_name = {r.name: r for r in recorded.recorded}
    assert by_name["t-op-release"].type == GROUP
    assert by_name["t-op-manifest"].urn in by_name["t-op-release"].dependencies
    assert by_name["t-op-ns"].urn in by_name["t-op-release"].dependencies
    assert by_name["t-cert-manager"].urn in by_name["t-op-release"].dependencies
    assert by_name["t-op-release"].urn in by_name["t-qserv"].dependencies


# --- the digest check (deploy time), against a local server -----------------------------------


def test_verified_download_passes(httpserver: HTTPServer) -> None:
    text = _manifest_text()
    httpserver.expect_request(MANIFEST_PATH).respond_with_data(text)
    assert fetch_verified(httpserver.url_for(MANIFEST_PATH), _sha256(text), version="t") == text


def test_digest_mismatch_fails_clearly(httpserver: HTTPServer) -> None:
    text = _manifest_text()
    httpserver.expect_request(MANIFEST_PATH).respond_with_data(text + "# changed upstream\n")
    with pytest.raises(ManifestDigestMismatch) as caught:
        fetch_verified(httpserver.url_for(MANIFEST_PATH), _sha256(text), version="2024.5.1-rc7")
    message = str(caught.value)
    assert f"has sha256 {_sha256(text + '# changed upstream' + chr(10))}" in message
    assert f"pins {_sha256(text)}" in message
    assert "nothing was applied" in message and "OPERATOR_RELEASE" in message


def test_the_provider_refuses_a_mismatch_before_producing_yaml(httpserver: HTTPServer) -> None:
    text = _manifest_text()
    httpserver.expect_request(MANIFEST_PATH).respond_with_data(text)
    props = {
        "url": httpserver.url_for(MANIFEST_PATH),
        "sha256": _sha256(text),
        "version": "2024.5.1-rc7",
        "operator_namespace": OPERATOR_NAMESPACE,
        "watch_namespace": "qserv",
        "yaml": None,
    }
    created = _VerifiedManifestProvider().create(props)
    assert created.outs is not None and "WATCH_NAMESPACE" in created.outs["yaml"]
    with pytest.raises(ManifestDigestMismatch):
        _VerifiedManifestProvider().create({**props, "sha256": "f" * 64})


def test_an_unreachable_url_is_one_operation_failed() -> None:
    release = OperatorRelease(version="t", manifest_path="m.yaml", sha256="0" * 64)
    with pytest.raises(OperationFailed, match="cannot download"):
        fetch_verified("http://127.0.0.1:9/m.yaml", release.sha256, version="t", timeout_s=2)


def test_plain_http_elsewhere_is_refused() -> None:
    with pytest.raises(OperationFailed, match="HTTPS only"):
        fetch_verified("http://example.org/m.yaml", "0" * 64, version="t")


# --- least privilege --------------------------------------------------------------------------


def test_operator_watches_only_the_qserv_namespace() -> None:
    objects = least_privilege(
        _manifest_text(), operator_namespace=OPERATOR_NAMESPACE, watch_namespace="qserv", version="t"
    )
    kinds = [o["kind"] for o in objects]
    assert "Namespace" not in kinds  # the program declares it itself
    assert "ClusterRoleBinding" not in kinds
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    assert deployment["metadata"]["namespace"] == OPERATOR_NAMESPACE
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "WATCH_NAMESPACE", "value": "qserv"}]
    binding = next(o for o in objects if o["kind"] == "RoleBinding")
    assert binding["metadata"]["namespace"] == "qserv"
    assert binding["subjects"][0]["namespace"] == OPERATOR_NAMESPACE
    assert "<NAMESPACE>" not in yaml.safe_dump_all(objects)


def test_narrowed_objects_validate_strictly() -> None:
    for obj in least_privilege(
        _manifest_text(), operator_namespace=OPERATOR_NAMESPACE, watch_namespace="qserv", version="t"
    ):
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (_manifest_text(cluster_binding=True), "grants cluster-wide roles"),
        (_manifest_text(watch_env=False), "no WATCH_NAMESPACE"),
        (yaml.safe_dump({"kind": "ConfigMap", "metadata": {"name": "x"}}), "no Deployment"),
    ],
)
def test_a_release_of_another_shape_is_refused(text: str, match: str) -> None:
    with pytest.raises(OperationFailed, match=match):
        least_privilege(text, operator_namespace=OPERATOR_NAMESPACE, watch_namespace="qserv", version="t")
