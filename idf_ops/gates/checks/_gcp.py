"""The cloud (``kind: gcp``) side of the gate checks, through the Google and Kubernetes clients.

Each area module's check calls the function of the same name here when the stack is a cloud
stack; the local side stays in the area module. Every function reads the stack outputs, asks the
live APIs with timeouts from the gate's budget (:mod:`idf_clients.gcp`, :mod:`idf_clients.kube`)
and returns an :class:`Outcome` or raises :class:`CheckFailedError` with one reason per failure a
real cluster shows (pool not ready, pod crash-looping, application degraded or out of sync,
bucket public, no credentials). Credentials are Application Default Credentials only; without
them the reason is the command to run (:data:`idf_clients.gcp.ADC_LOGIN_COMMAND`).

Assumptions about the cluster (checked offline against recorded API responses only): Argo CD runs
in namespace ``argocd`` (Phalanx's) and qserv-operator in its own namespace, both where the program
installs them (:mod:`idf_core.facts`), Qserv in ``qserv`` (the stack config's default) with worker pods named
``<instance>-worker-<n>`` (the operator's StatefulSet naming).
"""

# ruff: noqa: PLC0415 - the Google and Kubernetes libraries are loaded only on cloud stacks

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from idf_core.errors import BadInput, OperationFailed
from idf_core.facts import ARGOCD_NAMESPACE, QSERV_OPERATOR_NAMESPACE
from idf_ops.gates.checks.base import Budget, CheckContext, CheckFailedError, Outcome, import_within

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

    from idf_clients.gcp import ClusterState, StorageClient
    from idf_clients.kube import KubeClient, PodState
    from idf_core.contract import StackOutputs

__all__ = [
    "ARGOCD_NAMESPACE",
    "QSERV_NAMESPACE",
    "QSERV_OPERATOR_NAMESPACE",
    "butler_preflight",
    "compute_ready",
    "database_reachable",
    "manifest_entry",
    "pods_ready",
    "qserv_workers",
    "storage_present",
]

QSERV_NAMESPACE = "qserv"
# The Qserv custom resource (infra.kubernetes.QSERV_API_VERSION).
_QSERV_GROUP, _QSERV_VERSION, _QSERV_PLURAL = "qserv.lsst.org", "v1beta1", "qservs"
# Client libraries of the cloud side, loaded (one at a time, base.import_within) once credentials
# exist, so that a machine without them gets the fix at once, not after seconds of imports.
_AUTH_MODULES = ("google.auth", "google.auth.transport.requests")
_KUBE_MODULES = ("google.cloud.container_v1", "kubernetes")
_STORAGE_MODULES = ("google.cloud.storage",)


@contextlib.contextmanager
def _reasons(evidence: list[str] | None = None) -> Iterator[None]:
    """Client errors (no credentials, API errors) become the gate's one-line reason."""
    try:
        yield
    except (OperationFailed, BadInput) as exc:
        raise CheckFailedError(str(exc), evidence or []) from exc


def _credentials(budget: Budget) -> Credentials:
    import_within(_AUTH_MODULES, budget)
    from idf_clients.gcp import default_credentials

    with _reasons():
        credentials, _ = default_credentials()
    return credentials


def _storage(budget: Budget) -> StorageClient:
    """A Cloud Storage client: ADC credentials, or anonymous on the Storage emulator (as
    google-cloud-storage itself does when ``STORAGE_EMULATOR_HOST`` is set)."""
    from idf_clients.gcp import STORAGE_EMULATOR_ENV, StorageClient

    credentials = None if os.environ.get(STORAGE_EMULATOR_ENV) else _credentials(budget)
    import_within(_STORAGE_MODULES, budget)
    with _reasons():
        return StorageClient(credentials)


def _project(out: StackOutputs) -> str:
    """The stack's GCP project (:func:`idf_clients.gcp.stack_project`)."""
    from idf_clients.gcp import stack_project

    with _reasons():
        project = stack_project(out)
    if not project:
        raise CheckFailedError(
            f"outputs of stack {out.stack!r} name no GCP project (science_platform.gcp_project or "
            "cloudsql_connection_name): regenerate them with `idf outputs pull`"
        )
    return project


