"""Kubernetes manifests of a distributed Locust run on a GKE stack, rendered and validated offline.

For runs larger than one machine the engine is Locust's own distributed mode inside the stack's
cluster: a ConfigMap with the run configuration, a master (a Job: a headless run ends, and a
Deployment would restart it into a second run), a Service in front of the master's port, and a
Deployment of N workers. Secrets are not rendered: pods mount the Secret ``idf-loadtest-secrets``
(hub admin token, Qserv password), which ``idf loadtest run`` creates in the cluster from the
operator's files (:func:`idf_ops.loadtest.gke.secret_document`). Manifests are
checked with kubernetes-validate (strict) against the cluster's Kubernetes version;
:mod:`idf_ops.loadtest.gke` applies them with the kubernetes client and follows the run.

The master writes Locust's reports, its final statistics and a copy of the run configuration to
``/reports`` (an emptyDir), then ``locust-exit-code``, and uploads the folder to the stack's
bucket (``$IDF_REPORTS_URI``, ``python -m idf_clients.gcp upload``: google-cloud-storage with
the pod's Workload Identity, the exit-code file last, so that its presence means the reports are
complete). ``idf loadtest collect`` reads them from there. The image needs ``sh`` and this
repository's Python packages. None of this has run on a cluster yet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# ruff: noqa: PLC0415 - kubernetes-validate (~110 MB of schemas) is imported only to validate
from idf_core.errors import OperationFailed
from idf_core.facts import LOADTEST_NAMESPACE, LOADTEST_SERVICE_ACCOUNT
from loadtests.runconfig import FINAL_STATS_ENV, RUN_CONFIG_ENV, RunConfig

__all__ = [
    "EXIT_CODE_FILE",
    "KUBERNETES_VERSION",
    "MASTER_SELECTOR",
    "MOUNTED_SECRET",
    "NAMESPACE",
    "REPORTS_DIR",
    "REPORTS_URI_ENV",
    "SERVICE_ACCOUNT",
    "render_manifests",
    "validate_manifests",
    "write_manifests",
]

KUBERNETES_VERSION = "1.30.0"
NAMESPACE = LOADTEST_NAMESPACE
_MASTER_PORT = 5557
_CONFIG_DIR = "/etc/idf-loadtest"
_SECRETS_DIR = "/var/run/idf-loadtest-secrets"
REPORTS_DIR = "/reports"
# Written by the master after Locust exits, uploaded last: its presence means the reports are complete.
EXIT_CODE_FILE = "locust-exit-code"
# Where the master uploads its reports (gs://bucket/prefix), set in its environment.
REPORTS_URI_ENV = "IDF_REPORTS_URI"
# The pods' Kubernetes service account, bound through Workload Identity (infra/iam.py) to a GCP
# service account that may create and read objects under the stack's reports prefix.
SERVICE_ACCOUNT = LOADTEST_SERVICE_ACCOUNT
# Exit code of the master when Locust ran but its reports could not be uploaded.
_UPLOAD_FAILED_EXIT = 70
# Spawning, waiting for workers (--expect-workers-max-wait 300) and shutting down, beyond the run time.
_MASTER_SLACK_S = 600
# The name of the Kubernetes Secret object the pods mount (hub token, Qserv password), not a secret.
MOUNTED_SECRET = "idf-loadtest-secrets"  # noqa: S105  # pragma: allowlist secret


def _labels(component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "locust",
        "app.kubernetes.io/part-of": "idf-loadtest",
        "app.kubernetes.io/component": component,
    }


MASTER_SELECTOR = ",".join(f"{key}={value}" for key, value in _labels("master").items())

# The master container's entry point: `sh -c _UPLOAD_REPORTS locust-master <locust command...>`.
# Locust's exit code is kept as the container's once the reports are in the bucket.
_UPLOAD_REPORTS = f"""\
"$@"
code=$?
cp {_CONFIG_DIR}/run-config.json {REPORTS_DIR}/run-config.json
echo "$code" > {REPORTS_DIR}/{EXIT_CODE_FILE}
python -m idf_clients.gcp upload {REPORTS_DIR} "${REPORTS_URI_ENV}" --last {EXIT_CODE_FILE} || {{
  echo "locust exited with $code but its reports were not uploaded to ${REPORTS_URI_ENV}"
  exit {_UPLOAD_FAILED_EXIT}
}}
echo "locust exited with $code; reports uploaded to ${REPORTS_URI_ENV}"
exit "$code"
"""


def _pod_spec(
    image: str,
    command: list[str],
    *,
    cpu: str,
    memory: str,
    restart: str,
    ports: list[dict[str, Any]] | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    variables = {RUN_CONFIG_ENV: f"{_CONFIG_DIR}/run-config.json", **(env or {})}
    container: dict[str, Any] = {
        "name": "locust",
        "image": image,
        "command": command,
        "env": [{"name": name, "value": value} for name, value in variables.items()],
        "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": 1000,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "run-config", "mountPath": _CONFIG_DIR, "readOnly": True},
            {"name": "secrets", "mountPath": _SECRETS_DIR, "readOnly": True},
            {"name": "reports", "mountPath": REPORTS_DIR},
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - a pod-local emptyDir, not a shared /tmp
        ],
    }
    if ports:
        container["ports"] = ports
    return {
        "restartPolicy": restart,
        "serviceAccountName": SERVICE_ACCOUNT,
        "containers": [container],
        "volumes": [
            {"name": "run-config", "configMap": {"name": "locust-run-config"}},
            # The name of the Kubernetes Secret to mount, not a secret value.
            {"name": "secrets", "secret": {"secretName": MOUNTED_SECRET, "optional": True}},
            {"name": "reports", "emptyDir": {}},
            {"name": "tmp", "emptyDir": {}},
        ],
    }


def render_manifests(
    config: RunConfig, *, workers: int, image: str, reports_uri: str, gcp_service_account: str
) -> list[dict[str, Any]]:
    """Namespace, ServiceAccount (Workload Identity), ConfigMap, master Job, master Service, worker
    Deployment for one run whose master uploads its reports to `reports_uri` (gs://)."""
    profile = config.profile
    pod_config = config.model_copy(
        update={
            "hub_token_file": f"{_SECRETS_DIR}/hub-admin-token" if config.hub_token_file else None,
            "qserv": config.qserv.model_copy(update={"password_file": f"{_SECRETS_DIR}/qserv-password"}),
        }
    )
    locustfile = "/app/loadtests/locustfile.py"
    master_command = [
        "locust",
        "-f",
        locustfile,
        "--headless",
        "--master",
        "--expect-workers",
        str(workers),
        "--expect-workers-max-wait",
        "300",
        "--users",
        str(profile.users),
        "--spawn-rate",
        str(profile.spawn_rate_per_s),
        # No --run-time: the locustfile's master stops the workers gracefully at the profile's run time.
        "--stop-timeout",
        str(profile.stop_timeout_s),
        "--csv",
        f"{REPORTS_DIR}/locust",
        "--csv-full-history",
        "--html",
        f"{REPORTS_DIR}/report.html",
        "--only-summary",
    ]
    worker_command = [
        "locust",
        "-f",
        locustfile,
        "--worker",
        "--master-host",
        "locust-master",
        "--master-port",
        str(_MASTER_PORT),
    ]
    master_deadline_s = profile.run_time_s + profile.stop_timeout_s + _MASTER_SLACK_S
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": NAMESPACE, "labels": _labels("namespace")},
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {
                "name": SERVICE_ACCOUNT,
                "namespace": NAMESPACE,
                "labels": _labels("identity"),
                "annotations": {"iam.gke.io/gcp-service-account": gcp_service_account},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "locust-run-config", "namespace": NAMESPACE, "labels": _labels("config")},
            "data": {"run-config.json": pod_config.model_dump_json(indent=2, by_alias=True)},
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "locust-master", "namespace": NAMESPACE, "labels": _labels("master")},
            "spec": {
                "backoffLimit": 0,
                "activeDeadlineSeconds": master_deadline_s,
                "ttlSecondsAfterFinished": 86400,
                "template": {
                    "metadata": {"labels": _labels("master")},
                    "spec": _pod_spec(
                        image,
                        ["sh", "-c", _UPLOAD_REPORTS, "locust-master", *master_command],
                        cpu="1",
                        memory="2Gi",
                        restart="Never",
                        ports=[{"name": "locust-master", "containerPort": _MASTER_PORT}],
                        # The locustfile writes its statistics at shutdown here (build_summary's source).
                        env={
                            FINAL_STATS_ENV: f"{REPORTS_DIR}/final-stats.json",
                            REPORTS_URI_ENV: reports_uri,
                        },
                    ),
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "locust-master", "namespace": NAMESPACE, "labels": _labels("master")},
            "spec": {
                "selector": _labels("master"),
                "ports": [
                    {
                        "name": "locust-master",
                        "port": _MASTER_PORT,
                        "targetPort": _MASTER_PORT,
                        "protocol": "TCP",
                    }
                ],
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "locust-worker", "namespace": NAMESPACE, "labels": _labels("worker")},
            "spec": {
                "replicas": workers,
                "selector": {"matchLabels": _labels("worker")},
                "template": {
                    "metadata": {"labels": _labels("worker")},
                    # One core per worker: a worker whose CPU saturates goes "missing" (locust #1158).
                    "spec": _pod_spec(image, worker_command, cpu="1", memory="1Gi", restart="Always"),
                },
            },
        },
    ]


def validate_manifests(documents: list[dict[str, Any]], version: str = KUBERNETES_VERSION) -> None:
    """kubernetes-validate (strict) every document; OperationFailed names the first invalid one."""
    import kubernetes_validate

    for document in documents:
        name = f"{document.get('kind')}/{document.get('metadata', {}).get('name')}"
        if not document.get("metadata", {}).get("name"):
            raise OperationFailed(f"{name}: manifest without metadata.name")
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(part) for part in exc.path)
            raise OperationFailed(f"{name}: invalid manifest at {path or '(top)'}: {exc.message}") from exc


def write_manifests(documents: list[dict[str, Any]], out_dir: Path) -> Path:
    """One multi-document YAML file, ``locust-gke.yaml``, in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "locust-gke.yaml"
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return path
