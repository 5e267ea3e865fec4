"""The stack outputs contract: where Ansible, load tests and readiness gates meet the stacks.

Every stack, cloud or local, publishes one :class:`StackOutputs` document. Producers:

- cloud stacks (``dev``, ``dp01``, ``dp02``, ``qserv-scale75``): the Pulumi program's exports,
  written to ``var/stacks/<stack>/outputs.json`` by ``idf plan`` (offline, mock values, marked
  ``offline_plan: true``) or read from ``pulumi stack output --json`` with a real CLI;
- the local stack: ``idf local up`` writes ``var/stacks/local/outputs.json``.

Consumers read it only through :func:`load_outputs`; no tool reads another tool's internals.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from idf_core.errors import BadInput
from idf_core.paths import state_path, validate_stack_name

__all__ = [
    "PROGRAM_ONLY_OUTPUTS",
    "ButlerEndpoint",
    "ExternalS3Store",
    "ProgramOutputs",
    "QservEndpoint",
    "QservIngestJob",
    "SciencePlatform",
    "StackOutputs",
    "contract_of",
    "load_outputs",
    "outputs_path",
    "write_outputs",
]


class _Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QservEndpoint(_Contract):
    """The MySQL-protocol front end of Qserv (or of its local stand-in)."""

    host: str = Field(title="Host", description="Host name or IP of the Qserv czar proxy.")
    port: int = Field(title="Port", description="TCP port (4040 for Qserv, 3306 for the stand-in).")
    database: str = Field(default="dp01_dc2_catalogs", title="Database", description="Catalog database name.")
    dialect: Literal["qserv", "mariadb-standin"] = Field(
        title="SQL dialect",
        description="`qserv`: the real Qserv (scisql, area specs); `mariadb-standin`: the local stand-in.",
    )
    expected_workers: int = Field(
        title="Expected workers", description="Qserv workers the front end should see (1 locally)."
    )


class QservIngestJob(_Contract):
    """A stack's catalog ingest (qserv-ingest's workflow in a Kubernetes Job) and what it loads:
    what `idf scale run` follows, reading Qserv's own row counters, to record the loaded rows."""

    namespace: str = Field(title="Namespace", description="Namespace of the Job and of the `Qserv`.")
    job: str = Field(title="Job", description="Name of the ingest Job.")
    database: str = Field(title="Database", description="Database the Job loads.")
    tables: list[str] = Field(title="Tables", description="Tables in load order (directors first).")
    chunks_total: int = Field(title="Chunks", description="Chunks the ingest configuration lists.")


class ExternalS3Store(_Contract):
    """An S3-compatible store outside GCP (NCSA) holding lesser-used Butler collections. Its keys
    are named, never carried: a Secret Manager secret a person fills."""

    endpoint_url: str = Field(title="S3 endpoint", description="HTTPS endpoint of the S3 service.")
    bucket: str = Field(title="Bucket", description="Bucket of the datastore.")
    datastore_uri: str = Field(
        title="Datastore URI", description="`s3://<profile>@<bucket>/<prefix>` as lsst-resources reads it."
    )
    keys_secret: str = Field(
        title="Keys secret (Secret Manager)",
        description="Resource name of the secret holding the S3 keys (never the keys themselves).",
    )


class ButlerEndpoint(_Contract):
    """The read-only Gen3 Butler repository of the data preview."""

    repo_uri: str = Field(
        title="Repository URI", description="Butler repository root (directory or gs:// URI)."
    )
    readonly_config: str = Field(
        title="Read-only config",
        description="Path or URI of the user-facing read-only butler.yaml.",
    )
    registry_host: str = Field(title="Registry host", description="PostgreSQL host of the registry.")
    registry_port: int = Field(default=5432, title="Registry port", description="PostgreSQL port.")
    registry_database: str = Field(title="Registry database", description="Registry database name.")
    collection: str = Field(
        default="2.2i/runs/DP0.1",
        title="Default collection",
        description="CHAINED collection that groups the DP0.1 RUN collections.",
    )
    external_s3: ExternalS3Store | None = Field(
        default=None,
        title="External S3 store",
        description="Where lesser-used collections are kept outside GCP (NCSA), if the stack names one.",
    )


