"""Mocked unit tests of components (each a `@pulumi.runtime.test` program run, so a failing
`apply` fails the test)."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from infra.cloudsql import RegistryDatabase, RegistryDatabaseArgs
from infra.config import load_stack_file, resolve_stack_file
from infra.kubernetes import kubeconfig
from infra.network import Network, NetworkArgs
from infra.node_pools import pool_labels


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ == "gcp:container/cluster:Cluster":
            state["endpoint"] = "203.0.113.9"
            state["masterAuth"] = {"clusterCaCertificate": "Q0E="}
        if args.typ == "random:index/randomPassword:RandomPassword":
            state["result"] = pulumi.Output.secret("not-a-real-password")
        if args.typ == "gcp:serviceaccount/account:Account":
            state["email"] = f"{args.inputs['accountId']}@p.iam.gserviceaccount.com"
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        return {"number": "123"} if "getProject" in args.token else {}


@pytest.fixture
def dev_config() -> Any:
    pulumi.runtime.set_mocks(_Mocks(), project="idf", stack="dev", preview=False)
    return load_stack_file(resolve_stack_file("dev"))


@pulumi.runtime.test
def test_registry_passwords_are_secret(dev_config: Any) -> Any:
    network = Network("t", NetworkArgs(config=dev_config, private_services_access=True))
    assert network.private_services is not None
    registry = RegistryDatabase(
        "t",
        RegistryDatabaseArgs(
            config=dev_config, network_id=network.vpc.id, private_services=network.private_services
        ),
    )

    def check(secret: bool) -> None:
        assert secret, "the registry writer password must be a secret Output"

    is_secret: Any = registry.writer_password.is_secret()  # a coroutine the Output awaits
    return pulumi.Output.from_input(is_secret).apply(check)


@pulumi.runtime.test
def test_kubeconfig_has_endpoint_and_ca(dev_config: Any) -> Any:
    text = kubeconfig("idf-dev", "203.0.113.9", "Q0E=")
    assert "server: https://203.0.113.9" in text
    assert "certificate-authority-data: Q0E=" in text
    assert "gke-gcloud-auth-plugin" in text and "token" not in text
    return pulumi.Output.from_input(text)


@pulumi.runtime.test
def test_node_pool_labels_of_temporary_pool() -> Any:
    cfg = load_stack_file(resolve_stack_file("qserv-scale75"))
    labels = pool_labels(cfg, "qserv_worker", cfg.node_pools["qserv_worker"])
    assert labels["purpose"] == "scale-test"
    assert labels["owner"] == cfg.meta.owner
    expires = cfg.node_pools["qserv_worker"].expires_at
    assert expires is not None
    assert labels["expires-at"] == expires.strftime("%Y-%m-%dt%H-%Mz")
    return pulumi.Output.from_input(labels)
