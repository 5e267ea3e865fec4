"""cert-manager before qserv-operator, and the private control plane's way to their webhooks.

No network to GitHub here: the manifests downloaded are small ones of cert-manager.yaml's shape,
written by the test and served from 127.0.0.1 (pytest-httpserver).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import yaml
from pytest_httpserver import HTTPServer

from idf_core.errors import OperationFailed
from idf_core.facts import node_network_tag
from infra.cert_manager import (
    CERT_MANAGER_RELEASE,
    CERT_MANAGER_WEBHOOK_PORT,
    _CertManagerManifestProvider,
)
from infra.gke import CONTROL_PLANE_WEBHOOK_PORTS
from infra.qserv_operator import OPERATOR_RELEASE, OPERATOR_WEBHOOK_PORT
from infra.verified_manifest import ManifestDigestMismatch, UnrecordedDigest
from support.plans import OfflinePlans
from support.stacks import STACKS

GROUP = "kubernetes:yaml/v2:ConfigGroup"
DYNAMIC = "pulumi-python:dynamic:Resource"
FIREWALL = "gcp:compute/firewall:Firewall"
CLUSTER = "gcp:container/cluster:Cluster"
PATH = f"/cert-manager/cert-manager/releases/download/{CERT_MANAGER_RELEASE.version}/cert-manager.yaml"


def _manifest_text(secure_port: int | None = 10250) -> str:
    """A manifest shaped like cert-manager.yaml (our own few objects, not upstream's)."""
    args = ["--v=2"] + ([f"--secure-port={secure_port}"] if secure_port is not None else [])
    docs: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "cert-manager"}},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "cert-manager-webhook", "namespace": "cert-manager"},
            "spec": {
                "selector": {"matchLabels": {"app": "webhook"}},
                "template": {
                    "metadata": {"labels": {"app": "webhook"}},
                    "spec": {
                        "containers": [
                            {"name": "cert-manager-webhook", "image": "quay.io/jetstack/w:v1", "args": args}
                        ]
                    },
                },
            },
        },
    ]
    return yaml.safe_dump_all(docs)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _props(url: str, sha256: str | None) -> dict[str, Any]:
    return {
        "url": url,
        "sha256": sha256,
        "version": CERT_MANAGER_RELEASE.version,
        "webhook_port": CERT_MANAGER_WEBHOOK_PORT,
        "yaml": None,
    }


def test_release_is_the_published_asset_with_a_recorded_digest() -> None:
    assert CERT_MANAGER_RELEASE.url == (
        "https://github.com/cert-manager/cert-manager/releases/download/v1.20.2/cert-manager.yaml"
    )
    assert CERT_MANAGER_RELEASE.sha256 is not None and len(CERT_MANAGER_RELEASE.sha256) == 64
    int(CERT_MANAGER_RELEASE.sha256, 16)
    assert set(CERT_MANAGER_RELEASE.sha256) != {"0"}, "a placeholder is not a recorded digest"


@pytest.mark.parametrize("stack", STACKS)
def test_the_operator_is_applied_after_cert_manager(plans: OfflinePlans, stack: str) -> None:
    plan = plans[stack]
    downloads = {r.inputs.get("url"): r for r in plan.of_type(DYNAMIC)}
    cert_manager = downloads[CERT_MANAGER_RELEASE.url]
    assert cert_manager.inputs["sha256"] == CERT_MANAGER_RELEASE.sha256
    assert cert_manager.inputs["webhook_port"] == CERT_MANAGER_WEBHOOK_PORT
    groups = {r.name: r for r in plan.of_type(GROUP)}
    cm_group = next(g for name, g in groups.items() if name.endswith("-cert-manager-release"))
    op_group = next(g for name, g in groups.items() if name.endswith("-qserv-operator-release"))
    assert cert_manager.urn in cm_group.dependencies, "applied only after the digest check"
    assert cm_group.urn in op_group.dependencies, "the operator's webhook certificate needs cert-manager"
    assert downloads[OPERATOR_RELEASE.url].urn in op_group.dependencies


