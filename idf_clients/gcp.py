"""Google Cloud: credentials (Application Default Credentials), GKE, Cloud SQL Admin and Cloud Storage.

One client per Google API, each returning small typed states of the fields the gates and the
load tests use (never the library's objects past this module):

- :class:`ContainerClient`: the GKE cluster and its node pools (``google-cloud-container``);
- :class:`CloudSqlAdminClient`: the Cloud SQL instance's state and addresses (Cloud SQL Admin API
  v1 over an ``AuthorizedSession`` of ``google-auth``: Google publishes no Cloud SQL Admin client
  library for Python besides the discovery-based ``google-api-python-client``, ~100 MB for one GET);
- :class:`StorageClient`: buckets (presence, public access prevention, IAM members) and the
  objects of a prefix (``google-cloud-storage``).

Credentials come from Application Default Credentials only; without them every client raises
:class:`NoCredentials`, whose message is the command that fixes it. Endpoints are Google's unless
overridden the way the libraries are: ``STORAGE_EMULATOR_HOST`` for Cloud Storage (the library's
own variable; the emulator takes anonymous credentials, as google-cloud-storage does), and
``IDF_CONTAINER_API_ENDPOINT`` / ``IDF_SQLADMIN_API_ENDPOINT`` for the other two (tests serve
recorded API responses there). Nothing here has talked to GCP from the development machines.

Run in a pod (the load-test master): ``python -m idf_clients.gcp upload DIR gs://BUCKET/PREFIX``
uploads a folder's files, the file named by ``--last`` after all others.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from idf_core.errors import BadInput, OperationFailed

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

    from idf_core.contract import StackOutputs

__all__ = [
    "ADC_LOGIN_COMMAND",
    "CONTAINER_API_ENV",
    "SQLADMIN_API_ENV",
    "STORAGE_EMULATOR_ENV",
    "BucketState",
    "CloudSqlAdminClient",
    "ClusterState",
    "ContainerClient",
    "GcpApiError",
    "NoCredentials",
    "SqlInstanceState",
    "StorageClient",
    "default_credentials",
    "parse_connection_name",
    "split_gs_uri",
    "stack_credentials",
    "stack_project",
]

ADC_LOGIN_COMMAND = "gcloud auth application-default login"
CONTAINER_API_ENV = "IDF_CONTAINER_API_ENDPOINT"
SQLADMIN_API_ENV = "IDF_SQLADMIN_API_ENDPOINT"
STORAGE_EMULATOR_ENV = "STORAGE_EMULATOR_HOST"
_CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
_SQLADMIN_DEFAULT = "https://sqladmin.googleapis.com"
# IAM members that make a bucket public (Cloud Storage IAM documentation).
_PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})


class NoCredentials(OperationFailed):
    """No Application Default Credentials on this machine; the message says how to create them."""


class GcpApiError(OperationFailed):
    """A Google API answered with an error, or did not answer: names the API, the resource and why."""


def default_credentials() -> tuple[Credentials, str | None]:
    """(credentials, project) from Application Default Credentials, or :class:`NoCredentials`."""
    import google.auth  # noqa: PLC0415 - loaded only by the cloud paths
    from google.auth.exceptions import DefaultCredentialsError  # noqa: PLC0415

    try:
        credentials, project = google.auth.default(scopes=[_CLOUD_PLATFORM_SCOPE])
    except DefaultCredentialsError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NoCredentials(
            f"no Google Application Default Credentials on this machine ({first[:160]}); "
            f"run `{ADC_LOGIN_COMMAND}` (or set GOOGLE_APPLICATION_CREDENTIALS to a key file), then retry"
        ) from exc
    return credentials, project


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def parse_connection_name(connection_name: str) -> tuple[str, str, str]:
    """(project, region, instance) of a Cloud SQL connection name ``project:region:instance``."""
    parts = connection_name.split(":")
    if len(parts) != 3 or not all(parts):
        raise BadInput(
            f"Cloud SQL connection name {connection_name!r} is not project:region:instance; "
            "regenerate the stack outputs"
        )
    return parts[0], parts[1], parts[2]


def stack_project(outputs: StackOutputs, default: str | None = None) -> str | None:
    """A cloud stack's GCP project from its outputs: the Science Platform's ``gcp_project``, else
    the project of its Cloud SQL connection name, else `default` (e.g. the ADC project)."""
    platform = getattr(outputs, "science_platform", None)
    if platform is not None and getattr(platform, "gcp_project", None):
        return str(platform.gcp_project)
    if outputs.cloudsql_connection_name:
        return parse_connection_name(outputs.cloudsql_connection_name)[0]
    return default


def stack_credentials(outputs: StackOutputs) -> tuple[Credentials, str]:
    """ADC credentials and the stack's project (from its outputs, else the credentials')."""
    credentials, adc_project = default_credentials()
    project = stack_project(outputs, adc_project)
    if not project:
        raise BadInput(
            f"stack {outputs.stack}: its outputs name no GCP project and the credentials carry none; "
            "run `gcloud config set project <id>` or regenerate the outputs"
        )
    return credentials, project


def split_gs_uri(uri: str) -> tuple[str, str]:
    """(bucket, object path) of a ``gs://bucket/path`` URI."""
    if not uri.startswith("gs://") or not uri[5:].split("/", 1)[0]:
        raise BadInput(f"{uri!r} is not a gs://bucket/path URI")
    bucket, _, path = uri[5:].partition("/")
    return bucket, path


