"""Argo CD, the Phalanx app-of-apps and the platform ingress: ordering, pins, strict manifests.

The Application, ManagedCertificate and BackendConfig custom resources have no schema in
kubernetes-validate (their CRDs ship with Argo CD and GKE): they are validated against our typed
models (infra/custom_resources.py); the Namespace and Ingress are validated strict.
"""

from __future__ import annotations

import copy
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from idf_ops.plan.engine import OfflinePlan
from idf_ops.plan.manifests import manifests_of, validate_manifests
from infra.argocd import APP_OF_APPS_NAME, SciencePlatform, SciencePlatformArgs
from infra.config import load_stack_file, resolve_stack_file
from infra.policy.rules import POLICIES, evaluate_inventory
from support.mocks import use_mocks

RELEASE = "kubernetes:helm.sh/v3:Release"
APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
NODE_POOL = "gcp:container/nodePool:NodePool"
PLATFORM_STACKS = ("dev", "dp01", "dp02")


def _one(plan: OfflinePlan, type_token: str) -> Any:
    found = plan.of_type(type_token)
    assert len(found) == 1, f"{plan.stack}: {len(found)} resources of type {type_token}"
    return found[0]


@pytest.mark.parametrize("stack", PLATFORM_STACKS)
def test_argocd_after_the_pools_and_the_app_of_apps_after_argocd(plans: Any, stack: str) -> None:
    plan = plans[stack]
    release, application = _one(plan, RELEASE), _one(plan, APPLICATION)
    pools = {r.urn for r in plan.of_type(NODE_POOL)}
    assert pools and pools <= set(release.dependencies), f"{release.urn} must wait for every node pool"
    assert release.urn in application.dependencies, f"{application.urn} must wait for Argo CD"
    # The provider comes from the cluster: the Release and the Application go to that cluster.
    assert release.provider is not None and release.provider == application.provider


def test_the_ingress_waits_for_the_pools(plans: Any) -> None:
    plan = plans["dp01"]
    namespace = plan.by_name("idf-dp01-platform-ns")
    assert {r.urn for r in plan.of_type(NODE_POOL)} <= set(namespace.dependencies)


@pytest.mark.parametrize("stack", PLATFORM_STACKS)
def test_argocd_chart_and_phalanx_revision_are_pinned(plans: Any, stack: str) -> None:
    cfg = load_stack_file(resolve_stack_file(stack))
    assert cfg.phalanx is not None
    release = _one(plans[stack], RELEASE).inputs
    assert release["chart"] == "argo-cd" and release["version"] == cfg.phalanx.argocd_chart_version
    assert release["repositoryOpts"] == {"repo": "https://argoproj.github.io/argo-helm"}
    source = _one(plans[stack], APPLICATION).inputs["spec"]["source"]
    assert source["repoURL"] == "https://github.com/lsst-sqre/phalanx.git"
    assert source["targetRevision"] == cfg.phalanx.target_revision
    assert source["path"] == "environments"
    assert source["helm"]["valueFiles"] == ["values.yaml", f"values-idf-{stack}.yaml"]


def test_the_scale_stack_has_no_science_platform(plans: Any) -> None:
    plan = plans["qserv-scale75"]
    assert not plan.of_type(RELEASE) and not plan.of_type(APPLICATION)
    assert plan.outputs.get("science_platform") is None


@pytest.mark.parametrize(
    ("stack", "host"),
    [("dp01", "data.lsst.cloud"), ("dev", "data-dev.lsst.cloud"), ("dp02", "data-dp02.lsst.cloud")],
)
def test_public_host_certificate_and_address(plans: Any, stack: str, host: str) -> None:
    plan = plans[stack]
    assert plan.outputs["science_platform"]["fqdn"] == host
    assert plan.outputs["tap_url"] == f"https://{host}/api/tap"
    certificate = _one(plan, "kubernetes:networking.gke.io/v1:ManagedCertificate").inputs
    assert certificate["spec"]["domains"] == [host]
    address = plan.by_name(f"idf-{stack}-ingress").inputs  # infra/dns.py: the host's A record target
    ingress = _one(plan, "kubernetes:networking.k8s.io/v1:Ingress").inputs
    annotations = ingress["metadata"]["annotations"]
    assert annotations["kubernetes.io/ingress.global-static-ip-name"] == address["name"]
    assert annotations["networking.gke.io/managed-certificates"] == certificate["metadata"]["name"]
    assert annotations["kubernetes.io/ingress.allow-http"] == "false"
    record = _one(plan, "gcp:dns/recordSet:RecordSet").inputs
    assert record["name"] == f"{host}."


@pytest.mark.parametrize("stack", PLATFORM_STACKS)
def test_github_client_secret_container_only(plans: Any, stack: str) -> None:
    plan = plans[stack]
    secret = plan.by_name(f"idf-{stack}-github-client-secret")
    assert secret.inputs["secretId"] == f"idf-{stack}-gafaelfawr-github-client-secret"
    # The program creates the container; a person adds the value (no SecretVersion here).
    versions = plan.of_type("gcp:secretmanager/secretVersion:SecretVersion")
    assert not [v for v in versions if "github" in v.name]
    assert plan.outputs["science_platform"]["github_client_secret"].endswith(secret.inputs["secretId"])


@pytest.mark.parametrize("stack", PLATFORM_STACKS)
def test_platform_manifests_validate(plans: Any, stack: str) -> None:
    manifests = manifests_of(plans[stack])
    kinds = {m["kind"] for m in manifests}
    assert {"Application", "ManagedCertificate", "BackendConfig", "Ingress"} <= kinds
    assert not any(m.get("kind") is None for m in manifests), "the Helm release is not an API object"
    assert validate_manifests(manifests) == []