# --- deploy time, against a local server -------------------------------------------------------


def test_a_verified_manifest_with_the_opened_webhook_port_passes(httpserver: HTTPServer) -> None:
    text = _manifest_text()
    httpserver.expect_request(PATH).respond_with_data(text)
    created = _CertManagerManifestProvider().create(_props(httpserver.url_for(PATH), _sha256(text)))
    assert created.outs is not None
    kinds = [d["kind"] for d in yaml.safe_load_all(created.outs["yaml"])]
    assert kinds == ["Namespace", "Deployment"], "cert-manager's objects are applied as published"


def test_a_changed_file_applies_nothing(httpserver: HTTPServer) -> None:
    text = _manifest_text()
    httpserver.expect_request(PATH).respond_with_data(text + "# changed\n")
    with pytest.raises(ManifestDigestMismatch, match="CERT_MANAGER_RELEASE"):
        _CertManagerManifestProvider().create(_props(httpserver.url_for(PATH), _sha256(text)))


@pytest.mark.parametrize("port", [6443, None], ids=["other-port", "no-port-flag"])
def test_a_webhook_on_another_port_is_refused(httpserver: HTTPServer, port: int | None) -> None:
    text = _manifest_text(secure_port=port)
    httpserver.expect_request(PATH).respond_with_data(text)
    with pytest.raises(OperationFailed, match="tcp:10250 only") as caught:
        _CertManagerManifestProvider().create(_props(httpserver.url_for(PATH), _sha256(text)))
    assert "CERT_MANAGER_WEBHOOK_PORT" in str(caught.value)


@pytest.mark.parametrize("digest", [None, "", "TODO"], ids=["none", "empty", "word"])
def test_an_unrecorded_digest_is_refused_before_any_download(
    httpserver: HTTPServer, digest: str | None
) -> None:
    with pytest.raises(UnrecordedDigest) as caught:
        _CertManagerManifestProvider().create(_props(httpserver.url_for(PATH), digest))
    message = str(caught.value)
    assert "nothing was downloaded or applied" in message
    assert f"curl -fsSL {httpserver.url_for(PATH)} | sha256sum" in message
    assert "infra/cert_manager.py CERT_MANAGER_RELEASE" in message
    assert httpserver.log == [], "nothing is fetched for an unpinned release"


# --- the control plane reaches the webhooks -------------------------------------------------


def test_the_opened_ports_are_the_webhooks_ports() -> None:
    assert (
        set(CONTROL_PLANE_WEBHOOK_PORTS)
        == {OPERATOR_WEBHOOK_PORT, CERT_MANAGER_WEBHOOK_PORT}
        == {9443, 10250}
    )


@pytest.mark.parametrize("stack", STACKS)
def test_webhook_rule_admits_the_control_plane_only(plans: OfflinePlans, stack: str) -> None:
    plan = plans[stack]
    (cluster,) = plan.of_type(CLUSTER)
    master_cidr = cluster.inputs["privateClusterConfig"]["masterIpv4CidrBlock"]
    rules = [r for r in plan.of_type(FIREWALL) if r.name.endswith("-allow-control-plane-webhooks")]
    assert len(rules) == 1, [r.name for r in plan.of_type(FIREWALL)]
    rule = rules[0].inputs
    assert rule["direction"] == "INGRESS"
    assert rule["sourceRanges"] == [master_cidr], rules[0].urn
    assert rule["allows"] == [{"protocol": "tcp", "ports": ["9443", "10250"]}]
    assert rule["targetTags"] == [node_network_tag(stack)]
    pools = plan.of_type("gcp:container/nodePool:NodePool")
    assert pools and all(node_network_tag(stack) in p.inputs["nodeConfig"]["tags"] for p in pools)
    if stack == "dp01":
        assert master_cidr == "172.16.0.0/28"  # stacks/Pulumi.dp01.yaml idf:network.master_cidr