# --- GKE ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterState:
    """What the Container API says about one cluster (the fields the gates use)."""

    name: str
    location: str
    status: str  # RUNNING, PROVISIONING, RECONCILING, DEGRADED, ERROR, STOPPING
    status_message: str
    endpoint: str  # the control plane's address (private endpoint on private clusters)
    ca_certificate: str  # base64 PEM, as masterAuth.clusterCaCertificate
    pools: dict[str, str] = field(default_factory=dict)  # pool name -> status
    pool_messages: dict[str, str] = field(default_factory=dict)


class ContainerClient:
    """The GKE (Container) API, REST transport: list the project's clusters, find one by name."""

    def __init__(self, credentials: Credentials, *, timeout_s: float = 10.0) -> None:
        from google.cloud import container_v1  # noqa: PLC0415 - loaded only by the cloud paths

        options: dict[str, Any] = {}
        if os.environ.get(CONTAINER_API_ENV):
            options["api_endpoint"] = os.environ[CONTAINER_API_ENV].rstrip("/")
        self._client = container_v1.ClusterManagerClient(
            credentials=credentials, transport="rest", client_options=options or None
        )
        self.timeout_s = timeout_s

    def cluster(self, project: str, name: str) -> ClusterState:
        """The cluster `name` of `project`, in any location (``locations/-``), or GcpApiError."""
        parent = f"projects/{project}/locations/-"
        try:
            answer = self._client.list_clusters(parent=parent, timeout=self.timeout_s)
        except Exception as exc:
            raise GcpApiError(f"GKE API: listing clusters of {parent} failed ({_reason(exc)})") from exc
        for cluster in answer.clusters:
            if cluster.name == name:
                return ClusterState(
                    name=cluster.name,
                    location=cluster.location,
                    status=cluster.status.name,
                    status_message=cluster.status_message,
                    endpoint=cluster.private_cluster_config.private_endpoint or cluster.endpoint,
                    ca_certificate=cluster.master_auth.cluster_ca_certificate,
                    pools={pool.name: pool.status.name for pool in cluster.node_pools},
                    pool_messages={
                        pool.name: pool.status_message for pool in cluster.node_pools if pool.status_message
                    },
                )
        names = ", ".join(sorted(c.name for c in answer.clusters)) or "none"
        raise GcpApiError(f"GKE API: no cluster {name!r} in project {project} (clusters there: {names})")


# --- Cloud SQL ------------------------------------------------------------------------------------


class _IpMapping(BaseModel):
    # Reads an API response: fields we do not use are ignored, not refused.
    model_config = ConfigDict(extra="ignore")
    type: str = Field(title="Type", description="PRIMARY (public), PRIVATE or OUTGOING.")
    ip_address: str = Field(alias="ipAddress", title="Address", description="The IP address.")


class _IpConfiguration(BaseModel):
    model_config = ConfigDict(extra="ignore")
    ipv4_enabled: bool = Field(default=False, alias="ipv4Enabled", title="Public IPv4", description="")


class _Settings(BaseModel):
    model_config = ConfigDict(extra="ignore")
    ip_configuration: _IpConfiguration = Field(
        default_factory=_IpConfiguration, alias="ipConfiguration", title="IP", description=""
    )


class _SqlInstance(BaseModel):
    """The fields of a Cloud SQL Admin API v1 ``DatabaseInstance`` that the gates use."""

    model_config = ConfigDict(extra="ignore")
    name: str = Field(title="Name", description="Instance name.")
    state: str = Field(title="State", description="RUNNABLE, SUSPENDED, PENDING_CREATE, MAINTENANCE, ...")
    database_version: str = Field(alias="databaseVersion", title="Version", description="e.g. POSTGRES_15.")
    ip_addresses: list[_IpMapping] = Field(
        default_factory=list, alias="ipAddresses", title="Addresses", description=""
    )
    settings: _Settings = Field(default_factory=_Settings, title="Settings", description="")


