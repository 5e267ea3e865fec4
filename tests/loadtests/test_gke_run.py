"""`idf loadtest run` on a cloud stack: apply with the kubernetes client, follow, judge from the bucket.

The Kubernetes and GKE APIs are a pytest-httpserver on 127.0.0.1 answering in the APIs' shapes;
Cloud Storage is the GCS emulator. When the followed master Job is asked for the second time it
"ends": the test uploads real reports (a short local Locust run's) where the master would.
"""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path
from typing import Any

import google.auth
import pytest
from google.auth.credentials import AnonymousCredentials
from loadtest_helpers import write_profile
from pytest_httpserver import HTTPServer
from test_collect import PROFILE, local_run, reports  # noqa: F401 - fixtures reused (F811 below: the fixture)
from werkzeug import Request, Response

from idf_clients.gcp import StorageClient
from idf_core.errors import BadInput
from idf_ops.loadtest.manifests import EXIT_CODE_FILE, REPORTS_URI_ENV
from idf_ops.loadtest.service import CollectRequest, RunRequest, collect_run, run_profile

RESPONSES = Path(__file__).parents[1] / "gates" / "cloud" / "responses"
PROJECT = "rubin-idf-cloud"
BUCKET = "rubin-idf-fake-backups"
NS = "/api/v1/namespaces"


@pytest.fixture
def cloud(
    tmp_path: Path, httpserver: HTTPServer, gcs_emulator: str, monkeypatch: pytest.MonkeyPatch
) -> HTTPServer:
    monkeypatch.setattr(google.auth, "default", lambda scopes=None, **_: (AnonymousCredentials(), PROJECT))
    base = httpserver.url_for("").rstrip("/")
    monkeypatch.setenv("IDF_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("IDF_CONTAINER_API_ENDPOINT", base)
    monkeypatch.setenv("IDF_KUBERNETES_API", base)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    client = StorageClient().library_client
    if client.lookup_bucket(BUCKET) is None:
        client.create_bucket(BUCKET)
    outputs = {
        "stack": "fake", "kind": "gcp", "tap_url": "https://data.example/api/tap", "hub_url": "https://data.example/nb",
        "qserv": {"host": "10.0.0.9", "port": 4040, "dialect": "qserv", "expected_workers": 5},
        "butler": {"repo_uri": "gs://b/repo", "readonly_config": "gs://b/repo/butler-readonly.yaml",
                   "registry_host": "10.0.0.3", "registry_database": "butler"},
        "buckets": {"backups": BUCKET}, "cluster_name": "idf-cloud",
        "cloudsql_connection_name": f"{PROJECT}:us-central1:butler-registry-cloud",
    }  # fmt: skip
    path = tmp_path / "stacks" / "fake" / "outputs.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(outputs))
    httpserver.expect_request(f"/v1/projects/{PROJECT}/locations/-/clusters").respond_with_json(
        json.loads((RESPONSES / "gke-clusters-healthy.json").read_text())
    )
    return httpserver


def _serve_cluster(server: HTTPServer, reports_folder: Path, job_answers: list[str]) -> dict[str, Any]:
    created: dict[str, Any] = {}

    def create(request: Request) -> Response:
        body = json.loads(request.data)
        created[f"{body['kind']}/{body['metadata']['name']}"] = body
        return Response(json.dumps(body), status=201, content_type="application/json")

    paths = ("", "/idf-loadtest/secrets", "/idf-loadtest/serviceaccounts", "/idf-loadtest/configmaps",
             "/idf-loadtest/services")  # fmt: skip
    for path in paths:
        server.expect_request(f"{NS}{path}", method="POST").respond_with_handler(create)
    server.expect_request("/apis/batch/v1/namespaces/idf-loadtest/jobs", method="POST").respond_with_handler(
        create
    )
    server.expect_request(
        "/apis/apps/v1/namespaces/idf-loadtest/deployments", method="POST"
    ).respond_with_handler(create)

    def job_status(request: Request) -> Response:
        state = job_answers.pop(0) if len(job_answers) > 1 else job_answers[0]
        status: dict[str, Any] = {"active": 1}
        if state != "active":
            # The master's upload, as its entry script runs `python -m idf_clients.gcp upload`.
            env = created["Job/locust-master"]["spec"]["template"]["spec"]["containers"][0]["env"]
            uri = next(v["value"] for v in env if v["name"] == REPORTS_URI_ENV)
            StorageClient().upload_dir(reports_folder, uri, last=EXIT_CODE_FILE)
            status = {"succeeded": 1, "conditions": [{"type": state, "status": "True", "message": ""}]}
        metadata = {"name": "locust-master", "namespace": "idf-loadtest"}
        job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "status": status}
        return Response(json.dumps(job), content_type="application/json")

    server.expect_request(
        "/apis/batch/v1/namespaces/idf-loadtest/jobs/locust-master/status"
    ).respond_with_handler(job_status)
    pod = json.loads((RESPONSES / "pods-operator-healthy.json").read_text())
    server.expect_request(f"{NS}/idf-loadtest/pods").respond_with_json(pod)
    return created