class SciencePlatform(_Contract):
    """The Science Platform of a cloud stack, deployed by Phalanx (Argo CD app-of-apps): what
    `idf phalanx render` needs to write the environment's values files."""

    environment: str = Field(title="Phalanx environment", description="`values-<environment>.yaml`.")
    fqdn: str = Field(title="Public host", description="Fully-qualified host name of the platform.")
    ingress_ip: str = Field(
        title="Ingress address", description="Global static IP of the HTTPS load balancer."
    )
    repo_url: str = Field(title="Phalanx repository", description="Git repository Argo CD syncs.")
    target_revision: str = Field(title="Phalanx revision", description="Pinned commit of that repository.")
    app_of_apps_name: str = Field(title="App-of-apps", description="Name of the parent Argo CD Application.")
    applications: list[str] = Field(title="Applications", description="Enabled Phalanx applications.")
    vault_url: str = Field(title="Vault URL", description="Vault server of the environment's secrets.")
    vault_path_prefix: str = Field(title="Vault path prefix", description="KV v2 path of its secrets.")
    github_client_id: str = Field(title="GitHub client id", description="Gafaelfawr's GitHub OAuth App.")
    github_organization: str = Field(title="GitHub organization", description="Whose team gets access.")
    github_team: str = Field(title="GitHub team", description="Team slug granted access.")
    github_client_secret: str = Field(
        title="GitHub client secret (Secret Manager)",
        description="Resource name of the Secret Manager secret holding the OAuth App secret "
        "(a person adds its value; never the value itself).",
    )
    gcp_project: str = Field(title="GCP project", description="Project of the cluster.")
    gcp_region: str = Field(title="GCP region", description="Region of the cluster.")


class StackOutputs(_Contract):
    """Everything another tool may know about a stack."""

    stack: str = Field(title="Stack", description="Stack name (`local`, `dev`, `dp01`, ...).")
    kind: Literal["local", "gcp"] = Field(title="Kind", description="Local machine or Google Cloud.")
    offline_plan: bool = Field(
        default=False,
        title="Offline plan",
        description="True when produced by the mock engine: endpoints are placeholders, not live.",
    )
    tap_url: str = Field(title="TAP URL", description="Base URL of the TAP service (…/tap).")
    hub_url: str = Field(title="Notebook hub URL", description="JupyterHub base URL (Nublado or stand-in).")
    portal_url: str | None = Field(
        default=None, title="Portal URL", description="Portal aspect URL (cloud only)."
    )
    qserv: QservEndpoint = Field(title="Qserv", description="Qserv front end.")
    butler: ButlerEndpoint = Field(title="Butler", description="Read-only Gen3 Butler.")
    postgres_dsn_env: str = Field(
        default="IDF_PG_DSN",
        title="PostgreSQL DSN variable",
        description="Name of the environment variable holding an operator DSN (never the secret itself).",
    )
    buckets: dict[str, str] = Field(
        default_factory=dict, title="Buckets", description="Bucket role -> bucket name."
    )
    cluster_name: str | None = Field(default=None, title="GKE cluster", description="Cluster name.")
    node_pools: list[str] = Field(
        default_factory=list, title="Node pools", description="Node pool names in the cluster."
    )
    cloudsql_connection_name: str | None = Field(
        default=None, title="Cloud SQL connection", description="project:region:instance."
    )
    catalog_load_manifest: str | None = Field(
        default=None,
        title="Catalog load manifest",
        description="Path or URI of the JSON manifest (row counts, checksums per table) of the last load.",
    )
    secrets_dir: str | None = Field(
        default=None,
        title="Secrets directory",
        description="Root-only directory of generated local secrets (tokens, passwords); never in the repo.",
    )
    stand_ins: dict[str, str] = Field(
        default_factory=dict,
        title="Stand-ins",
        description="Service -> what stands in for it on this stack (e.g. qserv -> MariaDB).",
    )
    science_platform: SciencePlatform | None = Field(
        default=None,
        title="Science Platform",
        description="Phalanx environment of a cloud stack (None locally: JupyterHub stands in).",
    )
    qserv_ingest_job: QservIngestJob | None = Field(
        default=None,
        title="Qserv ingest Job",
        description="The catalog ingest Job of a cloud stack (None locally, and where the ingest "
        "image is not recorded).",
    )


