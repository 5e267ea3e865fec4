"""Fixtures for fault tests: the local stack's outputs, and a refusal to run against anything else."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from idf_core.contract import StackOutputs, load_outputs


@pytest.fixture(scope="session")
def local_outputs() -> StackOutputs:
    """The local stack's outputs (``idf local up`` writes them); fault tests touch 127.0.0.1 only."""
    outputs = load_outputs("local")
    host = urlsplit(outputs.tap_url).hostname
    assert host in {"127.0.0.1", "localhost"}, f"fault tests only run on the local stack, not {host}"
    return outputs


@pytest.fixture(scope="session")
def tap_url(local_outputs: StackOutputs) -> str:
    return local_outputs.tap_url.rstrip("/")
