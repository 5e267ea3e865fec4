"""Fixtures of the cloud gate tests: recorded Google/Kubernetes API responses, the GCS emulator, ADC.

- ``apis``: a pytest-httpserver on 127.0.0.1 that the GKE, Cloud SQL Admin and Kubernetes clients
  are pointed at (``IDF_CONTAINER_API_ENDPOINT``, ``IDF_SQLADMIN_API_ENDPOINT``,
  ``IDF_KUBERNETES_API``), serving our own JSON fixtures (``responses/``) written from the API
  references in the shapes the real APIs return;
- ``gcs_emulator`` (tests/conftest.py): fake-gcs-server on 127.0.0.1, once per session;
- ``adc`` / ``no_adc``: Application Default Credentials present (anonymous, as an emulator takes) or
  absent (no key file, an empty gcloud config, no metadata server), so the real lookup fails.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import google.auth
import pytest
from google.auth.credentials import AnonymousCredentials
from pytest_httpserver import HTTPServer

from idf_core.contract import StackOutputs
from idf_ops.gates.checks.base import CheckContext

RESPONSES = Path(__file__).parent / "responses"
PROJECT = "rubin-idf-cloud"
CLUSTERS_PATH = f"/v1/projects/{PROJECT}/locations/-/clusters"
SQL_PATH = f"/v1/projects/{PROJECT}/instances/butler-registry-cloud"
ARGO_PATH = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications"
OPERATOR_PODS_PATH = "/api/v1/namespaces/qserv-operator/pods"
QSERV_PODS_PATH = "/api/v1/namespaces/qserv/pods"
QSERVS_PATH = "/apis/qserv.lsst.org/v1beta1/namespaces/qserv/qservs"


def response(name: str, **replace: str) -> Any:
    """A recorded response; ``replace`` substitutes placeholders (BUCKET=<name>)."""
    text = (RESPONSES / name).read_text()
    for key, value in replace.items():
        text = text.replace(key, value)
    return json.loads(text)


@pytest.fixture
def apis(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> HTTPServer:
    base = httpserver.url_for("").rstrip("/")
    monkeypatch.setenv("IDF_CONTAINER_API_ENDPOINT", base)
    monkeypatch.setenv("IDF_SQLADMIN_API_ENDPOINT", base)
    monkeypatch.setenv("IDF_KUBERNETES_API", base)
    return httpserver


def serve(server: HTTPServer, path: str, name: str, **replace: str) -> None:
    server.expect_request(path, method="GET").respond_with_json(response(name, **replace))


@pytest.fixture
def adc(monkeypatch: pytest.MonkeyPatch) -> None:
    """ADC present: google.auth.default answers with anonymous credentials (no token exchange here)."""
    monkeypatch.setattr(google.auth, "default", lambda scopes=None, **_: (AnonymousCredentials(), PROJECT))


@pytest.fixture
def no_adc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """ADC absent: the real google.auth lookup runs and finds nothing."""
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")


def cloud_outputs(**overrides: Any) -> StackOutputs:
    """Live (not offline-plan) outputs of a cloud stack whose names match the recorded responses."""
    doc: dict[str, Any] = {
        "stack": "cloud",
        "kind": "gcp",
        "offline_plan": False,
        "tap_url": "https://data-cloud.lsst.cloud/api/tap",
        "hub_url": "https://data-cloud.lsst.cloud/nb",
        "qserv": {"host": "10.250.0.93", "port": 4040, "dialect": "qserv", "expected_workers": 5},
        "butler": {
            "repo_uri": "gs://rubin-idf-cloud-butler-datastore/repo",
            "readonly_config": "gs://rubin-idf-cloud-butler-datastore/repo/butler-readonly.yaml",
            "registry_host": "127.0.0.1",
            "registry_database": "dp01_butler",
        },
        "buckets": {
            "butler_datastore": "rubin-idf-cloud-butler-datastore",
            "qserv_ingest": "rubin-idf-cloud-qserv-ingest",
        },
        "cluster_name": "idf-cloud",
        "node_pools": ["idf-cloud-core", "idf-cloud-qserv-worker"],
        "cloudsql_connection_name": f"{PROJECT}:us-central1:butler-registry-cloud",
    }
    doc.update(overrides)
    return StackOutputs.model_validate(doc)


def context(outputs: StackOutputs, tmp_path: Path) -> CheckContext:
    return CheckContext(outputs=outputs, now=dt.datetime.now(dt.UTC), loadtests_dir=tmp_path)
