"""The gate checks: one function per `check` name of the registry, run against a stack.

Each check reads only the stack outputs (and files they point to), talks to live endpoints with
client timeouts taken from its budget, and returns an :class:`Outcome` or raises
:class:`CheckFailedError` with a one-line reason plus evidence. Checks that need live GCP say so
honestly: an offline plan is never checked (status offline), and live GCP APIs are not reachable
from these machines (status fail, "not reachable"). Clients are the field's own: psycopg2,
PyMySQL, the Gen3 Butler, pyvo, lsst-felis, JupyterHub's REST API.
"""

# Heavy clients (Butler, pyvo, felis, psycopg2, PyMySQL) are imported inside the checks that use
# them, so that `idf --help` and the registry commands stay fast (CONTRIBUTING: cheap imports).
# ruff: noqa: PLC0415

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import importlib
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from idf_core.contract import StackOutputs
from idf_ops.gates.registry import Gate, LoadtestGate, TableGate
from idf_ops.gates.runner import Budget, CheckContext, CheckFailedError, CheckFunction, Outcome

__all__ = ["CHECKS", "LIVE_CHECKS", "resolve_check"]

SCHEMA_NAME = "dp01_dc2_catalogs"
FELIS_SCHEMA_URI = "resource://lsst.sdm.schemas/archive/dp01_dc2.yaml"
# The four DP0.1 RUN collections (seed section 2.1.2).
DP01_RUNS = (
    "2.2i/runs/DP0.1/calexp/v1",
    "2.2i/runs/DP0.1/coadd/wfd/dr6/v1/u",
    "2.2i/runs/DP0.1/coadd/wfd/dr6/v1/grizy",
    "2.2i/runs/DP0.1/coadd/wfd/dr6/v1",
)
# Dataset types of seed Appendix B (Table 3) that the DP0.1 repository must register.
DP01_DATASET_TYPES = (
    "skyMap", "raw", "icSrc", "calexp", "calexpBackground", "src", "srcMatch", "skyCorr",
    "deepCoadd", "deepCoadd_calexp", "deepCoadd_calexp_background", "deepCoadd_deblendedFlux",
    "deepCoadd_det", "deepCoadd_forced_src", "deepCoadd_mcalmax_deblended", "deepCoadd_meas",
    "deepCoadd_measMatch", "deepCoadd_measMatchFull", "deepCoadd_mergeDet",
    "deepCoadd_ngmix_deblended", "deepCoadd_nImage", "deepCoadd_ref", "icSrc_schema", "src_schema",
    "deepCoadd_meas_schema", "deepCoadd_mergeDet_schema", "deepCoadd_ngmix_deblended_schema",
    "deepCoadd_peak_schema", "deepCoadd_ref_schema", "deepCoadd_forced_src_schema",
    "deepCoadd_deblendedFlux_schema", "deepCoadd_deblendedModel_schema", "deepCoadd_det_schema",
    "deepCoadd_mcalmax_deblended_schema", "camera", "bias", "dark", "flat", "cal_ref_cat_2_2",
    "packages",
)  # fmt: skip
PROBE_USER = "gates-probe"
GCP_UNREACHABLE = (
    "not reachable: live GCP APIs ({api}) are not reachable from this machine and the stack outputs "
    "carry no credentials; check from a host with gcloud access"
)


# ---------------------------------------------------------------------------------------------
# small clients


def _tcp_probe(host: str, port: int, budget: Budget) -> float:
    """Open and close a TCP connection; return the connect time in ms or raise CheckFailedError."""
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=budget.remaining()):
            pass
    except OSError as exc:
        raise CheckFailedError(f"{host}:{port} not reachable ({_os_reason(exc)})") from exc
    return (time.monotonic() - started) * 1000


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return str(exc) or type(exc).__name__


