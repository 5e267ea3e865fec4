"""L2-DP-0010 (IDF DP0-ready): the outputs name everything, the services answer, storage exists."""

# Heavy clients are imported inside the checks that use them, so that `idf --help` and the
# registry commands stay fast (CONTRIBUTING: cheap imports).
# ruff: noqa: PLC0415

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idf_ops.gates.checks import _gcp
from idf_ops.gates.checks._common import db_auth_path, host_port, tcp_probe
from idf_ops.gates.checks.base import Budget, CheckContext, CheckFailedError, Outcome, check

if TYPE_CHECKING:
    from idf_core.contract import StackOutputs
    from idf_ops.gates.registry import Gate

__all__ = [
    "check_compute_ready",
    "check_database_reachable",
    "check_outputs_present",
    "check_storage_present",
]


def _pg_params(outputs: StackOutputs) -> tuple[str, dict[str, Any]]:
    """(DSN, keyword parameters) to reach the registry database.

    The operator DSN from the variable the outputs name wins; otherwise the user-facing read-only
    Butler config's registry URL with its password from the stack's db-auth.yaml (lsst.utils
    DbAuth), so the gate connects the way a user's Butler does.
    """
    dsn = os.environ.get(outputs.postgres_dsn_env)
    if dsn:
        return dsn, {}
    butler = outputs.butler
    params: dict[str, Any] = {
        "host": butler.registry_host, "port": butler.registry_port, "dbname": butler.registry_database,
    }  # fmt: skip
    config_path = Path(butler.readonly_config)
    auth_path = db_auth_path(outputs)
    if not config_path.is_file() or auth_path is None:
        return "", params
    import yaml

    from idf_clients.postgres import db_auth_params

    url_text = (yaml.safe_load(config_path.read_text()) or {}).get("registry", {}).get("db")
    if not url_text:
        return "", params
    return "", db_auth_params(url_text, auth_path)


@contextlib.contextmanager
def _pg_connect(outputs: StackOutputs, budget: Budget) -> Iterator[Any]:
    from idf_clients.postgres import PostgresUnavailable, connect_within

    dsn, params = _pg_params(outputs)
    where = f"{outputs.butler.registry_host}:{outputs.butler.registry_port}"
    try:
        with connect_within(dsn, timeout_s=budget.remaining(), where=where, **params) as conn:
            yield conn
    except PostgresUnavailable as exc:
        raise CheckFailedError(str(exc)) from exc


@check(id="outputs-present", live=False, stack_kinds={"local", "gcp"}, timeout_s=10)
def check_outputs_present(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """The outputs document names every endpoint; cloud stacks also their GCP resources."""
    out = ctx.outputs
    evidence = [
        f"tap_url={out.tap_url}",
        f"hub_url={out.hub_url}",
        f"qserv={out.qserv.host}:{out.qserv.port} ({out.qserv.dialect})",
        f"butler={out.butler.repo_uri}",
    ]
    missing = []
    if out.kind == "gcp":
        if not out.cluster_name:
            missing.append("cluster_name")
        if not out.node_pools:
            missing.append("node_pools")
        if not out.cloudsql_connection_name:
            missing.append("cloudsql_connection_name")
        if not out.buckets:
            missing.append("buckets")
        evidence.append(f"cluster={out.cluster_name} pools={','.join(out.node_pools)}")
        evidence.append(f"buckets={','.join(f'{k}={v}' for k, v in sorted(out.buckets.items()))}")
    if missing:
        raise CheckFailedError(f"outputs of stack {out.stack!r} lack {', '.join(missing)}", evidence)
    suffix = " (offline plan: placeholders, not live endpoints)" if out.offline_plan else ""
    return Outcome(f"outputs of stack {out.stack!r} complete{suffix}", evidence)


@check(id="compute-ready", live=True, stack_kinds={"local", "gcp"}, timeout_s=30)
def check_compute_ready(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """Every service the local stack publishes answers on TCP (gcp: :func:`._gcp.compute_ready`)."""
    out = ctx.outputs
    if out.kind == "gcp":
        return _gcp.compute_ready(ctx, budget)
    endpoints = {
        "tap": host_port(out.tap_url),
        "hub": host_port(out.hub_url),
        "qserv": (out.qserv.host, out.qserv.port),
        "postgresql": (out.butler.registry_host, out.butler.registry_port),
    }
    evidence, down = [], []
    for name, (host, port) in endpoints.items():
        try:
            ms = tcp_probe(host, port, budget)
            evidence.append(f"{name} {host}:{port} accepts connections ({ms:.0f} ms)")
        except CheckFailedError as exc:
            down.append(name)
            evidence.append(f"{name}: {exc.reason}")
    if down:
        raise CheckFailedError(f"local services down: {', '.join(down)}", evidence)
    return Outcome("local stack: every published service accepts connections", evidence)


@check(
    id="database-reachable",
    live=True,
    stack_kinds={"local", "gcp"},
    timeout_s=30,
    requires=("psycopg", "sqlalchemy.engine", "yaml", "lsst.utils.db_auth"),
)
def check_database_reachable(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """The local PostgreSQL answers a real query on the registry database (gcp: Cloud SQL,
    :func:`._gcp.database_reachable`)."""
    out = ctx.outputs
    if out.kind == "gcp":
        return _gcp.database_reachable(ctx, budget)
    from idf_clients.postgres import query_one

    with _pg_connect(out, budget) as conn:
        database, version = query_one(conn, "SELECT current_database(), version()")
    return Outcome(
        f"PostgreSQL answers on {out.butler.registry_host}:{out.butler.registry_port}",
        [f"database={database}", f"{version.split(',')[0]}"],
    )


@check(id="storage-present", live=True, stack_kinds={"local", "gcp"}, timeout_s=10)
def check_storage_present(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """The local Butler datastore directory and the load manifest exist (stand-ins for buckets;
    gcp: the buckets, :func:`._gcp.storage_present`)."""
    out = ctx.outputs
    if out.kind == "gcp":
        return _gcp.storage_present(ctx, budget)
    paths = {"butler repository": out.butler.repo_uri, "load manifest": out.catalog_load_manifest}
    evidence, missing = [], []
    for role, value in paths.items():
        path = Path(str(value).removeprefix("file://")) if value else None
        if path is not None and path.exists():
            evidence.append(f"{role}: {path} exists")
        else:
            missing.append(role)
            evidence.append(f"{role}: {value or '(not in outputs)'} missing")
    if missing:
        raise CheckFailedError(f"missing: {', '.join(missing)}", evidence)
    return Outcome("local storage present (stand-in for buckets)", evidence)
