"""The Kubernetes API of a stack's GKE cluster, through the official ``kubernetes`` client.

Built from what the Container API says about the cluster (:class:`idf_clients.gcp.ClusterState`:
control-plane endpoint and CA) and a bearer token of the caller's Application Default Credentials,
as ``gke-gcloud-auth-plugin`` does, so no kubeconfig or gcloud is needed. ``IDF_KUBERNETES_API``
overrides the address (tests serve recorded API responses there).

Returns small typed states (pods, Argo CD Applications, Jobs), never the library's objects.
"""

from __future__ import annotations

import base64
import os
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from idf_core.errors import BadInput, OperationFailed

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

    from idf_clients.gcp import ClusterState
    from idf_core.contract import StackOutputs

__all__ = [
    "KUBERNETES_API_ENV",
    "ArgoApplication",
    "JobState",
    "KubeClient",
    "KubeError",
    "PodState",
]

KUBERNETES_API_ENV = "IDF_KUBERNETES_API"
# Argo CD's Application custom resource (argoproj.io/v1alpha1, plural applications).
_ARGO_GROUP, _ARGO_VERSION, _ARGO_PLURAL = "argoproj.io", "v1alpha1", "applications"


class KubeError(OperationFailed):
    """The Kubernetes API refused or did not answer: names the request and why."""


@dataclass(frozen=True)
class PodState:
    """One pod: its phase, whether it is Ready, and why not (container waiting reasons)."""

    name: str
    phase: str
    ready: bool
    reasons: tuple[str, ...] = ()  # e.g. "locust: CrashLoopBackOff (back-off 5m0s restarting ...)"
    restarts: int = 0


@dataclass(frozen=True)
class ArgoApplication:
    """An Argo CD Application's sync and health status."""

    name: str
    sync: str  # Synced, OutOfSync, Unknown
    health: str  # Healthy, Progressing, Degraded, Suspended, Missing, Unknown
    message: str = ""


@dataclass(frozen=True)
class JobState:
    """A Job's counters and its terminal condition, if any."""

    name: str
    active: int
    succeeded: int
    failed: int
    condition: str | None = None  # Complete or Failed once the Job has ended
    message: str = ""
    pods: list[PodState] = field(default_factory=list)


def _why(exc: BaseException) -> str:
    status = getattr(exc, "status", None)
    reason = getattr(exc, "reason", None)
    if status:
        return f"HTTP {status} {reason or ''}".strip()
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _bearer_token(credentials: Credentials) -> str | None:
    from google.auth.credentials import AnonymousCredentials  # noqa: PLC0415
    from google.auth.transport.requests import Request  # noqa: PLC0415

    if isinstance(credentials, AnonymousCredentials):
        return None
    if not credentials.valid:
        credentials.refresh(Request())
    return str(credentials.token)