def _cluster(out: StackOutputs, credentials: Credentials, budget: Budget) -> ClusterState:
    import_within(_KUBE_MODULES, budget)
    from idf_clients.gcp import ContainerClient

    if not out.cluster_name:
        raise CheckFailedError(f"outputs of stack {out.stack!r} lack cluster_name")
    project = _project(out)
    with _reasons():
        return ContainerClient(credentials, timeout_s=budget.remaining()).cluster(project, out.cluster_name)


def _kube(out: StackOutputs, budget: Budget) -> KubeClient:
    from idf_clients.kube import KubeClient

    credentials = _credentials(budget)
    cluster = _cluster(out, credentials, budget)
    with _reasons():
        return KubeClient.for_cluster(cluster, credentials, timeout_s=budget.remaining())


def compute_ready(ctx: CheckContext, budget: Budget) -> Outcome:
    """The cluster is RUNNING, every node pool of the outputs is RUNNING, and every Argo CD
    Application (Phalanx's app of apps and its children) is Synced and Healthy."""
    out = ctx.outputs
    credentials = _credentials(budget)
    cluster = _cluster(out, credentials, budget)
    evidence = [f"cluster {cluster.name} ({cluster.location}): {cluster.status}"]
    if cluster.status != "RUNNING":
        why = f": {cluster.status_message}" if cluster.status_message else ""
        raise CheckFailedError(f"cluster {cluster.name} is {cluster.status}, not RUNNING{why}", evidence)
    problems = []
    for pool in out.node_pools:
        status = cluster.pools.get(pool)
        evidence.append(f"node pool {pool}: {status or 'absent'}")
        if status is None:
            problems.append(f"node pool {pool} does not exist")
        elif status != "RUNNING":
            message = cluster.pool_messages.get(pool, "")
            problems.append(f"node pool {pool} is {status}" + (f" ({message})" if message else ""))
    if problems:
        raise CheckFailedError("; ".join(problems), evidence)
    from idf_clients.kube import KubeClient

    with _reasons(evidence):
        kube = KubeClient.for_cluster(cluster, credentials, timeout_s=budget.remaining())
        apps = kube.applications(ARGOCD_NAMESPACE)
    if not apps:
        raise CheckFailedError(
            f"no Argo CD Applications in namespace {ARGOCD_NAMESPACE}: Phalanx is not installed", evidence
        )
    for app in sorted(apps, key=lambda a: a.name):
        evidence.append(f"application {app.name}: {app.sync}/{app.health}")
        if (app.sync, app.health) != ("Synced", "Healthy"):
            why = f": {app.message}" if app.message else ""
            problems.append(f"Argo CD application {app.name} is {app.sync}/{app.health}{why}")
    if problems:
        raise CheckFailedError("; ".join(problems), evidence)
    return Outcome(
        f"cluster {cluster.name} and {len(out.node_pools)} node pools RUNNING; "
        f"{len(apps)} Argo CD applications Synced and Healthy",
        evidence,
    )


def _not_ready(pods: list[PodState]) -> list[str]:
    return [
        f"pod {pod.name} not Ready ({'; '.join(pod.reasons) or pod.phase})" for pod in pods if not pod.ready
    ]