class ProgramOutputs(StackOutputs):
    """What the Pulumi program of a cloud stack exports: the contract plus a few program-only keys
    (for runbooks/pulumi.md and `idf scale`). `pulumi stack output --json` prints them all; readers
    keep only the contract (:func:`contract_of`)."""

    registry_required_extensions: list[str] = Field(
        default_factory=list,
        title="Registry extensions",
        description="PostgreSQL extensions the Butler registry needs (the Ansible registry role "
        "creates them).",
    )
    zone_fallbacks: dict[str, list[str]] = Field(
        default_factory=dict,
        title="Zone fallbacks",
        description="Node pool name -> zones to try, in order, after a capacity stockout.",
    )
    temporary_pools: dict[str, str] = Field(
        default_factory=dict,
        title="Temporary pools",
        description="Node pool name -> expiry (ISO 8601) of the stack's temporary pools.",
    )
    gcp_project: str = Field(title="GCP project", description="Project id the stack deploys into.")
    region: str = Field(title="Region", description="GCP region of the stack.")

    def exports(self) -> dict[str, Any]:
        """The stack exports as the program publishes them: the fields the program set (unset
        defaults such as `offline_plan` are not exports), in JSON types."""
        return self.model_dump(mode="json", exclude_unset=True)


# Derived from the model, never listed by hand: the exports that are not contract fields.
PROGRAM_ONLY_OUTPUTS = tuple(
    name for name in ProgramOutputs.model_fields if name not in StackOutputs.model_fields
)


def outputs_path(stack: str) -> Path:
    """Where a stack's outputs document lives (nothing is created: readers call this too).
    BadInput unless ``stack`` is a stack name: it becomes a directory under var/stacks/."""
    return state_path("stacks", validate_stack_name(stack)) / "outputs.json"


def contract_of(exports: dict[str, Any], source: str = "stack exports") -> StackOutputs:
    """The contract in a stack's exports, for every reader alike: the offline plan's exports
    (`idf plan`), `pulumi stack output --json`, the Automation API's outputs (`idf scale`).

    Program-only keys are dropped and None values are absent (as `pulumi.export` treats them). A
    key that is neither a contract field nor a program-only output is refused (BadInput naming it):
    dropping it silently would hide a program and a contract that disagree. Wrong values raise
    pydantic's ValidationError, which each reader words for its own situation.
    """
    unknown = sorted(set(exports) - set(ProgramOutputs.model_fields))
    if unknown:
        raise BadInput(
            f"{source}: unknown export(s) {', '.join(unknown)}: neither in the stack outputs contract "
            "(idf_core.contract.StackOutputs) nor a program-only output (ProgramOutputs); add the field "
            "to one of those models, or stop exporting it."
        )
    return StackOutputs.model_validate(
        {k: v for k, v in exports.items() if k not in PROGRAM_ONLY_OUTPUTS and v is not None}
    )


def write_outputs(outputs: StackOutputs) -> Path:
    """Write a stack's outputs atomically (no half-written file on failure)."""
    path = outputs_path(outputs.stack)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(outputs.model_dump_json(indent=2) + "\n")
    tmp.replace(path)
    return path


def load_outputs(stack: str) -> StackOutputs:
    """Read a stack's outputs, or explain how to produce them."""
    path = outputs_path(stack)
    if not path.exists():
        if stack == "local":
            hint = "run `idf local up`"
        else:
            hint = f"run `idf plan {stack}` (offline) or `idf outputs pull {stack}` (live)"
        raise BadInput(f"{path}: no outputs for stack {stack!r}; {hint} first.")
    try:
        document = json.loads(path.read_text())
        if isinstance(document, dict):  # as `pulumi stack output --json` writes it, program-only keys too
            return contract_of(document, source=str(path))
        return StackOutputs.model_validate(document)
    except (json.JSONDecodeError, ValidationError) as exc:
        raise BadInput(f"{path}: not a valid stack outputs document ({exc}); regenerate it.") from exc