class KubeClient:
    """CoreV1, BatchV1 and custom objects of one cluster, every call bounded by ``timeout_s``."""

    def __init__(
        self, host: str, *, token: str | None = None, ca_pem: bytes | None = None, timeout_s: float = 10.0
    ) -> None:
        import kubernetes  # noqa: PLC0415 - loaded only by the cloud paths

        configuration = kubernetes.client.Configuration()
        configuration.host = host
        if token:
            configuration.api_key = {"authorization": token}
            configuration.api_key_prefix = {"authorization": "Bearer"}
        if ca_pem:
            # The client takes a CA *file*; kept for the process's life (a public certificate).
            with tempfile.NamedTemporaryFile("wb", suffix=".crt", delete=False) as handle:
                handle.write(ca_pem)
            configuration.ssl_ca_cert = handle.name
        self.host = host
        self.timeout_s = timeout_s
        self._api = kubernetes.client.ApiClient(configuration)
        self._core = kubernetes.client.CoreV1Api(self._api)
        self._batch = kubernetes.client.BatchV1Api(self._api)
        self._custom = kubernetes.client.CustomObjectsApi(self._api)

    @classmethod
    def for_cluster(
        cls, cluster: ClusterState, credentials: Credentials, *, timeout_s: float = 10.0
    ) -> KubeClient:
        """A client of the cluster's control plane (``IDF_KUBERNETES_API`` overrides its address)."""
        override = os.environ.get(KUBERNETES_API_ENV)
        if override:
            return cls(override.rstrip("/"), token=_bearer_token(credentials), timeout_s=timeout_s)
        if not cluster.endpoint:
            raise KubeError(
                f"cluster {cluster.name} has no control-plane endpoint yet (status {cluster.status})"
            )
        ca_pem = base64.b64decode(cluster.ca_certificate) if cluster.ca_certificate else None
        return cls(
            f"https://{cluster.endpoint}",
            token=_bearer_token(credentials),
            ca_pem=ca_pem,
            timeout_s=timeout_s,
        )

    @classmethod
    def for_stack(
        cls, outputs: StackOutputs, credentials: Credentials, project: str, *, timeout_s: float = 30.0
    ) -> KubeClient:
        """A client of the cluster a stack's outputs name (``cluster_name`` in ``project``)."""
        from idf_clients.gcp import ContainerClient  # noqa: PLC0415 - loaded only by the cloud paths

        if not outputs.cluster_name:
            raise BadInput(f"stack {outputs.stack}: its outputs name no cluster_name")
        cluster = ContainerClient(credentials).cluster(project, outputs.cluster_name)
        return cls.for_cluster(cluster, credentials, timeout_s=timeout_s)

    def _call(self, what: str, function: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, _request_timeout=self.timeout_s, **kwargs)
        except Exception as exc:
            raise KubeError(f"Kubernetes API {self.host}: {what} failed ({_why(exc)})") from exc

    # --- reads ------------------------------------------------------------------------------------

    def pods(self, namespace: str, label_selector: str | None = None) -> list[PodState]:
        """The pods of a namespace (optionally selected by labels), with readiness and reasons."""
        answer = self._call(
            f"listing pods in {namespace}", self._core.list_namespaced_pod, namespace,
            label_selector=label_selector or "",
        )  # fmt: skip
        return [_pod_state(pod) for pod in answer.items]

    def applications(self, namespace: str) -> list[ArgoApplication]:
        """Argo CD Applications of a namespace with their sync and health status."""
        answer = self._call(
            f"listing Argo CD applications in {namespace}",
            self._custom.list_namespaced_custom_object,
            _ARGO_GROUP, _ARGO_VERSION, namespace, _ARGO_PLURAL,
        )  # fmt: skip
        apps = []
        for item in answer.get("items", []):
            status = item.get("status") or {}
            health = status.get("health") or {}
            conditions = status.get("conditions") or []
            message = health.get("message") or "; ".join(str(c.get("message", "")) for c in conditions)
            apps.append(
                ArgoApplication(
                    name=str(item.get("metadata", {}).get("name", "?")),
                    sync=str((status.get("sync") or {}).get("status", "Unknown")),
                    health=str(health.get("status", "Unknown")),
                    message=" ".join(message.split())[:200],
                )
            )
        return apps

    def custom_objects(self, group: str, version: str, namespace: str, plural: str) -> list[dict[str, Any]]:
        """Custom objects of one kind in a namespace, as the API returns them."""
        answer = self._call(
            f"listing {plural}.{group} in {namespace}",
            self._custom.list_namespaced_custom_object, group, version, namespace, plural,
        )  # fmt: skip
        return list(answer.get("items", []))

    def job(self, namespace: str, name: str, pod_selector: str | None = None) -> JobState:
        """A Job's status, with its pods when a selector is given."""
        answer = self._call(
            f"reading job {namespace}/{name}", self._batch.read_namespaced_job_status, name, namespace
        )
        status = answer.status
        condition, message = None, ""
        for cond in status.conditions or []:
            if cond.type in ("Complete", "Failed") and cond.status == "True":
                condition, message = cond.type, cond.message or cond.reason or ""
        return JobState(
            name=name,
            active=status.active or 0,
            succeeded=status.succeeded or 0,
            failed=status.failed or 0,
            condition=condition,
            message=message,
            pods=self.pods(namespace, pod_selector) if pod_selector else [],
        )

    def pod_proxy_get(self, namespace: str, pod: str, port: int, path: str) -> bytes:
        """``GET path`` of a pod's HTTP port through the API server's pod proxy (the caller's own
        credentials; nothing of the cluster is exposed), the body as bytes.

        Called through ``call_api`` rather than ``connect_get_namespaced_pod_proxy_with_path``:
        that method quotes the path's slashes into one segment (``ingest%2Ftable-stats%2F...``);
        this sends the path as written, as ``kubectl get --raw`` does."""
        resource = f"/api/v1/namespaces/{{namespace}}/pods/{{name}}/proxy/{path.lstrip('/')}"
        answer = self._call(
            f"GET {path} of pod {namespace}/{pod}:{port}",
            self._api.call_api,
            resource,
            "GET",
            path_params={"namespace": namespace, "name": f"{pod}:{port}"},
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
            _preload_content=False,
            _return_http_data_only=True,
        )
        return bytes(answer.data)

    # --- writes -----------------------------------------------------------------------------------

    def create(self, documents: list[dict[str, Any]]) -> list[str]:
        """Create each manifest (kubernetes.utils); an existing Namespace is kept, anything else that
        exists already is an error naming it. Returns ``kind/name`` of what was created."""
        from kubernetes import utils  # noqa: PLC0415

        created = []
        for document in documents:
            kind, name = document.get("kind"), document.get("metadata", {}).get("name")
            try:
                utils.create_from_dict(self._api, document, _request_timeout=self.timeout_s)
            except utils.FailToCreateError as exc:
                statuses = [getattr(err, "status", None) for err in exc.api_exceptions]
                if kind == "Namespace" and statuses == [409]:
                    continue
                raise KubeError(
                    f"Kubernetes API {self.host}: creating {kind}/{name} failed "
                    f"({'; '.join(_why(err) for err in exc.api_exceptions)})"
                ) from exc
            except Exception as exc:
                raise KubeError(
                    f"Kubernetes API {self.host}: creating {kind}/{name} failed ({_why(exc)})"
                ) from exc
            created.append(f"{kind}/{name}")
        return created

    def delete_namespace(self, namespace: str) -> None:
        """Delete a namespace and everything in it (absent already: fine)."""
        try:
            self._core.delete_namespace(namespace, _request_timeout=self.timeout_s)
        except Exception as exc:
            if getattr(exc, "status", None) == 404:
                return
            raise KubeError(
                f"Kubernetes API {self.host}: deleting namespace {namespace} failed ({_why(exc)})"
            ) from exc


def _pod_state(pod: Any) -> PodState:
    status = pod.status
    ready = any(c.type == "Ready" and c.status == "True" for c in (status.conditions or []))
    reasons, restarts = [], 0
    for container in status.container_statuses or []:
        restarts += container.restart_count or 0
        state = container.state
        if state is not None and state.waiting is not None and state.waiting.reason:
            detail = (
                f" ({' '.join((state.waiting.message or '').split())[:120]})" if state.waiting.message else ""
            )
            reasons.append(f"{container.name}: {state.waiting.reason}{detail}")
        elif state is not None and state.terminated is not None and state.terminated.reason:
            reasons.append(
                f"{container.name}: terminated {state.terminated.reason} (exit {state.terminated.exit_code})"
            )
    if not reasons and not ready and status.phase == "Pending":
        for cond in status.conditions or []:
            if cond.status != "True" and cond.reason:
                reasons.append(f"{cond.type}: {cond.reason} {cond.message or ''}".strip())
    return PodState(
        name=pod.metadata.name,
        phase=status.phase or "Unknown",
        ready=ready,
        reasons=tuple(reasons),
        restarts=restarts,
    )