def qserv_workers(ctx: CheckContext, budget: Budget) -> Outcome:
    """qserv-operator's pods are Ready, the ``Qserv`` resource exists, every Qserv pod is Ready and
    the Ready worker pods are as many as the outputs expect."""
    out = ctx.outputs
    kube = _kube(out, budget)
    evidence: list[str] = []
    with _reasons(evidence):
        operator = kube.pods(QSERV_OPERATOR_NAMESPACE)
    evidence.append(f"qserv-operator: {sum(p.ready for p in operator)}/{len(operator)} pods Ready")
    if not operator:
        raise CheckFailedError(f"no qserv-operator pods in namespace {QSERV_OPERATOR_NAMESPACE}", evidence)
    if problems := _not_ready(operator):
        raise CheckFailedError("qserv-operator: " + "; ".join(problems), evidence)
    with _reasons(evidence):
        instances = kube.custom_objects(_QSERV_GROUP, _QSERV_VERSION, QSERV_NAMESPACE, _QSERV_PLURAL)
        pods = kube.pods(QSERV_NAMESPACE)
    if not instances:
        raise CheckFailedError(f"no Qserv resource ({_QSERV_GROUP}) in namespace {QSERV_NAMESPACE}", evidence)
    names = [str(item.get("metadata", {}).get("name")) for item in instances]
    evidence.append(
        f"Qserv resources: {', '.join(names)}; {sum(p.ready for p in pods)}/{len(pods)} pods Ready"
    )
    if problems := _not_ready(pods):
        raise CheckFailedError("Qserv: " + "; ".join(problems), evidence)
    workers = [p for p in pods if any(f"{name}-worker-" in p.name for name in names)]
    evidence.append(f"worker pods Ready: {', '.join(p.name for p in workers) or 'none'}")
    if len(workers) != out.qserv.expected_workers:
        raise CheckFailedError(
            f"{len(workers)} Qserv worker pods Ready, the outputs expect {out.qserv.expected_workers}",
            evidence,
        )
    return Outcome(
        f"qserv-operator Ready; {len(workers)} of {out.qserv.expected_workers} Qserv workers Ready", evidence
    )


def _registry_connect_params(out: StackOutputs, host: str, budget: Budget) -> tuple[str, dict[str, Any]]:
    """(DSN, keyword parameters) for the registry at `host`: the operator DSN variable the outputs
    name, else the user-facing read-only Butler config (read from its gs:// URI) with its password
    from db-auth.yaml (lsst.utils DbAuth), as a user's Butler connects."""
    dsn = os.environ.get(out.postgres_dsn_env)
    if dsn:
        return dsn, {}
    import yaml

    from idf_clients.postgres import db_auth_params
    from idf_ops.gates.checks._common import db_auth_path

    auth_path = db_auth_path(out)
    if auth_path is None:
        raise CheckFailedError(
            f"no registry credentials: set ${out.postgres_dsn_env} to an operator DSN, or LSST_DB_AUTH "
            "to the db-auth.yaml of the user-facing Butler"
        )
    client = _storage(budget)
    with _reasons():
        config = yaml.safe_load(client.read_text(out.butler.readonly_config, timeout_s=budget.remaining()))
    url_text = ((config or {}).get("registry") or {}).get("db")
    if not url_text:
        raise CheckFailedError(f"{out.butler.readonly_config} names no registry.db")
    params = db_auth_params(url_text, auth_path)
    return "", {**params, "host": host}


def database_reachable(ctx: CheckContext, budget: Budget) -> Outcome:
    """The Cloud SQL instance is RUNNABLE with a private address (the one the outputs publish), and
    the registry database answers a query there."""
    from idf_clients.gcp import CloudSqlAdminClient, parse_connection_name
    from idf_clients.postgres import PostgresUnavailable, connect_within, query_one

    out = ctx.outputs
    if not out.cloudsql_connection_name:
        raise CheckFailedError(f"outputs of stack {out.stack!r} lack cloudsql_connection_name")
    with _reasons():
        project, _, instance_name = parse_connection_name(out.cloudsql_connection_name)
    credentials = _credentials(budget)
    with _reasons():
        instance = CloudSqlAdminClient(credentials, timeout_s=budget.remaining()).instance(
            project, instance_name
        )
    evidence = [f"Cloud SQL {out.cloudsql_connection_name}: {instance.state} ({instance.database_version})"]
    if instance.state != "RUNNABLE":
        raise CheckFailedError(
            f"Cloud SQL instance {instance_name} is {instance.state}, not RUNNABLE", evidence
        )
    if instance.private_address is None:
        raise CheckFailedError(f"Cloud SQL instance {instance_name} has no private address", evidence)
    evidence.append(
        f"private address {instance.private_address} (public IPv4 {instance.public_ipv4_enabled})"
    )
    if instance.private_address != out.butler.registry_host:
        raise CheckFailedError(
            f"the outputs publish registry_host {out.butler.registry_host}, but Cloud SQL's private "
            f"address is {instance.private_address}: regenerate the stack outputs",
            evidence,
        )
    dsn, params = _registry_connect_params(out, instance.private_address, budget)
    where = f"{instance.private_address}:{out.butler.registry_port}"
    params.setdefault("port", out.butler.registry_port)
    params.setdefault("dbname", out.butler.registry_database)
    try:
        with connect_within(dsn, timeout_s=budget.remaining(), where=where, **params) as conn:
            database, version = query_one(conn, "SELECT current_database(), version()")
    except PostgresUnavailable as exc:
        raise CheckFailedError(str(exc), evidence) from exc
    evidence += [f"database={database}", str(version).split(",")[0]]
    return Outcome(f"Cloud SQL {instance_name} RUNNABLE; the registry answers on {where}", evidence)