@dataclass(frozen=True)
class SqlInstanceState:
    """A Cloud SQL instance as the Admin API reports it."""

    name: str
    state: str
    database_version: str
    private_address: str | None
    public_ipv4_enabled: bool


class CloudSqlAdminClient:
    """Cloud SQL Admin API v1: ``GET projects/{project}/instances/{instance}``."""

    def __init__(self, credentials: Credentials, *, timeout_s: float = 10.0) -> None:
        from google.auth.transport.requests import AuthorizedSession  # noqa: PLC0415

        self._session = AuthorizedSession(credentials)
        self._base = os.environ.get(SQLADMIN_API_ENV, _SQLADMIN_DEFAULT).rstrip("/")
        self.timeout_s = timeout_s

    def instance(self, project: str, instance: str) -> SqlInstanceState:
        """The instance's state and addresses, or GcpApiError."""
        url = f"{self._base}/v1/projects/{project}/instances/{instance}"
        try:
            response = self._session.get(url, timeout=self.timeout_s)
        except Exception as exc:
            raise GcpApiError(f"Cloud SQL Admin API: GET {url} failed ({_reason(exc)})") from exc
        if response.status_code != 200:
            message = response.text[:200]
            with contextlib.suppress(ValueError, KeyError, TypeError):
                message = response.json()["error"]["message"]
            raise GcpApiError(
                f"Cloud SQL Admin API: instance {project}:{instance}: HTTP {response.status_code} {message}"
            )
        try:
            parsed = _SqlInstance.model_validate(response.json())
        except (ValueError, ValidationError) as exc:
            raise GcpApiError(
                f"Cloud SQL Admin API: unexpected answer for {instance} ({_reason(exc)})"
            ) from exc
        private = next((ip.ip_address for ip in parsed.ip_addresses if ip.type == "PRIVATE"), None)
        return SqlInstanceState(
            name=parsed.name,
            state=parsed.state,
            database_version=parsed.database_version,
            private_address=private,
            public_ipv4_enabled=parsed.settings.ip_configuration.ipv4_enabled,
        )


# --- Cloud Storage --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BucketState:
    """A bucket's presence and the settings that keep it private."""

    name: str
    exists: bool
    public_access_prevention: str | None = None  # "enforced" or "inherited"
    uniform_access: bool | None = None
    public_members: tuple[str, ...] = ()  # IAM members that make it public (allUsers, ...)