def test_run_applies_follows_and_judges_from_the_bucket(
    cloud: HTTPServer,
    reports: Path,  # noqa: F811 - the fixture of test_collect
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    created = _serve_cluster(cloud, reports, ["active", "Complete"])
    token = tmp_path / "qserv-password"
    token.write_text(secrets.token_hex(8) + "\n")
    monkeypatch.setenv("IDF_QSERV_PASSWORD_FILE", str(token))
    profile = write_profile(tmp_path, PROFILE, users=4, max_iterations_per_user=3)
    lines: list[str] = []
    summary = run_profile(
        RunRequest(profile=str(profile), stack="fake", workers=2, out_dir=tmp_path / "out", poll_s=0.1),
        lines.append,
    )
    assert set(created) == {
        "Namespace/idf-loadtest", "Secret/idf-loadtest-secrets", "ServiceAccount/locust",
        "ConfigMap/locust-run-config", "Job/locust-master",
        "Service/locust-master", "Deployment/locust-worker",
    }  # fmt: skip
    secret = created["Secret/idf-loadtest-secrets"]["data"]["qserv-password"]
    assert base64.b64decode(secret).decode() == token.read_text().strip()
    manifests_file = (tmp_path / "out" / "locust-gke.yaml").read_text()
    assert token.read_text().strip() not in manifests_file and secret not in manifests_file
    annotations = created["ServiceAccount/locust"]["metadata"]["annotations"]
    assert annotations == {
        "iam.gke.io/gcp-service-account": f"loadtest-fake@{PROJECT}.iam.gserviceaccount.com"
    }
    assert any(line.startswith("master job: active=1") for line in lines), lines
    assert any(
        line.startswith("master job Complete; reports in gs://rubin-idf-fake-backups/loadtests/fake/")
        for line in lines
    )
    assert summary.verdict in ("pass", "fail") and (tmp_path / "out" / "summary.json").is_file()
    assert summary.request_kinds, "the summary has the run's request kinds"
    # `collect` without --from finds the newest complete run in the bucket and judges it the same.
    again = collect_run(CollectRequest(profile=str(profile), stack="fake", out_dir=tmp_path / "again"))
    assert [k.count for k in again.request_kinds] == [k.count for k in summary.request_kinds]


def test_collect_from_a_run_without_exit_code_is_bad_input(cloud: HTTPServer, tmp_path: Path) -> None:
    write_profile(tmp_path, PROFILE, users=4, max_iterations_per_user=3)
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "locust_stats.csv").write_text("x\n")
    uri = f"gs://{BUCKET}/loadtests/fake/{PROFILE}/20260101T000000Z-partial"
    StorageClient().upload_dir(partial, uri)
    with pytest.raises(BadInput, match="no locust-exit-code: the run's reports are incomplete or absent"):
        collect_run(CollectRequest(profile=str(tmp_path / f"{PROFILE}.yaml"), stack="fake", source=uri))
