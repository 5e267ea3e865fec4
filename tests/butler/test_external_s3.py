"""A cloud stack's Butler can name an external S3 store (NCSA): endpoint, bucket and a Secret
Manager secret for the keys, carried in the outputs contract; a key itself is refused as config."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from pydantic import ValidationError

from idf_core.contract import ProgramOutputs
from infra.config import ExternalS3Config, load_stack_file, resolve_stack_file
from infra.program import build
from support.mocks import Mocks, use_mocks

NCSA = {
    "endpoint_url": "https://s3.ncsa.example.org",
    "bucket": "rubin-dp01-cold",
    "keys_secret_id": "ncsa-s3-keys",
}


def test_keys_are_not_config() -> None:
    key_as_config = {"secret_access_key": "not-a-key"}  # pragma: allowlist secret
    with pytest.raises(ValidationError, match="secret_access_key"):
        ExternalS3Config.model_validate({**NCSA, **key_as_config})
    with pytest.raises(ValidationError, match="endpoint_url"):
        ExternalS3Config.model_validate({**NCSA, "endpoint_url": "http://s3.ncsa.example.org"})


@pytest.fixture
def dp01_with_ncsa() -> tuple[Any, Mocks]:
    mocks = use_mocks("dp01")
    cfg = load_stack_file(resolve_stack_file("dp01"))
    return cfg.model_copy(update={"butler_external_s3": ExternalS3Config.model_validate(NCSA)}), mocks


@pulumi.runtime.test
def test_contract_carries_the_store_and_its_secret_name(dp01_with_ncsa: tuple[Any, Mocks]) -> Any:
    cfg, mocks = dp01_with_ncsa

    def check(outputs: ProgramOutputs) -> None:
        store = outputs.butler.external_s3
        assert store is not None
        assert store.endpoint_url == NCSA["endpoint_url"]
        assert store.datastore_uri == "s3://ncsa@rubin-dp01-cold/repo"
        assert store.keys_secret == f"projects/{cfg.gcp_project}/secrets/ncsa-s3-keys"
        types = mocks.types
        assert "gcp:secretmanager/secret:Secret" in types, "the keys' secret container is not declared"
        assert "gcp:secretmanager/secretVersion:SecretVersion" not in types, (
            "the program must not hold the keys"
        )

    return build(cfg).apply(check)


@pulumi.runtime.test
def test_stacks_without_a_store_publish_none() -> Any:
    use_mocks("dp01")

    def check(outputs: ProgramOutputs) -> None:
        assert outputs.butler.external_s3 is None

    return build(load_stack_file(resolve_stack_file("dp01"))).apply(check)