class StorageClient:
    """Cloud Storage through google-cloud-storage (or its emulator, ``STORAGE_EMULATOR_HOST``)."""

    def __init__(self, credentials: Credentials | None = None, project: str | None = None) -> None:
        # Imported as a module path: google.cloud is a namespace package mypy cannot see into here.
        import google.cloud.storage  # noqa: PLC0415 - loaded only by the cloud paths

        if os.environ.get(STORAGE_EMULATOR_ENV):
            # The library's own rule for its emulator: anonymous, no project lookup.
            from google.auth.credentials import AnonymousCredentials  # noqa: PLC0415

            self._client = google.cloud.storage.Client(
                credentials=AnonymousCredentials(), project=project or "emulator"
            )
        else:
            if credentials is None:
                credentials, default_project = default_credentials()
                project = project or default_project
            self._client = google.cloud.storage.Client(credentials=credentials, project=project)

    @property
    def library_client(self) -> Any:
        """The google-cloud-storage client (for lsst-resources-free callers that need more)."""
        return self._client

    def bucket_state(self, name: str, *, timeout_s: float = 10.0) -> BucketState:
        """Presence, public access prevention, uniform access and public IAM members of a bucket."""
        from google.api_core import exceptions  # noqa: PLC0415

        try:
            bucket = self._client.get_bucket(name, timeout=timeout_s)
        except exceptions.NotFound:
            return BucketState(name=name, exists=False)
        except Exception as exc:
            raise GcpApiError(f"Cloud Storage: GET bucket {name} failed ({_reason(exc)})") from exc
        try:
            policy = bucket.get_iam_policy(requested_policy_version=3, timeout=timeout_s)
        except Exception as exc:
            raise GcpApiError(f"Cloud Storage: IAM policy of bucket {name} ({_reason(exc)})") from exc
        public = sorted(
            {member for binding in policy.bindings for member in binding.get("members", ())} & _PUBLIC_MEMBERS
        )
        iam = bucket.iam_configuration
        return BucketState(
            name=name,
            exists=True,
            public_access_prevention=iam.public_access_prevention,
            uniform_access=bool(iam.uniform_bucket_level_access_enabled),
            public_members=tuple(public),
        )

    def read_text(self, uri: str, *, timeout_s: float = 10.0) -> str:
        """The text of object ``gs://bucket/path``, or GcpApiError (NotFound says so)."""
        bucket, path = split_gs_uri(uri)
        try:
            return str(self._client.bucket(bucket).blob(path).download_as_text(timeout=timeout_s))
        except Exception as exc:
            raise GcpApiError(f"Cloud Storage: reading {uri} failed ({_reason(exc)})") from exc

    def list_names(self, uri: str, *, timeout_s: float = 10.0) -> list[str]:
        """Object names (relative to the prefix) under ``gs://bucket/prefix/``."""
        bucket, prefix = split_gs_uri(uri)
        prefix = prefix.rstrip("/") + "/" if prefix else ""
        try:
            blobs = self._client.list_blobs(bucket, prefix=prefix, timeout=timeout_s)
            return sorted(blob.name[len(prefix) :] for blob in blobs)
        except Exception as exc:
            raise GcpApiError(f"Cloud Storage: listing {uri} failed ({_reason(exc)})") from exc

    def download_prefix(self, uri: str, target: Path, *, timeout_s: float = 60.0) -> list[Path]:
        """Download every object under ``gs://bucket/prefix/`` into `target` (same relative names)."""
        bucket_name, prefix = split_gs_uri(uri)
        prefix = prefix.rstrip("/") + "/" if prefix else ""
        written = []
        bucket = self._client.bucket(bucket_name)
        for name in self.list_names(uri, timeout_s=timeout_s):
            destination = target / name
            if not destination.resolve().is_relative_to(target.resolve()):
                raise GcpApiError(f"Cloud Storage: object {prefix}{name} would land outside {target}")
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                bucket.blob(prefix + name).download_to_filename(str(destination), timeout=timeout_s)
            except Exception as exc:
                raise GcpApiError(f"Cloud Storage: downloading {uri}/{name} failed ({_reason(exc)})") from exc
            written.append(destination)
        return written

    def delete(self, uri: str, *, timeout_s: float = 10.0) -> bool:
        """Delete object ``gs://bucket/path``; False when there was none."""
        from google.api_core import exceptions  # noqa: PLC0415

        bucket, path = split_gs_uri(uri)
        try:
            self._client.bucket(bucket).blob(path).delete(timeout=timeout_s)
        except exceptions.NotFound:
            return False
        except Exception as exc:
            raise GcpApiError(f"Cloud Storage: deleting {uri} failed ({_reason(exc)})") from exc
        return True

    def upload_dir(self, folder: Path, uri: str, *, last: str | None = None, timeout_s: float = 60.0) -> int:
        """Upload every file under `folder` to ``gs://bucket/prefix/``; `last` (a relative name) goes
        last, so that its presence means the rest is complete. Returns the number of files."""
        bucket_name, prefix = split_gs_uri(uri)
        prefix = prefix.rstrip("/") + "/" if prefix else ""
        bucket = self._client.bucket(bucket_name)
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        ordered = [p for p in files if p.relative_to(folder).as_posix() != last]
        ordered += [p for p in files if p.relative_to(folder).as_posix() == last]
        for path in ordered:
            name = prefix + path.relative_to(folder).as_posix()
            try:
                bucket.blob(name).upload_from_filename(str(path), timeout=timeout_s)
            except Exception as exc:
                raise GcpApiError(f"Cloud Storage: uploading {path} to gs://{bucket_name}/{name} failed "
                                  f"({_reason(exc)})") from exc  # fmt: skip
        return len(ordered)


def _iter_main(argv: list[str]) -> Iterator[str]:
    parser = argparse.ArgumentParser(prog="python -m idf_clients.gcp")
    commands = parser.add_subparsers(dest="command", required=True)
    upload = commands.add_parser("upload", help="upload a folder's files to gs://bucket/prefix")
    upload.add_argument("folder", type=Path)
    upload.add_argument("uri")
    upload.add_argument("--last", default=None, help="relative name of the file to upload last")
    args = parser.parse_args(argv)
    count = StorageClient().upload_dir(args.folder, args.uri, last=args.last)
    yield f"uploaded {count} files from {args.folder} to {args.uri}"


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m idf_clients.gcp``: 0 on success, 1 with one line on failure."""
    try:
        for line in _iter_main(sys.argv[1:] if argv is None else argv):
            print(line)
    except (BadInput, OperationFailed) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
