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
from idf_core.paths import state_dir

__all__ = [
    "PROGRAM_ONLY_OUTPUTS",
    "ButlerEndpoint",
    "QservEndpoint",
    "StackOutputs",
    "contract_of",
    "load_outputs",
    "outputs_path",
    "write_outputs",
]


# Exports of the Pulumi program that are not part of the contract (infra/program.py exports them
# for runbooks and `idf scale`). `pulumi stack output --json` includes them; readers drop them.
PROGRAM_ONLY_OUTPUTS = (
    "registry_required_extensions",
    "zone_fallbacks",
    "temporary_pools",
    "gcp_project",
    "region",
)


class _Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QservEndpoint(_Contract):
    """The MySQL-protocol front end of Qserv (or of its local stand-in)."""

    host: str = Field(title="Host", description="Host name or IP of the Qserv czar proxy.")
    port: int = Field(title="Port", description="TCP port (4040 for Qserv, 3306 for the stand-in).")
    database: str = Field(
        default="dp01_dc2_catalogs", title="Database", description="Catalog database name."
    )
    dialect: Literal["qserv", "mariadb-standin"] = Field(
        title="SQL dialect",
        description="`qserv`: the real Qserv (scisql, area specs); `mariadb-standin`: the local stand-in.",
    )
    expected_workers: int = Field(
        title="Expected workers", description="Qserv workers the front end should see (1 locally)."
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


def outputs_path(stack: str) -> Path:
    """Where a stack's outputs document lives."""
    return state_dir("stacks", stack) / "outputs.json"


def contract_of(exports: dict[str, Any]) -> StackOutputs:
    """The contract in a live stack's exports (`pulumi stack output --json`, the Automation API's
    outputs): program-only keys dropped, everything else validated (ValidationError otherwise)."""
    return StackOutputs.model_validate({k: v for k, v in exports.items() if k not in PROGRAM_ONLY_OUTPUTS})


def write_outputs(outputs: StackOutputs) -> Path:
    """Write a stack's outputs atomically (no half-written file on failure)."""
    path = outputs_path(outputs.stack)
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
            hint = f"run `idf plan {stack}` (offline) or export them from Pulumi"
        raise BadInput(f"{path}: no outputs for stack {stack!r}; {hint} first.")
    try:
        document = json.loads(path.read_text())
        if isinstance(document, dict):  # as `pulumi stack output --json` writes it, program-only keys too
            return contract_of(document)
        return StackOutputs.model_validate(document)
    except (json.JSONDecodeError, ValidationError) as exc:
        raise BadInput(f"{path}: not a valid stack outputs document ({exc}); regenerate it.") from exc