def storage_present(ctx: CheckContext, budget: Budget) -> Outcome:
    """Every bucket of the outputs exists, with public access prevention enforced, uniform
    bucket-level access and no public IAM member."""
    out = ctx.outputs
    if not out.buckets:
        raise CheckFailedError(f"outputs of stack {out.stack!r} name no buckets")
    evidence: list[str] = []
    problems = []
    client = _storage(budget)
    with _reasons(evidence):
        states = {
            role: client.bucket_state(name, timeout_s=budget.remaining())
            for role, name in sorted(out.buckets.items())
        }
    for role, state in states.items():
        if not state.exists:
            problems.append(f"bucket {state.name} ({role}) does not exist")
            evidence.append(f"{role}: {state.name} absent")
            continue
        evidence.append(
            f"{role}: {state.name} publicAccessPrevention={state.public_access_prevention} "
            f"uniform={state.uniform_access} public members={','.join(state.public_members) or 'none'}"
        )
        if state.public_members:
            problems.append(f"bucket {state.name} is public: IAM grants {', '.join(state.public_members)}")
        if state.public_access_prevention != "enforced":
            problems.append(
                f"bucket {state.name}: public access prevention is "
                f"{state.public_access_prevention!r}, not 'enforced'"
            )
        if not state.uniform_access:
            problems.append(f"bucket {state.name}: uniform bucket-level access is off")
    if problems:
        raise CheckFailedError("; ".join(problems), evidence)
    return Outcome(f"{len(states)} buckets present, public access prevention enforced, none public", evidence)


def butler_preflight(ctx: CheckContext, budget: Budget) -> None:
    """Before a gs:// Butler opens: credentials for Cloud Storage exist (else the ADC command) and
    its client is loaded (lsst-resources reads gs:// URIs with google-cloud-storage)."""
    if ctx.outputs.butler.readonly_config.startswith("gs://"):
        _storage(budget)


def manifest_entry(uri: str, table: str, budget: Budget) -> Any:
    """One table's record of the load manifest published at a gs:// URI (the ingest's)."""
    import json

    from pydantic import ValidationError

    from idf_ops.catalogs.load import LoadManifest

    client = _storage(budget)
    with _reasons():
        text = client.read_text(uri, timeout_s=budget.remaining())
    try:
        manifest = LoadManifest.model_validate(json.loads(text))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise CheckFailedError(f"{uri}: not a valid load manifest ({str(exc).splitlines()[0]})") from exc
    entry = manifest.tables.get(table)
    if entry is None:
        raise CheckFailedError(f"load manifest {uri} has no entry for table {table}")
    return entry


def pods_ready(ctx: CheckContext, budget: Budget, namespace: str, what: str) -> Outcome:
    """Every pod of a namespace is Ready, and there is at least one (e.g. the HTCondor pool on dp02)."""
    kube = _kube(ctx.outputs, budget)
    evidence: list[str] = []
    with _reasons(evidence):
        pods = kube.pods(namespace)
    evidence.append(f"{what}: {sum(p.ready for p in pods)}/{len(pods)} pods Ready in namespace {namespace}")
    if not pods:
        raise CheckFailedError(f"no pods in namespace {namespace} ({what})", evidence)
    if problems := _not_ready(pods):
        raise CheckFailedError(f"{what}: " + "; ".join(problems), evidence)
    return Outcome(f"{what} Ready", evidence)
