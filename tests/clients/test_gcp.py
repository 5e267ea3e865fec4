"""idf_clients.gcp and idf_clients.kube: credentials, API errors, Cloud Storage on the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from google.auth.credentials import AnonymousCredentials
from pytest_httpserver import HTTPServer

from idf_clients.gcp import (
    ADC_LOGIN_COMMAND,
    CloudSqlAdminClient,
    GcpApiError,
    NoCredentials,
    StorageClient,
    default_credentials,
    parse_connection_name,
    split_gs_uri,
)
from idf_clients.kube import KubeClient, KubeError
from idf_core.errors import BadInput


@pytest.fixture
def storage(gcs_emulator: str, monkeypatch: pytest.MonkeyPatch) -> StorageClient:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    client = StorageClient()
    if client.library_client.lookup_bucket("idf-client-test") is None:
        client.library_client.create_bucket("idf-client-test")
    return client


def test_names_are_parsed_or_refused() -> None:
    assert parse_connection_name("p:us-central1:i") == ("p", "us-central1", "i")
    assert split_gs_uri("gs://b/a/b.yaml") == ("b", "a/b.yaml")
    with pytest.raises(BadInput, match="is not project:region:instance"):
        parse_connection_name("p:i")
    with pytest.raises(BadInput, match="is not a gs://bucket/path URI"):
        split_gs_uri("/var/lib/idf/butler")


def test_no_adc_names_the_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    with pytest.raises(NoCredentials) as info:
        default_credentials()
    assert f"run `{ADC_LOGIN_COMMAND}`" in str(info.value)


def test_upload_list_download_round_trip(storage: StorageClient, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.csv").write_text("a\n")
    (folder / "sub" / "b.json").write_text("{}")
    (folder / "done").write_text("0\n")
    assert storage.upload_dir(folder, "gs://idf-client-test/runs/1", last="done") == 3
    assert storage.list_names("gs://idf-client-test/runs/1") == ["a.csv", "done", "sub/b.json"]
    assert storage.read_text("gs://idf-client-test/runs/1/sub/b.json") == "{}"
    target = tmp_path / "back"
    storage.download_prefix("gs://idf-client-test/runs/1", target)
    assert (target / "sub" / "b.json").read_text() == "{}" and (target / "done").read_text() == "0\n"
    with pytest.raises(GcpApiError, match="reading gs://idf-client-test/runs/1/absent failed"):
        storage.read_text("gs://idf-client-test/runs/1/absent")


def test_module_entry_uploads_or_fails_in_one_line(
    gcs_emulator: str, storage: StorageClient, tmp_path: Path
) -> None:
    (tmp_path / "x.txt").write_text("x")
    env = {**os.environ, "STORAGE_EMULATOR_HOST": gcs_emulator}
    command = [sys.executable, "-W", "ignore", "-m", "idf_clients.gcp", "upload", str(tmp_path)]
    ok = subprocess.run(
        [*command, "gs://idf-client-test/entry"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == f"uploaded 1 files from {tmp_path} to gs://idf-client-test/entry"
    bad = subprocess.run(
        [*command, "gs://idf-no-such-bucket/x"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: Cloud Storage: uploading") and "Traceback" not in bad.stderr


def test_cloud_sql_api_error_names_instance_and_message(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDF_SQLADMIN_API_ENDPOINT", httpserver.url_for("").rstrip("/"))
    httpserver.expect_request("/v1/projects/p/instances/i").respond_with_json(
        {"error": {"code": 404, "message": "The Cloud SQL instance does not exist.", "status": "NOT_FOUND"}},
        status=404,
    )
    with pytest.raises(GcpApiError) as info:
        CloudSqlAdminClient(AnonymousCredentials()).instance("p", "i")
    assert (
        str(info.value)
        == "Cloud SQL Admin API: instance p:i: HTTP 404 The Cloud SQL instance does not exist."
    )


def test_create_keeps_an_existing_namespace_and_refuses_an_existing_job(httpserver: HTTPServer) -> None:
    conflict = {
        "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "AlreadyExists", "code": 409,
        "message": "already exists",
    }  # fmt: skip
    httpserver.expect_request("/api/v1/namespaces", method="POST").respond_with_json(conflict, status=409)
    httpserver.expect_request("/apis/batch/v1/namespaces/n/jobs", method="POST").respond_with_json(
        conflict, status=409
    )
    kube = KubeClient(httpserver.url_for("").rstrip("/"))
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}
    assert kube.create([namespace]) == []
    pod = {"containers": [{"name": "c", "image": "i"}], "restartPolicy": "Never"}
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j", "namespace": "n"},
           "spec": {"template": {"spec": pod}}}  # fmt: skip
    with pytest.raises(KubeError, match=r"creating Job/j failed \(HTTP 409"):
        kube.create([job])
    assert json.loads(httpserver.log[-1][0].data)["metadata"]["name"] == "j"
