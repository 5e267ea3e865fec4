"""The cloud side of the gate checks against recorded API responses and the GCS emulator.

Every check passes on the healthy recordings and fails, each with its own reason, on every
failure a real cluster shows: node pool not ready, pod crash-looping, application Degraded or
OutOfSync, bucket public, instance not runnable, no Application Default Credentials.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from idf_ops.gates.checks import CHECKS
from idf_ops.gates.checks.base import Budget, CheckFailedError, Outcome
from idf_ops.gates.registry import PlainGate

from .conftest import (
    ARGO_PATH,
    CLUSTERS_PATH,
    OPERATOR_PODS_PATH,
    QSERV_PODS_PATH,
    QSERVS_PATH,
    SQL_PATH,
    cloud_outputs,
    context,
    serve,
)

pytestmark = pytest.mark.usefixtures("adc")


def run(check_id: str, tmp_path: Path, **overrides: object) -> Outcome:
    gate = PlainGate(
        id=check_id, check=check_id, title="a cloud gate under test", timeout_s=CHECKS[check_id].timeout_s
    )
    ctx = context(cloud_outputs(**overrides), tmp_path)
    return CHECKS[check_id].function(ctx, gate, Budget(deadline=time.monotonic() + 20))


def fails(check_id: str, tmp_path: Path, **overrides: object) -> CheckFailedError:
    with pytest.raises(CheckFailedError) as info:
        run(check_id, tmp_path, **overrides)
    return info.value


# --- compute-ready: cluster, node pools, Argo CD applications ----------------------------------


def _cluster(
    apis: HTTPServer, clusters: str = "gke-clusters-healthy.json", apps: str = "argocd-apps-healthy.json"
) -> None:
    serve(apis, CLUSTERS_PATH, clusters)
    serve(apis, ARGO_PATH, apps)


def test_compute_ready_passes_on_a_healthy_cluster(apis: HTTPServer, tmp_path: Path) -> None:
    _cluster(apis)
    outcome = run("compute-ready", tmp_path)
    assert (
        outcome.reason
        == "cluster idf-cloud and 2 node pools RUNNING; 6 Argo CD applications Synced and Healthy"
    )
    assert "node pool idf-cloud-qserv-worker: RUNNING" in outcome.evidence
    assert "application nublado: Synced/Healthy" in outcome.evidence


@pytest.mark.parametrize(
    ("clusters", "apps", "reason"),
    [
        (
            "gke-clusters-pool-error.json",
            "argocd-apps-healthy.json",
            "node pool idf-cloud-qserv-worker is ERROR (Instance 'gke-idf-cloud-qserv-worker-1' creation",
        ),
        (
            "gke-clusters-pool-provisioning.json",
            "argocd-apps-healthy.json",
            "node pool idf-cloud-qserv-worker is PROVISIONING",
        ),
        (
            "gke-clusters-healthy.json",
            "argocd-apps-degraded.json",
            'Argo CD application nublado is Synced/Degraded: Deployment "nublado-controller" exceeded',
        ),
        (
            "gke-clusters-healthy.json",
            "argocd-apps-outofsync.json",
            "Argo CD application tap is OutOfSync/Healthy",
        ),
        (
            "gke-clusters-healthy.json",
            "argocd-apps-empty.json",
            "no Argo CD Applications in namespace argocd",
        ),
    ],
)
def test_compute_ready_fails_with_its_own_reason(
    apis: HTTPServer, tmp_path: Path, clusters: str, apps: str, reason: str
) -> None:
    _cluster(apis, clusters, apps)
    assert fails("compute-ready", tmp_path).reason.startswith(reason)


def test_compute_ready_names_a_missing_pool_and_cluster(apis: HTTPServer, tmp_path: Path) -> None:
    _cluster(apis)
    error = fails("compute-ready", tmp_path, node_pools=["idf-cloud-core", "idf-cloud-batch"])
    assert error.reason == "node pool idf-cloud-batch does not exist"
    error = fails("compute-ready", tmp_path, cluster_name="idf-other")
    assert "no cluster 'idf-other' in project rubin-idf-cloud (clusters there: idf-cloud)" in error.reason


def test_an_api_error_is_one_line_naming_the_api(apis: HTTPServer, tmp_path: Path) -> None:
    apis.expect_request(CLUSTERS_PATH).respond_with_json(
        {
            "error": {
                "code": 403,
                "message": "Permission denied on resource project rubin-idf-cloud.",
                "status": "PERMISSION_DENIED",
            }
        },
        status=403,
    )
    error = fails("compute-ready", tmp_path)
    assert error.reason.startswith("GKE API: listing clusters of projects/rubin-idf-cloud/locations/- failed")
    assert "Permission denied" in error.reason


# --- qserv-workers: operator and Qserv pods ----------------------------------------------------


def _qserv(apis: HTTPServer, pods: str = "pods-qserv-healthy.json") -> None:
    serve(apis, CLUSTERS_PATH, "gke-clusters-healthy.json")
    serve(apis, OPERATOR_PODS_PATH, "pods-operator-healthy.json")
    serve(apis, QSERVS_PATH, "qservs.json")
    serve(apis, QSERV_PODS_PATH, pods)


def test_qserv_workers_pass_when_operator_and_every_pod_are_ready(apis: HTTPServer, tmp_path: Path) -> None:
    _qserv(apis)
    outcome = run("qserv-workers", tmp_path)
    assert outcome.reason == "qserv-operator Ready; 5 of 5 Qserv workers Ready"
    assert "qserv-operator: 1/1 pods Ready" in outcome.evidence


def test_qserv_worker_in_crashloop_fails_naming_pod_and_reason(apis: HTTPServer, tmp_path: Path) -> None:
    _qserv(apis, "pods-qserv-crashloop.json")
    reason = fails("qserv-workers", tmp_path).reason
    assert reason.startswith("Qserv: pod qserv-worker-2 not Ready (worker: CrashLoopBackOff (back-off 5m0s")


def test_qserv_fewer_workers_than_expected_fails(apis: HTTPServer, tmp_path: Path) -> None:
    _qserv(apis, "pods-qserv-four-workers.json")
    assert fails("qserv-workers", tmp_path).reason == "4 Qserv worker pods Ready, the outputs expect 5"


def test_qserv_without_operator_fails(apis: HTTPServer, tmp_path: Path) -> None:
    serve(apis, CLUSTERS_PATH, "gke-clusters-healthy.json")
    apis.expect_request(OPERATOR_PODS_PATH).respond_with_json(
        {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": []}
    )
    assert fails("qserv-workers", tmp_path).reason == "no qserv-operator pods in namespace qserv-operator"


# --- database-reachable: the Cloud SQL instance (the query itself: test_cloud_local_stack.py) --


@pytest.mark.parametrize(
    ("recording", "reason"),
    [
        (
            "sqladmin-instance-suspended.json",
            "Cloud SQL instance butler-registry-cloud is SUSPENDED, not RUNNABLE",
        ),
        (
            "sqladmin-instance-no-private.json",
            "Cloud SQL instance butler-registry-cloud has no private address",
        ),
    ],
)
def test_database_instance_not_usable_fails(
    apis: HTTPServer, tmp_path: Path, recording: str, reason: str
) -> None:
    serve(apis, SQL_PATH, recording)
    assert fails("database-reachable", tmp_path).reason == reason


def test_database_outputs_disagreeing_with_cloud_sql_fail(apis: HTTPServer, tmp_path: Path) -> None:
    serve(apis, SQL_PATH, "sqladmin-instance-runnable.json")
    butler = cloud_outputs().butler.model_copy(update={"registry_host": "10.200.0.118"})
    reason = fails("database-reachable", tmp_path, butler=butler.model_dump()).reason
    assert reason.startswith(
        "the outputs publish registry_host 10.200.0.118, but Cloud SQL's private address is 127.0.0.1"
    )


def test_database_without_registry_credentials_says_what_to_set(
    apis: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IDF_PG_DSN", raising=False)
    monkeypatch.delenv("LSST_DB_AUTH", raising=False)
    serve(apis, SQL_PATH, "sqladmin-instance-runnable.json")
    reason = fails("database-reachable", tmp_path).reason
    assert reason.startswith("no registry credentials: set $IDF_PG_DSN to an operator DSN, or LSST_DB_AUTH")


# --- storage-present: recorded bucket and IAM answers (the emulator keeps no IAM settings) -----


def _buckets(apis: HTTPServer, monkeypatch: pytest.MonkeyPatch, bucket: str, iam: str) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", apis.url_for("").rstrip("/"))
    for name in cloud_outputs().buckets.values():
        serve(apis, f"/storage/v1/b/{name}", bucket, BUCKET=name)
        serve(apis, f"/storage/v1/b/{name}/iam", iam, BUCKET=name)


def test_private_buckets_pass(apis: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _buckets(apis, monkeypatch, "gcs-bucket-private.json", "gcs-iam-private.json")
    outcome = run("storage-present", tmp_path)
    assert outcome.reason == "2 buckets present, public access prevention enforced, none public"


@pytest.mark.parametrize(
    ("bucket", "iam", "reason"),
    [
        (
            "gcs-bucket-private.json",
            "gcs-iam-public.json",
            "bucket rubin-idf-cloud-butler-datastore is public: IAM grants allUsers",
        ),
        (
            "gcs-bucket-inherited.json",
            "gcs-iam-private.json",
            "bucket rubin-idf-cloud-butler-datastore: public access prevention is 'inherited', not",
        ),
    ],
)
def test_public_bucket_fails(  # noqa: PLR0917 - fixtures and parameters
    apis: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bucket: str, iam: str, reason: str
) -> None:
    _buckets(apis, monkeypatch, bucket, iam)
    assert fails("storage-present", tmp_path).reason.startswith(reason)


def test_missing_bucket_fails_on_the_emulator(
    gcs_emulator: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The emulator serves buckets but no IAM policies or settings: it proves absence, the
    # recordings above prove the privacy settings.
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    reason = fails("storage-present", tmp_path, buckets={"backups": "rubin-idf-cloud-absent"}).reason
    assert reason == "bucket rubin-idf-cloud-absent (backups) does not exist"
