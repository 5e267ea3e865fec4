"""Fixtures of the gates tests: a private run-state dir, fake stacks, dead and silent endpoints."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from idf_ops.gates.registry import REGISTRY_PATH

# Checkpoints whose gates talk to live services (everything but the load-test summaries).
LIVE_CHECKPOINTS = ["L2-DP-0010", "L3-MW-0030", "L3-MW-0010", "L3-MW-0020", "L3-PR-0010", "L2-DP-0020"]


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private run-state root (var/) so tests never touch the real stacks' outputs."""
    root = tmp_path / "state"
    root.mkdir()
    monkeypatch.setenv("IDF_STATE_DIR", str(root))
    monkeypatch.delenv("IDF_HUB_TOKEN_FILE", raising=False)
    monkeypatch.delenv("IDF_QSERV_PASSWORD_FILE", raising=False)
    monkeypatch.delenv("IDF_PG_DSN", raising=False)
    return root


def local_outputs(stack: str, port: int, tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """A local-kind outputs document whose every endpoint is 127.0.0.1:`port`."""
    secrets = tmp_path / "secrets"
    secrets.mkdir(exist_ok=True)
    (secrets / "jupyterhub_api_token").write_text("not-a-real-token\n")
    doc: dict[str, Any] = {
        "stack": stack,
        "kind": "local",
        "tap_url": f"http://127.0.0.1:{port}/tap",
        "hub_url": f"http://127.0.0.1:{port}",
        "qserv": {"host": "127.0.0.1", "port": port, "dialect": "mariadb-standin", "expected_workers": 1},
        "butler": {
            "repo_uri": str(tmp_path / "butler"),
            "readonly_config": str(tmp_path / "butler" / "butler-readonly.yaml"),
            "registry_host": "127.0.0.1",
            "registry_port": port,
            "registry_database": "butler",
        },
        "catalog_load_manifest": str(tmp_path / "dataload" / "manifest.json"),
        "secrets_dir": str(secrets),
        "stand_ins": {
            "qserv": "MariaDB (MySQL protocol)",
            "nublado": "JupyterHub + SimpleLocalProcessSpawner",
        },
    }
    doc.update(overrides)
    return doc


def gcp_offline_outputs(stack: str) -> dict[str, Any]:
    """A cloud stack's outputs as `idf plan` writes them (mock values, offline_plan: true)."""
    return {
        "stack": stack,
        "kind": "gcp",
        "offline_plan": True,
        "tap_url": "https://data-int.lsst.cloud/api/tap",
        "hub_url": "https://data-int.lsst.cloud/nb",
        "qserv": {
            "host": "qserv-czar.example.internal",
            "port": 4040,
            "dialect": "qserv",
            "expected_workers": 5,
        },
        "butler": {
            "repo_uri": "gs://butler-us-central1-dp01",
            "readonly_config": "gs://butler-us-central1-dp01/butler-readonly.yaml",
            "registry_host": "10.0.0.3",
            "registry_database": "registry",
        },
        "buckets": {"butler": "butler-us-central1-dp01"},
        "cluster_name": "science-platform",
        "node_pools": ["core-pool", "user-lab-pool"],
        "cloudsql_connection_name": "idf-dp01:us-central1:butler-registry",
        "catalog_load_manifest": "gs://dataload-dp01/manifest.json",
    }


def write_outputs(state: Path, doc: dict[str, Any]) -> None:
    """Write a stack's outputs where load_outputs() finds them."""
    path = state / "stacks" / doc["stack"] / "outputs.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


def registry_with_timeouts(tmp_path: Path, timeout_s: float) -> Path:
    """A copy of the real registry with every gate's timeout set to `timeout_s`."""
    data = yaml.safe_load(REGISTRY_PATH.read_text())
    for item in [*data["milestones"], *data["timeline"]]:
        for gate in item.get("gates", []):
            gate["timeout_s"] = timeout_s
    path = tmp_path / "registry-fast.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A listening socket that accepts connections (kernel backlog) but never answers a byte."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(128)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound then released: connections are refused)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port
