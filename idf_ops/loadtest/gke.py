"""A distributed Locust run on a cloud stack's GKE cluster: apply, follow, fetch the reports.

Decides what the run needs (reports bucket, run id, Workload Identity account) from the stack
outputs and talks through the clients (:mod:`idf_clients.gcp`, :mod:`idf_clients.kube`):
the manifests are created with the kubernetes client, the master Job is followed until it ends
(progress every poll), and its reports are read back from the stack's bucket, where the master
uploaded them. Credentials are Application Default Credentials.
"""

# ruff: noqa: PLC0415 - the Google and Kubernetes clients load only for cloud runs

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from idf_core.contract import StackOutputs
from idf_core.errors import BadInput, OperationFailed
from idf_core.facts import LOADTEST_REPORTS_BUCKET_ROLES, loadtest_account_id, loadtest_reports_prefix
from idf_ops.loadtest.manifests import EXIT_CODE_FILE, MASTER_SELECTOR, MOUNTED_SECRET, NAMESPACE

__all__ = [
    "REPORTS_BUCKET_ROLES",
    "fetch_reports",
    "follow_master",
    "has_reports_bucket",
    "reports_prefix",
    "reports_uri",
    "start_run",
]

# The bucket role the reports go to: a `loadtest_reports` bucket when the stack has one, else its
# `backups` bucket (under loadtests/<stack>/, where infra/iam.py lets the pods write).
REPORTS_BUCKET_ROLES = LOADTEST_REPORTS_BUCKET_ROLES
_POLL_S = 10.0


def _bucket(outputs: StackOutputs) -> str:
    for role in REPORTS_BUCKET_ROLES:
        if role in outputs.buckets:
            return outputs.buckets[role]
    raise BadInput(
        f"stack {outputs.stack}: its outputs name no {' or '.join(REPORTS_BUCKET_ROLES)} bucket for the "
        "load-test reports; add one to `idf:buckets` in its stack file and run `pulumi up`"
    )


def has_reports_bucket(outputs: StackOutputs) -> bool:
    """Whether the outputs name a bucket the reports can go to."""
    return any(role in outputs.buckets for role in REPORTS_BUCKET_ROLES)


def reports_prefix(outputs: StackOutputs, profile: str) -> str:
    """``gs://<bucket>/loadtests/<stack>/<profile>``: where every run of a profile uploads."""
    return f"gs://{_bucket(outputs)}/{loadtest_reports_prefix(outputs.stack)}/{profile}"


def reports_uri(outputs: StackOutputs, profile: str, now: dt.datetime) -> str:
    """The folder one run uploads to (its UTC start time names it)."""
    return f"{reports_prefix(outputs, profile)}/{now.strftime('%Y%m%dT%H%M%SZ')}"


def gcp_service_account(outputs: StackOutputs, project: str | None) -> str:
    """The GCP service account the load-test pods act as (Workload Identity)."""
    return f"{loadtest_account_id(outputs.stack)}@{project or '<project>'}.iam.gserviceaccount.com"


def secret_document(hub_token_file: str | None, qserv_password_file: str | None) -> dict[str, Any] | None:
    """The Secret the pods mount (hub admin token, Qserv password), from the operator's files
    (``$IDF_HUB_TOKEN_FILE``, ``$IDF_QSERV_PASSWORD_FILE``); None when neither is set. Created in
    the cluster only, never written to the manifests file."""
    import base64

    data = {}
    for key, file in (("hub-admin-token", hub_token_file), ("qserv-password", qserv_password_file)):
        if file:
            data[key] = base64.b64encode(Path(file).read_bytes().strip()).decode()
    if not data:
        return None
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": MOUNTED_SECRET, "namespace": NAMESPACE},
        "data": data,
    }


def start_run(
    outputs: StackOutputs,
    credentials: Any,
    project: str,
    documents: list[dict[str, Any]],
    progress: Callable[[str], None],
) -> Any:
    """Create the run's manifests in the stack's cluster; returns the Kubernetes client for following it."""
    from idf_clients.kube import KubeClient

    kube = KubeClient.for_stack(outputs, credentials, project, timeout_s=30)
    created = kube.create(documents)
    progress(f"created in {kube.host}: {', '.join(created)}")
    return kube


def follow_master(
    kube: Any, deadline_s: float, progress: Callable[[str], None], *, poll_s: float = _POLL_S
) -> tuple[str, str]:
    """Poll the master Job until it is Complete or Failed: (condition, message); OperationFailed
    when it has not ended by `deadline_s` seconds from now."""
    ends_at = time.monotonic() + deadline_s
    last = ""
    while True:
        job = kube.job(NAMESPACE, "locust-master", pod_selector=MASTER_SELECTOR)
        line = f"master job: active={job.active} succeeded={job.succeeded} failed={job.failed}"
        for pod in job.pods:
            line += f"; pod {pod.name} {pod.phase}" + (f" ({'; '.join(pod.reasons)})" if pod.reasons else "")
        if line != last:
            progress(line)
            last = line
        if job.condition is not None:
            return job.condition, job.message
        if time.monotonic() >= ends_at:
            raise OperationFailed(
                f"the master job has not ended after {deadline_s:.0f} s; see `kubectl -n {NAMESPACE} logs "
                "job/locust-master`"
            )
        time.sleep(poll_s)


def latest_run(outputs: StackOutputs, profile: str) -> str:
    """The newest complete run folder (its exit-code file uploaded) of a profile in the bucket."""
    from idf_clients.gcp import StorageClient

    prefix = reports_prefix(outputs, profile)
    names = StorageClient().list_names(prefix)
    runs = sorted({name.split("/", 1)[0] for name in names if name.endswith(f"/{EXIT_CODE_FILE}")})
    if not runs:
        raise BadInput(f"{prefix}: no complete load-test run uploaded there; run `idf loadtest run` first")
    return f"{prefix}/{runs[-1]}"


def fetch_reports(uri: str, target: Path) -> Path:
    """Download a run's reports from the bucket into `target`; BadInput when the run is incomplete."""
    from idf_clients.gcp import StorageClient

    client = StorageClient()
    if EXIT_CODE_FILE not in client.list_names(uri):
        raise BadInput(f"{uri}: no {EXIT_CODE_FILE}: the run's reports are incomplete or absent")
    target.mkdir(parents=True, exist_ok=True)
    client.download_prefix(uri, target)
    return target