def _http_get(url: str, budget: Budget, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (http(s) from outputs)
    try:
        with urllib.request.urlopen(request, timeout=budget.remaining()) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        text = _os_reason(reason) if isinstance(reason, BaseException) else str(reason)
        raise CheckFailedError(f"{url} not reachable ({text})") from exc


def _http_json(
    method: str, url: str, budget: Budget, token: str, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 (hub URL from the stack outputs)
        url, data=data, method=method, headers={"Authorization": f"token {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=budget.remaining()) as response:  # noqa: S310
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    except (urllib.error.URLError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        text = _os_reason(reason) if isinstance(reason, BaseException) else str(reason)
        raise CheckFailedError(f"{method} {url} not reachable ({text})") from exc
    try:
        return status, json.loads(raw) if raw else None
    except json.JSONDecodeError:
        return status, raw[:200].decode(errors="replace")


def _host_port(url: str) -> tuple[str, int]:
    parsed = urllib.parse.urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return parsed.hostname or "", port


def _db_auth_path(outputs: StackOutputs) -> Path | None:
    """The Butler's db-auth.yaml (LSST_DB_AUTH) in the stack's secrets directory, if any."""
    if os.environ.get("LSST_DB_AUTH"):
        return Path(os.environ["LSST_DB_AUTH"])
    if outputs.secrets_dir and (Path(outputs.secrets_dir) / "db-auth.yaml").is_file():
        return Path(outputs.secrets_dir) / "db-auth.yaml"
    return None


def _pg_params(outputs: StackOutputs) -> tuple[str, dict[str, Any]]:
    """(DSN, keyword parameters) for psycopg2 to reach the registry database.

    The operator DSN from the variable the outputs name wins; otherwise the user-facing read-only
    Butler config's registry URL with its password from the stack's db-auth.yaml (lsst.utils
    DbAuth), so the gate connects the way a user's Butler does. Keyword parameters, not a DSN
    string, carry the password (no quoting issues, never printed).
    """
    dsn = os.environ.get(outputs.postgres_dsn_env)
    if dsn:
        return dsn, {}
    butler = outputs.butler
    params: dict[str, Any] = {
        "host": butler.registry_host, "port": butler.registry_port, "dbname": butler.registry_database,
    }  # fmt: skip
    config_path = Path(butler.readonly_config)
    auth_path = _db_auth_path(outputs)
    if not config_path.is_file() or auth_path is None:
        return "", params
    import sqlalchemy.engine
    import yaml
    from lsst.utils.db_auth import DbAuth

    url_text = (yaml.safe_load(config_path.read_text()) or {}).get("registry", {}).get("db")
    if not url_text:
        return "", params
    url = sqlalchemy.engine.make_url(url_text)
    auth_url = sqlalchemy.engine.make_url(DbAuth(str(auth_path)).getUrl(
        url.set(drivername="postgresql").render_as_string(hide_password=False)
    ))  # fmt: skip
    params.update(
        host=url.host, port=url.port or 5432, dbname=url.database,
        user=auth_url.username, password=auth_url.password,
    )  # fmt: skip
    return "", params


@contextlib.contextmanager
def _pg_connect(outputs: StackOutputs, budget: Budget) -> Iterator[Any]:
    import psycopg2

    dsn, params = _pg_params(outputs)
    try:
        conn = psycopg2.connect(
            dsn,
            connect_timeout=max(1, int(budget.remaining())),
            options=f"-c statement_timeout={int(budget.remaining() * 1000)}",
            **params,
        )
    except psycopg2.Error as exc:
        where = f"{outputs.butler.registry_host}:{outputs.butler.registry_port}"
        raise CheckFailedError(f"PostgreSQL {where}: {' '.join(str(exc).split())}") from exc
    try:
        yield conn
    finally:
        conn.close()


@contextlib.contextmanager
def _qserv_connect(outputs: StackOutputs, budget: Budget) -> Iterator[Any]:
    import pymysql

    qserv = outputs.qserv
    # Qserv's default client account; the local stand-in generates its password into the secrets dir.
    user, password = "qsmaster", ""
    if outputs.secrets_dir:
        path = Path(outputs.secrets_dir) / f"mariadb_{user}.password"
        if path.is_file():
            password = path.read_text().splitlines()[0].split(" salt=")[0].strip()
    seconds = max(1, int(budget.remaining()))
    try:
        conn = pymysql.connect(
            host=qserv.host,
            port=qserv.port,
            user=user,
            password=password,
            database=qserv.database,
            connect_timeout=seconds,
            read_timeout=seconds,
            write_timeout=seconds,
        )
    except pymysql.MySQLError as exc:
        raise CheckFailedError(f"Qserv front end {qserv.host}:{qserv.port}: {exc}") from exc
    try:
        yield conn
    finally:
        conn.close()


# Concurrent HTTP requests the gates send to one TAP endpoint. The gates run together, and a
# DaCHS process serves about one synchronous query per core; more in flight only queue (the
# local balancer was seen holding a third concurrent sync query for its whole proxy timeout).
TAP_CONCURRENCY = 2
_tap_slots: dict[str, threading.BoundedSemaphore] = {}
_tap_slots_lock = threading.Lock()


def _tap_slot(url: str) -> threading.BoundedSemaphore:
    host, port = _host_port(url)
    key = f"{host}:{port}"
    with _tap_slots_lock:
        return _tap_slots.setdefault(key, threading.BoundedSemaphore(TAP_CONCURRENCY))


def _tap_session(outputs: StackOutputs, budget: Budget) -> Any:
    """A requests session whose every request carries the gate's remaining budget.

    The TAP port is probed first, so a dead or silent service fails fast with a plain reason
    instead of a pyvo error chain; requests then take one of the endpoint's few slots.
    """
    import requests

    _tcp_probe(*_host_port(outputs.tap_url), budget)
    slot = _tap_slot(outputs.tap_url)

    class _BudgetSession(requests.Session):
        # pyvo uses requests without timeouts: give every request the gate's remaining budget.
        def request(self, *args: Any, **kwargs: Any) -> Any:
            if not slot.acquire(timeout=budget.remaining()):
                raise requests.exceptions.Timeout("timed out waiting for a free TAP request slot")
            try:
                kwargs.setdefault("timeout", budget.remaining())
                return super().request(*args, **kwargs)
            finally:
                slot.release()

    return _BudgetSession()


def _tap_service(outputs: StackOutputs, budget: Budget) -> Any:
    """A pyvo TAPService on a budgeted session."""
    import pyvo

    return pyvo.dal.TAPService(outputs.tap_url, session=_tap_session(outputs, budget))


def _tap_error(exc: BaseException, what: str) -> CheckFailedError:
    """One readable reason from pyvo's wrapped errors (DALFormatError(cause=ConnectionError), ...)."""
    import requests

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, requests.exceptions.Timeout | TimeoutError):
            return CheckFailedError(f"{what}: timed out")
        if isinstance(seen, requests.exceptions.ConnectionError | ConnectionError):
            return CheckFailedError(f"{what}: not reachable ({' '.join(str(seen).split())[:160]})")
        seen = getattr(seen, "cause", None) or seen.__cause__ or seen.__context__
    return CheckFailedError(f"{what}: {type(exc).__name__}: {' '.join(str(exc).split())}")


# ---------------------------------------------------------------------------------------------
# L2-DP-0010: IDF DP0-ready


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


def check_compute_ready(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """Cloud: the GKE cluster and pools; local: every service the stack publishes answers on TCP."""
    out = ctx.outputs
    if out.kind == "gcp":
        raise CheckFailedError(GCP_UNREACHABLE.format(api="GKE container.googleapis.com"))
    endpoints = {
        "tap": _host_port(out.tap_url),
        "hub": _host_port(out.hub_url),
        "qserv": (out.qserv.host, out.qserv.port),
        "postgresql": (out.butler.registry_host, out.butler.registry_port),
    }
    evidence, down = [], []
    for name, (host, port) in endpoints.items():
        try:
            ms = _tcp_probe(host, port, budget)
            evidence.append(f"{name} {host}:{port} accepts connections ({ms:.0f} ms)")
        except CheckFailedError as exc:
            down.append(name)
            evidence.append(f"{name}: {exc.reason}")
    if down:
        raise CheckFailedError(f"local services down: {', '.join(down)}", evidence)
    return Outcome("local stack: every published service accepts connections", evidence)


def check_database_reachable(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """Cloud SQL (cloud) or the local PostgreSQL answers a real query on the registry database."""
    out = ctx.outputs
    if out.kind == "gcp":
        raise CheckFailedError(GCP_UNREACHABLE.format(api=f"Cloud SQL {out.cloudsql_connection_name}"))
    with _pg_connect(out, budget) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_database(), version()")
        database, version = cur.fetchone()
    return Outcome(
        f"PostgreSQL answers on {out.butler.registry_host}:{out.butler.registry_port}",
        [f"database={database}", f"{version.split(',')[0]}"],
    )


def check_storage_present(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """Cloud: the buckets; local: the Butler datastore directory and the load manifest exist."""
    out = ctx.outputs
    if out.kind == "gcp":
        raise CheckFailedError(GCP_UNREACHABLE.format(api="Cloud Storage"))
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


# ---------------------------------------------------------------------------------------------
# L3-MW-0030: read-only Gen3 Butler


def _open_butler(out: StackOutputs, writeable: bool) -> Any:
    from lsst.daf.butler import Butler

    auth = _db_auth_path(out)
    if auth is not None:
        # Where the user-facing config's registry password lives (the stack's secrets directory).
        os.environ.setdefault("LSST_DB_AUTH", str(auth))
    try:
        return Butler.from_config(out.butler.readonly_config, writeable=writeable)
    except Exception as exc:
        raise CheckFailedError(
            f"Butler {out.butler.readonly_config} does not open: {type(exc).__name__}: {exc}"
        ) from exc


def _registry_reachable(out: StackOutputs, budget: Budget) -> None:
    # The Butler's SQLAlchemy engine has no connect timeout of ours: probe the registry's port first
    # so a dead or silent database fails within the budget with a clear reason.
    _tcp_probe(out.butler.registry_host, out.butler.registry_port, budget)


def check_butler_read(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """Open with the user-facing read-only config; the DP0.1 chain, runs and dataset types exist."""
    out = ctx.outputs
    if out.kind == "gcp":
        raise CheckFailedError(GCP_UNREACHABLE.format(api=f"Butler {out.butler.repo_uri}"))
    _registry_reachable(out, budget)
    butler = _open_butler(out, writeable=False)
    evidence = [f"opened {out.butler.readonly_config} read-only (isWriteable={butler.isWriteable()})"]
    if butler.isWriteable():
        raise CheckFailedError("the user-facing config opens a writeable Butler", evidence)
    from lsst.daf.butler import CollectionType, MissingCollectionError

    try:
        chain = butler.collections.get_info(out.butler.collection)
    except MissingCollectionError as exc:
        raise CheckFailedError(f"collection {out.butler.collection} missing", evidence) from exc
    if chain.type is not CollectionType.CHAINED:
        raise CheckFailedError(f"{out.butler.collection} is {chain.type.name}, not CHAINED", evidence)
    children = set(chain.children)
    evidence.append(f"{out.butler.collection}: CHAINED -> {len(children)} collections")
    missing_runs = []
    for run in DP01_RUNS:
        info = butler.collections.query_info(run) if run in children else []
        if not info or info[0].type is not CollectionType.RUN:
            missing_runs.append(run)
    if missing_runs:
        raise CheckFailedError(f"RUN collections missing from the chain: {', '.join(missing_runs)}", evidence)
    evidence.append(f"the four DP0.1 RUN collections are in the chain: {', '.join(DP01_RUNS)}")
    registered = {dt_.name for dt_ in butler.registry.queryDatasetTypes()}
    missing_types = [name for name in DP01_DATASET_TYPES if name not in registered]
    evidence.append(f"{len(registered)} dataset types registered")
    if missing_types:
        raise CheckFailedError(
            f"{len(missing_types)} DP0.1 dataset types missing: {', '.join(missing_types[:8])}", evidence
        )
    evidence.append(f"all {len(DP01_DATASET_TYPES)} dataset types of the seed's Appendix B present")
    # A read through the datastore, not only the registry: `packages` exists in every DP0.1 RUN.
    ref = butler.find_dataset("packages", collections=out.butler.collection)
    if ref is None:
        raise CheckFailedError(f"no `packages` dataset in {out.butler.collection}: nothing to read", evidence)
    packages = butler.get(ref)
    evidence.append(f"read `packages` from {ref.run} through the datastore ({len(packages)} packages)")
    return Outcome("read-only Butler opens, finds the DP0.1 collections and dataset types, reads", evidence)


def _refusal(exc: BaseException) -> str | None:
    """The database's or client's refusal message in an exception chain, or None."""
    seen: BaseException | None = exc
    while seen is not None:
        message = " ".join(str(seen).split())
        if "permission denied" in message.lower() or "read-only" in message.lower():
            return message[:160]
        seen = seen.__cause__ or seen.__context__
    return None


def check_butler_write_refused(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """A write through the user-facing config is refused by the database, not only by the client."""
    out = ctx.outputs
    if out.kind == "gcp":
        raise CheckFailedError(GCP_UNREACHABLE.format(api=f"Butler {out.butler.repo_uri}"))
    _registry_reachable(out, budget)
    probe_run = "gates/write-probe"
    evidence = []
    butler = _open_butler(out, writeable=False)
    try:
        butler.collections.register(probe_run)
    except Exception as exc:
        evidence.append(f"client (writeable=False): refused — {type(exc).__name__}: {exc}")
    else:
        butler.collections.x_remove(probe_run)
        raise CheckFailedError("a writeable=False Butler registered a RUN collection", evidence)
    # The registry role behind the user-facing config must refuse too: a user can pass
    # writeable=True. Opening writeable already writes (opaque tables), so either step may refuse.
    from lsst.daf.butler import Butler

    try:
        writer = Butler.from_config(out.butler.readonly_config, writeable=True)
        writer.collections.register(probe_run)
    except Exception as exc:
        refusal = _refusal(exc)
        if refusal is None:
            raise CheckFailedError(
                f"write failed for another reason than a refusal: {type(exc).__name__}: {exc}", evidence
            ) from exc
        evidence.append(f"registry role (writeable=True): refused — {refusal}")
    else:
        with contextlib.suppress(Exception):
            writer.collections.x_remove(probe_run)
        raise CheckFailedError(
            "the user-facing registry role registered a RUN collection: writes are NOT refused", evidence
        )
    return Outcome("writes are refused by the client and by the registry's read-only role", evidence)


# ---------------------------------------------------------------------------------------------
# L3-MW-0010: Qserv installed; L3-MW-0020: DP0.1 data loaded


def check_qserv_frontend(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """The MySQL-protocol front end answers and serves the catalog database."""
    out = ctx.outputs
    with _qserv_connect(out, budget) as conn, conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        (version,) = cur.fetchone()
        cur.execute("SHOW TABLES")
        tables = sorted(row[0] for row in cur.fetchall())
    evidence = [f"{out.qserv.host}:{out.qserv.port} {out.qserv.dialect} version {version}",
                f"database {out.qserv.database}: {len(tables)} tables"]
    label = " (stand-in)" if out.qserv.dialect == "mariadb-standin" else ""
    return Outcome(f"front end answers{label}", evidence)


def check_qserv_workers(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """The expected workers are up (locally the stand-in server is the single worker)."""
    out = ctx.outputs
    if out.qserv.dialect == "qserv":
        raise CheckFailedError(
            "worker status of a real Qserv comes from its replication controller, which the stack "
            f"outputs do not publish; expected {out.qserv.expected_workers} workers"
        )
    if out.qserv.expected_workers != 1:
        raise CheckFailedError(
            f"the MariaDB stand-in is a single server but the outputs expect "
            f"{out.qserv.expected_workers} workers"
        )
    with _qserv_connect(out, budget) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@hostname, @@port, @@read_only")
        host, port, read_only = cur.fetchone()
    return Outcome(
        "stand-in: 1 of 1 expected worker up (the MariaDB server itself)",
        [f"worker 1: {host}:{port} answers (read_only={read_only})"],
    )


def _manifest_entry(out: StackOutputs, table: str) -> Any:
    """The load manifest's record (rows, key column, checksum) of one table."""
    from idf_core.errors import BadInput
    from idf_ops.catalogs.load import read_manifest

    if not out.catalog_load_manifest:
        raise CheckFailedError("the stack outputs name no catalog_load_manifest")
    path = Path(out.catalog_load_manifest.removeprefix("file://"))
    try:
        manifest = read_manifest(path)
    except BadInput as exc:
        raise CheckFailedError(str(exc)) from exc
    if manifest is None:
        raise CheckFailedError(f"load manifest {path} not found: run the catalog load first")
    entry = manifest.tables.get(table)
    if entry is None:
        raise CheckFailedError(f"load manifest {path} has no entry for table {table}")
    return entry


def check_table_loaded(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """One DP0.1 table is in the Qserv front end with the manifest's row count and checksum.

    The checksum is the project's key checksum (:mod:`idf_ops.catalogs.checksum`), computed by the
    database itself in one scan, so the gate compares what is served with what the loader wrote.
    """
    from idf_ops.catalogs.checksum import checksum_sql
    assert isinstance(gate, TableGate)
    out = ctx.outputs
    entry = _manifest_entry(out, gate.table)
    expected_rows, expected_sum, key_column = entry.rows, entry.checksum, entry.key_column
    database = out.qserv.database
    with _qserv_connect(out, budget) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema=%s AND table_name=%s",
            (database, gate.table),
        )
        if cur.fetchone()[0] != 1:
            raise CheckFailedError(f"table {database}.{gate.table} not present in the Qserv front end")
        cur.execute(checksum_sql(database, gate.table, key_column, "mariadb"))
        rows, actual_sum = cur.fetchone()
    evidence = [
        f"rows: {rows} (manifest {expected_rows})",
        f"key checksum of {key_column}: {actual_sum} (manifest {expected_sum})",
    ]
    if int(rows) != expected_rows:
        raise CheckFailedError(f"{gate.table}: {rows} rows, the load manifest says {expected_rows}", evidence)
    if str(actual_sum) != expected_sum:
        raise CheckFailedError(f"{gate.table}: checksum differs from the load manifest", evidence)
    return Outcome(f"{gate.table}: {rows} rows, checksum equal to the manifest", evidence)


# ---------------------------------------------------------------------------------------------
# L3-PR-0010: Science Platform available


HUB_TOKEN_FILE = "jupyterhub_api_token"  # noqa: S105 (a file name, not a secret)


def _hub_token(out: StackOutputs) -> str:
    """The hub's admin API token: $IDF_HUB_TOKEN, else the stack's secrets dir (never the repo)."""
    token = os.environ.get("IDF_HUB_TOKEN")
    if token:
        return token.strip()
    if not out.secrets_dir:
        raise CheckFailedError("no hub admin token: set IDF_HUB_TOKEN or publish secrets_dir in the outputs")
    path = Path(out.secrets_dir) / HUB_TOKEN_FILE
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise CheckFailedError(
            f"hub admin token {path} unreadable ({exc.strerror}); set IDF_HUB_TOKEN"
        ) from exc


def _hub_api(out: StackOutputs) -> str:
    return out.hub_url.rstrip("/") + "/hub/api"


def check_hub_api(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """The hub API answers an authenticated request."""
    out = ctx.outputs
    token = _hub_token(out)
    status, body = _http_json("GET", _hub_api(out), budget, token)
    if status != 200 or not isinstance(body, dict) or "version" not in body:
        raise CheckFailedError(f"GET {_hub_api(out)} -> HTTP {status}: {str(body)[:120]}")
    status, info = _http_json("GET", _hub_api(out) + "/info", budget, token)
    evidence = [f"JupyterHub {body['version']} at {_hub_api(out)}"]
    if status == 200 and isinstance(info, dict):
        spawner = info.get("spawner", {}).get("class", "?")
        evidence.append(f"spawner {spawner}")
    else:
        raise CheckFailedError(f"GET /hub/api/info with the admin token -> HTTP {status}", evidence)
    return Outcome("hub API answers with the admin token", evidence)


def check_lab_spawn(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """Create the probe user, start a lab, see it answer through the proxy, stop it."""
    out = ctx.outputs
    token = _hub_token(out)
    api = _hub_api(out)
    user_url = f"{api}/users/{PROBE_USER}"
    evidence: list[str] = []
    status, body = _http_json("POST", user_url, budget, token)
    if status not in (201, 409):
        raise CheckFailedError(f"creating user {PROBE_USER}: HTTP {status}: {str(body)[:120]}")
    started = time.monotonic()
    try:
        status, body = _http_json("POST", f"{user_url}/server", budget, token)
        if status not in (201, 202, 400):  # 400: already running
            raise CheckFailedError(f"spawn request: HTTP {status}: {str(body)[:160]}")
        url = None
        while not budget.expired():
            status, model = _http_json("GET", user_url, budget, token)
            server = (model or {}).get("servers", {}).get("", {}) if isinstance(model, dict) else {}
            if server.get("ready"):
                url = server.get("url")
                break
            time.sleep(0.3)
        if not url:
            raise CheckFailedError(f"lab of {PROBE_USER} not ready within {gate.timeout_s:g} s", evidence)
        evidence.append(f"lab ready at {url} after {time.monotonic() - started:.1f} s")
        lab_status, _ = _http_get(
            out.hub_url.rstrip("/") + url.rstrip("/") + "/api/status",
            budget,
            headers={"Authorization": f"token {token}"},
        )
        if lab_status != 200:
            raise CheckFailedError(f"lab answered HTTP {lab_status} through the proxy", evidence)
        evidence.append("lab /api/status answered 200 through the hub's proxy")
    finally:
        stop_status, _ = _http_json("DELETE", f"{user_url}/server", budget, token)
        evidence.append(f"stop requested (HTTP {stop_status})")
    return Outcome(f"user {PROBE_USER} spawned a lab that answered", evidence)


def _fetch_vosi(
    ctx: CheckContext, budget: Budget, endpoint: str, parse: Callable[[Any], Any]
) -> tuple[str, Any]:
    """GET ``<tap_url>/<endpoint>`` within the budget and parse it with a pyvo VOSI parser."""
    import io

    session = _tap_session(ctx.outputs, budget)
    url = ctx.outputs.tap_url.rstrip("/") + "/" + endpoint
    try:
        response = session.get(url)
        response.raise_for_status()
        return url, parse(io.BytesIO(response.content))
    except Exception as exc:
        raise _tap_error(exc, url) from exc


def check_tap_availability(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """VOSI availability says the service is available (parsed by pyvo's VOSI parser)."""
    from pyvo.io.vosi import parse_availability

    url, availability = _fetch_vosi(ctx, budget, "availability", parse_availability)
    evidence = [f"{url}: available={availability.available}"]
    if availability.upsince:
        evidence.append(f"up since {availability.upsince}")
    if not availability.available:
        note = "; ".join(str(n) for n in (availability.notes or []))
        raise CheckFailedError(f"TAP service reports unavailable {note}".strip(), evidence)
    return Outcome("TAP VOSI availability: available", evidence)


def check_tap_capabilities(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """VOSI capabilities list the TAP interface (parsed by pyvo's VOSI parser)."""
    from pyvo.io.vosi import parse_capabilities

    _, capabilities = _fetch_vosi(ctx, budget, "capabilities", parse_capabilities)
    ids = sorted(str(cap.standardid) for cap in capabilities if cap.standardid)
    evidence = [f"{len(ids)} capabilities: {', '.join(ids)}"]
    if not any(i.startswith("ivo://ivoa.net/std/TAP") for i in ids):
        raise CheckFailedError("capabilities do not list ivo://ivoa.net/std/TAP", evidence)
    return Outcome("TAP VOSI capabilities list the TAP interface", evidence)


# ---------------------------------------------------------------------------------------------
# L2-DP-0020: QA access


# Names a TAP service may serve a table under when its ADQL dialect reserves the table's name:
# GAVO DaCHS 2.7 (Debian 12) refuses a table called `position` and serves it as a view
# `position_` (idf_ops/tap). The canonical name is always tried first; a pass through an alias
# says so in its reason and evidence, so the deviation from the DP0.1 names stays visible.
SERVED_ALIASES: dict[str, tuple[str, ...]] = {"position": ("position_",)}


def _is_unknown_table(exc: BaseException) -> bool:
    return "could not locate table" in str(exc).lower()


def check_tap_query(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """A synchronous ADQL query on one table returns rows (errors in the VOTable count as failure)."""
    assert isinstance(gate, TableGate)
    out = ctx.outputs
    service = _tap_service(out, budget)
    evidence: list[str] = []
    for name in (gate.table, *SERVED_ALIASES.get(gate.table, ())):
        # Quoted: `position` is an ADQL reserved word.
        query = f'SELECT TOP 3 * FROM {SCHEMA_NAME}."{name}"'  # noqa: S608 (names from the registry)
        try:
            result = service.run_sync(query, maxrec=3)
        except Exception as exc:
            if _is_unknown_table(exc) and name != SERVED_ALIASES.get(gate.table, (name,))[-1]:
                evidence.append(f"{query}: table not served under this name")
                continue
            raise _tap_error(exc, f"query {query!r}") from exc
        evidence.append(f"{query} -> {len(result)} rows x {len(result.fieldnames)} columns")
        if len(result) == 0:
            raise CheckFailedError(f"{gate.table}: query succeeded but returned no rows", evidence)
        alias = "" if name == gate.table else f" (served as {name}: the service reserves '{gate.table}')"
        return Outcome(f"{gate.table}: synchronous TAP query returned rows{alias}", evidence)
    raise CheckFailedError(f"{gate.table}: not served under any known name", evidence)


@functools.cache
def felis_columns() -> dict[str, frozenset[str]]:
    """Table -> column names (lower case) of the Felis schema dp01_dc2 from lsst-sdm-schemas."""
    from felis.datamodel import Schema

    schema = Schema.from_uri(FELIS_SCHEMA_URI)
    return {
        table.name.lower(): frozenset(col.name.lower() for col in table.columns) for table in schema.tables
    }


def check_tap_schema_complete(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """TAP_SCHEMA describes every table and column of the Felis schema (names case-insensitive)."""
    out = ctx.outputs
    service = _tap_service(out, budget)
    expected = felis_columns()
    query = (
        "SELECT table_name, column_name FROM TAP_SCHEMA.columns "  # noqa: S608 (a constant)
        f"WHERE table_name LIKE '{SCHEMA_NAME}.%'"
    )
    try:
        result = service.run_sync(query, maxrec=100000)
    except Exception as exc:
        raise _tap_error(exc, "TAP_SCHEMA.columns query") from exc
    published: dict[str, set[str]] = {}
    for row in result:
        table = str(row["table_name"]).lower().split(".", 1)[-1].strip('"')
        published.setdefault(table, set()).add(str(row["column_name"]).lower().strip('"'))
    evidence = []
    problems = []
    for table, columns in sorted(expected.items()):
        served = next(
            (name for name in (table, *SERVED_ALIASES.get(table, ())) if name in published), table
        )
        have = published.get(served, set())
        missing = sorted(columns - have)
        alias = f" (served as {served})" if served != table else ""
        evidence.append(f"{table}{alias}: {len(columns & have)}/{len(columns)} columns described")
        if not have:
            problems.append(f"{table} not in TAP_SCHEMA")
        elif missing:
            problems.append(f"{table} lacks {len(missing)} columns ({', '.join(missing[:4])})")
    if problems:
        raise CheckFailedError("; ".join(problems), evidence)
    total = sum(len(c) for c in expected.values())
    return Outcome(f"TAP_SCHEMA describes all {len(expected)} tables and {total} columns", evidence)


# ---------------------------------------------------------------------------------------------
# Table 2: scale tests


class _SummaryView(BaseModel):
    """The fields of a load-test `summary.json` (schema_version 1, loadtests/README.md) a gate reads.

    A reader of another tool's document: fields the gate does not use are ignored (extra="ignore"),
    so the load-test tool may add some without breaking the gates; a missing or mistyped field the
    gate needs, or another schema version, is an invalid summary.
    """

    model_config = ConfigDict(extra="ignore")

    class _Check(BaseModel):
        model_config = ConfigDict(extra="ignore")
        kind: str
        metric: str
        threshold: float
        actual: float
        verdict: Literal["pass", "fail"]

    class _Slo(BaseModel):
        model_config = ConfigDict(extra="ignore")
        kind: str
        verdict: Literal["pass", "fail"]
        checks: list[_SummaryView._Check]

    schema_version: Literal[1]
    profile: str
    stack: str
    finished_at: dt.datetime
    duration_s: float
    users: int
    verdict: Literal["pass", "fail"]
    slos: list[_Slo]


def check_loadtest_summary(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """The newest load-test summary of the profile passed every SLO and is recent enough.

    Summaries follow the documented contract (loadtests/README.md, schema_version 1); a file that
    does not validate against :class:`_SummaryView` fails the gate.
    """
    assert isinstance(gate, LoadtestGate)
    profile_dir = ctx.loadtests_dir / gate.profile
    paths = sorted(profile_dir.glob("*/summary.json"))
    if not paths:
        how = f"`idf loadtest run {gate.profile} --stack {ctx.outputs.stack}`"
        if ctx.outputs.kind == "gcp":  # the run happens on GKE; its reports are collected afterwards
            how += (f" (renders the GKE job), then `idf loadtest collect {gate.profile} --stack "
                    f"{ctx.outputs.stack} --from <reports copied from the master pod>`")
        raise CheckFailedError(
            f"no load-test summary for profile {gate.profile} under {profile_dir}; run {how}"
        )
    summaries = []
    for path in paths:
        try:
            summaries.append((_SummaryView.model_validate_json(path.read_text()), path))
        except (OSError, ValidationError) as exc:
            first = " ".join(str(exc).split())[:200]
            raise CheckFailedError(f"{path}: not a valid load-test summary ({first})") from exc
    summary, path = max(summaries, key=lambda item: item[0].finished_at)
    finished = summary.finished_at
    if finished.tzinfo is None:
        finished = finished.replace(tzinfo=dt.UTC)
    max_age_h = ctx.max_loadtest_age_hours or gate.max_age_hours
    age_h = (ctx.now - finished).total_seconds() / 3600
    evidence = [
        f"{path}",
        f"finished {finished.isoformat()} ({age_h:.1f} h before this run; limit {max_age_h:g} h), "
        f"{summary.users} users, {summary.duration_s:.0f} s",
    ]
    if summary.profile != gate.profile:
        raise CheckFailedError(f"{path}: profile {summary.profile!r}, expected {gate.profile!r}", evidence)
    if summary.stack != ctx.outputs.stack:
        raise CheckFailedError(f"{path}: stack {summary.stack!r}, expected {ctx.outputs.stack!r}", evidence)
    for slo in summary.slos:
        breaches = ", ".join(
            f"{c.metric} {c.actual:g} vs {c.threshold:g} ({c.kind})"
            for c in slo.checks
            if c.verdict != "pass"
        )
        evidence.append(f"SLO {slo.kind}: {slo.verdict}" + (f" — {breaches}" if breaches else ""))
    if age_h > max_age_h:
        raise CheckFailedError(
            f"newest {gate.profile} summary is {age_h:.1f} h old (limit {max_age_h:g} h): run it again",
            evidence,
        )
    if not summary.slos:
        raise CheckFailedError(f"{path}: lists no SLO verdicts", evidence)
    failed = [slo.kind for slo in summary.slos if slo.verdict != "pass"]
    if failed or summary.verdict != "pass":
        raise CheckFailedError(
            f"load test {gate.profile} failed SLOs: {', '.join(failed) or summary.verdict}", evidence
        )
    return Outcome(f"{gate.profile}: all {len(summary.slos)} SLOs held", evidence)


CHECKS: dict[str, CheckFunction] = {
    "outputs-present": check_outputs_present,
    "compute-ready": check_compute_ready,
    "database-reachable": check_database_reachable,
    "storage-present": check_storage_present,
    "butler-read": check_butler_read,
    "butler-write-refused": check_butler_write_refused,
    "qserv-frontend": check_qserv_frontend,
    "qserv-workers": check_qserv_workers,
    "table-loaded": check_table_loaded,
    "hub-api": check_hub_api,
    "lab-spawn": check_lab_spawn,
    "tap-availability": check_tap_availability,
    "tap-capabilities": check_tap_capabilities,
    "tap-query": check_tap_query,
    "tap-schema-complete": check_tap_schema_complete,
    "loadtest-summary": check_loadtest_summary,
}
# Checks that only mean something against live endpoints: an offline plan never runs them.
LIVE_CHECKS = frozenset(CHECKS) - {"outputs-present", "loadtest-summary"}


def _offline(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    return Outcome(
        "offline plan only: the outputs are mock values, nothing live was checked",
        [f"stack {ctx.outputs.stack} outputs have offline_plan: true (from `idf plan`)"],
        status="offline",
    )


_TAP_MODULES = ("requests", "pyvo", "pyvo.dal", "pyvo.io.vosi")
# Client libraries each check imports. Gates run in threads, and two threads importing the same
# package tree at once can deadlock on Python's module locks (seen: `_DeadlockError ...
# _ModuleLock('pyvo.io.vosi')`), so these imports happen one at a time, under one lock, inside
# the gate's own budget; the checks' later `import` statements then find them loaded.
CHECK_MODULES: dict[str, tuple[str, ...]] = {
    "database-reachable": ("psycopg2", "sqlalchemy.engine", "yaml", "lsst.utils.db_auth"),
    "butler-read": ("lsst.daf.butler",),
    "butler-write-refused": ("lsst.daf.butler",),
    "qserv-frontend": ("pymysql",),
    "qserv-workers": ("pymysql",),
    "table-loaded": ("pymysql", "idf_ops.catalogs.checksum", "idf_ops.catalogs.load"),
    "tap-availability": _TAP_MODULES,
    "tap-capabilities": _TAP_MODULES,
    "tap-query": _TAP_MODULES,
    "tap-schema-complete": (*_TAP_MODULES, "felis.datamodel"),
}
_IMPORT_LOCK = threading.Lock()


def _with_imports(check: CheckFunction, modules: tuple[str, ...]) -> CheckFunction:
    def run(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
        if not modules:
            return check(ctx, gate, budget)
        if not _IMPORT_LOCK.acquire(timeout=budget.remaining()):
            raise CheckFailedError("timed out waiting to load the check's client libraries")
        try:
            for module in modules:
                importlib.import_module(module)
        finally:
            _IMPORT_LOCK.release()
        return check(ctx, gate, budget)

    return run


def resolve_check(ctx: CheckContext, gate: Gate) -> CheckFunction:
    """The function that runs a gate on this stack (the offline stand-in for offline plans)."""
    if ctx.outputs.offline_plan and gate.check in LIVE_CHECKS:
        return _offline
    return _with_imports(CHECKS[gate.check], CHECK_MODULES.get(gate.check, ()))