def _manifest(plan: OfflinePlan, kind: str) -> dict[str, Any]:
    return copy.deepcopy(next(m for m in manifests_of(plan) if m["kind"] == kind))


@pytest.mark.parametrize(
    ("kind", "mutate", "where"),
    [
        ("Application", lambda m: m["spec"]["source"].update(repoUrl="x"), "spec.source.repoUrl"),
        ("Application", lambda m: m["spec"]["source"].update(targetRevision="main"), "targetRevision"),
        ("Application", lambda m: m["spec"].pop("destination"), "spec.destination"),
        ("ManagedCertificate", lambda m: m["spec"].update(domains=["*.lsst.cloud"]), "spec.domains.0"),
        ("BackendConfig", lambda m: m["spec"]["healthCheck"].update(requestPath="healthz"), "requestPath"),
        ("Ingress", lambda m: m["spec"]["defaultBackend"]["service"].update(portNumber=80), "defaultBackend"),
    ],
    ids=["misspelt-field", "branch", "no-destination", "wildcard", "relative-path", "ingress-strict"],
)
def test_a_broken_manifest_is_caught(plans: Any, kind: str, mutate: Any, where: str) -> None:
    manifest = _manifest(plans["dp01"], kind)
    assert validate_manifests([manifest]) == []
    mutate(manifest)
    problems = validate_manifests([manifest])
    assert problems, f"{kind}: the mutation was not caught"
    assert any(where in f"{p.path}: {p.message}" or where in p.path for p in problems), problems


def _inventory(plan: OfflinePlan) -> list[dict[str, Any]]:
    return [
        {
            "type": r.type,
            "name": r.name,
            "urn": r.urn,
            "inputs": copy.deepcopy(r.inputs),
            "protect": r.protect,
        }
        for r in plan.resources
        if r.custom
    ]


def _pinned_violations(resources: list[dict[str, Any]]) -> list[str]:
    policies = [p for p in POLICIES if p.name == "upstream-manifests-pinned"]
    return [v.message for v in evaluate_inventory(resources, policies)]


@pytest.mark.parametrize(
    ("type_token", "mutate", "expected"),
    [
        (APPLICATION, lambda i: i["spec"]["source"].update(targetRevision="main"), "targetRevision 'main'"),
        (APPLICATION, lambda i: i["spec"]["source"].update(targetRevision="650a0ef"), "pin a full commit"),
        (RELEASE, lambda i: i.update(version="10.x"), "exact chart version"),
        (
            RELEASE,
            lambda i: i["repositoryOpts"].update(repo="http://argoproj.github.io/argo-helm"),
            "https://",
        ),
    ],
    ids=["app-of-apps-on-a-branch", "short-sha", "chart-range", "chart-over-http"],
)
def test_pinned_rule_catches_unpinned_platform(
    plans: Any, type_token: str, mutate: Any, expected: str
) -> None:
    resources = _inventory(plans["dp01"])
    assert _pinned_violations(resources) == []
    target = next(r for r in resources if r["type"] == type_token)
    mutate(target["inputs"])
    violations = _pinned_violations(resources)
    assert any(expected in v for v in violations), violations


@pytest.mark.parametrize("stack", PLATFORM_STACKS)
def test_no_public_ssh(plans: Any, stack: str) -> None:
    """Shell access only through the notebooks: no firewall rule lets tcp:22 in from the internet
    (IAP's forwarding range 35.235.240.0/20 only), and the pack refuses one that does."""
    resources = _inventory(plans[stack])
    for rule in (r for r in resources if r["type"] == "gcp:compute/firewall:Firewall"):
        ssh = any("22" in (a.get("ports") or []) for a in rule["inputs"].get("allows", []))
        if ssh:
            assert rule["inputs"]["sourceRanges"] == ["35.235.240.0/20"], rule["urn"]
    policies = [p for p in POLICIES if p.name == "firewall-https-only-from-internet"]
    assert evaluate_inventory(resources, policies) == []
    rule = next(r for r in resources if r["type"] == "gcp:compute/firewall:Firewall")
    rule["inputs"].update(allows=[{"protocol": "tcp", "ports": ["22"]}], sourceRanges=["0.0.0.0/0"])
    assert evaluate_inventory(resources, policies), "SSH from anywhere must be refused"


@pulumi.runtime.test
def test_component_orders_its_children() -> Any:
    """The component alone, under the mock engine: Argo CD waits for what it is given, the
    app-of-apps for Argo CD, and the Application is the model's manifest."""
    mocks = use_mocks("dp01")
    cfg = load_stack_file(resolve_stack_file("dp01"))
    assert cfg.phalanx is not None
    provider = k8s.Provider("t-provider", kubeconfig="{}")
    pool = k8s.core.v1.Namespace(
        "t-stands-for-a-pool", metadata={"name": "t"}, opts=pulumi.ResourceOptions(provider=provider)
    )
    platform = SciencePlatform(
        "t",
        SciencePlatformArgs(
            phalanx=cfg.phalanx, project="p", stack="dp01", labels={}, provider=provider, depends_on=[pool]
        ),
    )

    def check(values: list[Any]) -> None:
        spec, release_version = values
        assert spec["source"]["targetRevision"] == cfg.phalanx.target_revision
        assert spec["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "argocd"}
        assert release_version == cfg.phalanx.argocd_chart_version
        types = mocks.types
        assert types.index("kubernetes:helm.sh/v3:Release") < types.index(APPLICATION)
        names = [a.name for a in mocks.registered]
        assert "t-app-of-apps" in names and APP_OF_APPS_NAME == "science-platform"

    return pulumi.Output.all(platform.app_of_apps.spec, platform.argocd.version).apply(check)
