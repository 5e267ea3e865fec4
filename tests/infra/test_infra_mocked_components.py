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
from support.mocks import use_mocks


@pytest.fixture
def dev_config() -> Any:
    use_mocks("dev")
    return load_stack_file(resolve_stack_file("dev"))


@pulumi.runtime.test
def test_registry_passwords_are_secret(dev_config: Any) -> Any:
    labels = dev_config.labels()
    network = Network(
        "t",
        NetworkArgs(
            network=dev_config.network,
            project=dev_config.gcp_project,
            region=dev_config.gcp_region,
            labels=labels,
            description="test",
            private_services_access=True,
        ),
    )
    assert network.private_services is not None
    assert dev_config.cloudsql is not None
    registry = RegistryDatabase(
        "t",
        RegistryDatabaseArgs(
            cloudsql=dev_config.cloudsql,
            project=dev_config.gcp_project,
            region=dev_config.gcp_region,
            labels=labels,
            network_id=network.vpc.id,
            private_services=network.private_services,
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
    labels = pool_labels(cfg.labels(), "qserv_worker", cfg.node_pools["qserv_worker"])
    assert labels["purpose"] == "scale-test"
    assert labels["owner"] == cfg.meta.owner
    expires = cfg.node_pools["qserv_worker"].expires_at
    assert expires is not None
    assert labels["expires-at"] == expires.strftime("%Y-%m-%dt%H-%Mz")
    return pulumi.Output.from_input(labels)
