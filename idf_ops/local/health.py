"""Health checks of the local stack's services: one function per service, a real query each.

This module is the registry ``idf local status`` reads. The interface, for every service owner:

- write ``def check_<service>() -> ServiceHealth`` and decorate it with ``@health_check("<service>")``
  where ``<service>`` is the Ansible role name (``tap``, ``qserv_local``, ``notebook``, ...);
- the function must run a real request against the service (an SQL or ADQL query, an API call;
  a listening port is not health) within a few seconds, and return
  ``ServiceHealth(service, healthy, endpoint, detail)``, ``detail`` saying what was checked
  (e.g. ``"SELECT 1 answered in 3 ms"``) or what is wrong and how to fix it;
- it may raise: an exception becomes an unhealthy result carrying the exception's message;
- put it either here or in your own module listed in :data:`CHECK_MODULES` (imported lazily, a
  module that does not exist yet is skipped), so checks load only when status is asked for.

:func:`run_checks` runs every registered check in :data:`~idf_ops.local.settings.SERVICE_ORDER`
order; services without a check are reported with state ``unknown``.
"""

# Service clients are imported inside the checks: `idf --help` stays fast.
# ruff: noqa: PLC0415

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from idf_clients.probes import probe_postgres
from idf_clients.secrets import pg_password_file
from idf_ops.catalogs.pg import PgConnection
from idf_ops.local.settings import (
    BUTLER_READONLY_CONFIG,
    CATALOG_DATABASE,
    DB_AUTH_READER_FILE,
    LOAD_MANIFEST,
    LOOPBACK,
    PG_PORT,
    SECRETS_DIR,
    SERVICE_ORDER,
)

__all__ = [
    "CHECK_MODULES",
    "HealthCheck",
    "ServiceHealth",
    "health_check",
    "registered_checks",
    "run_checks",
]

#: Modules holding other services' checks (imported when status runs; missing ones are skipped).
CHECK_MODULES: tuple[str, ...] = (
    "idf_ops.tap.health",
    "idf_ops.qserv_local.health",
    "idf_ops.notebook.health",
)

State = Literal["up", "down", "unknown"]


@dataclass(frozen=True)
class ServiceHealth:
    """The answer of one health check."""

    service: str
    healthy: bool
    endpoint: str
    detail: str

    @property
    def state(self) -> State:
        """``up`` or ``down``."""
        return "up" if self.healthy else "down"

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (with ``state``)."""
        return {**asdict(self), "state": self.state}


HealthCheck = Callable[[], ServiceHealth]
_REGISTRY: dict[str, HealthCheck] = {}


def health_check(service: str) -> Callable[[HealthCheck], HealthCheck]:
    """Register ``function`` as the health check of ``service`` (the Ansible role name)."""

    def register(function: HealthCheck) -> HealthCheck:
        _REGISTRY[service] = function
        return function

    return register


# What a person does about any unhealthy service: every role starts what is down and repairs
# what fails its check; if that fails too, its error names the cause and the fix.
REPAIR_HINT = "run `idf local up` (idempotent: it restarts what is down and repairs what fails its check)"


def registered_checks() -> dict[str, HealthCheck]:
    """Every registered check, after importing :data:`CHECK_MODULES`."""
    for module in CHECK_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # the module exists but one of its imports is missing: say so
                raise
    return dict(_REGISTRY)


def run_checks(services: tuple[str, ...] = SERVICE_ORDER) -> list[dict[str, object]]:
    """Run the checks of ``services``; one JSON-ready record per service with a check or not."""
    checks = registered_checks()
    results: list[dict[str, object]] = []
    for service in services:
        check = checks.get(service)
        if check is None:
            continue
        try:
            results.append(check().as_dict())
        except Exception as exc:  # noqa: BLE001 -- a check that raises reports the service down, with the reason
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            results.append(
                {"service": service, "healthy": False, "state": "down", "endpoint": "", "detail": message}
            )
    for service in (s for s in checks if s not in services):
        results.append(checks[service]().as_dict())
    for result in results:
        if not result["healthy"]:
            result["fix"] = REPAIR_HINT
    return results


_CATALOG_ROLE = "idf_catalogs"


def _catalog_connection(database: str) -> PgConnection:
    return PgConnection(
        host=LOOPBACK,
        port=PG_PORT,
        database=database,
        user=_CATALOG_ROLE,
        password_file=pg_password_file(SECRETS_DIR, _CATALOG_ROLE),
    )


@health_check("postgresql")
def check_postgresql() -> ServiceHealth:
    """A real query over TCP on 127.0.0.1:5432 (as the catalogs' login role)."""
    password = _catalog_connection("postgres").password()
    probe = probe_postgres(LOOPBACK, PG_PORT, "postgres", _CATALOG_ROLE, password)
    return ServiceHealth("postgresql", probe.ok, f"postgresql://{LOOPBACK}:{PG_PORT}", probe.detail)


@health_check("dataload")
def check_catalogs() -> ServiceHealth:
    """Row counts and key checksums of dp01_dc2_catalogs equal the load manifest."""
    from idf_ops.catalogs.checksum import checksum_sql
    from idf_ops.catalogs.load import read_manifest
    from idf_ops.catalogs.schema import SCHEMA_NAME

    endpoint = f"postgresql://{LOOPBACK}:{PG_PORT}/{CATALOG_DATABASE}?schema={SCHEMA_NAME}"
    manifest = read_manifest(LOAD_MANIFEST)
    if manifest is None:
        return ServiceHealth("dataload", False, endpoint, f"{LOAD_MANIFEST} missing: run `idf local up`")
    conn = _catalog_connection(CATALOG_DATABASE).connect()
    mismatches: list[str] = []
    try:
        with conn.cursor() as cursor:
            for table, record in manifest.tables.items():
                cursor.execute(checksum_sql(SCHEMA_NAME, table, record.key_column, "postgresql"))
                rows, checksum = cursor.fetchone()
                if (int(rows), str(checksum)) != (record.rows, record.checksum):
                    mismatches.append(f"{table}: {rows} rows in the database, {record.rows} in the manifest")
    finally:
        conn.close()
    if mismatches:
        return ServiceHealth(
            "dataload", False, endpoint, "; ".join(mismatches) + "; run `idf local up` to reload"
        )
    total = sum(r.rows for r in manifest.tables.values())
    return ServiceHealth(
        "dataload",
        True,
        endpoint,
        f"{len(manifest.tables)} tables, {total} rows, counts and checksums match the manifest",
    )


@health_check("butler")
def check_butler() -> ServiceHealth:
    """The read-only repository config answers a registry query (the DP0.1 chain and its RUNs)."""
    import os

    from idf_clients.butler import open_butler
    from idf_ops.local.butler_repo import CHAIN, RUNS

    config = Path(BUTLER_READONLY_CONFIG)
    if not config.exists():
        return ServiceHealth("butler", False, str(config), f"{config} missing: run `idf local up`")
    # The user's own LSST_DB_AUTH wins; otherwise the stack's reader file.
    auth = None if os.environ.get("LSST_DB_AUTH") else Path(DB_AUTH_READER_FILE)
    butler = open_butler(config, auth, writeable=False)
    try:
        chain = list(butler.registry.getCollectionChain(CHAIN))
        packages = len(list(butler.registry.queryDatasets("packages", collections=CHAIN, findFirst=False)))
    finally:
        butler.close()
    if sorted(chain) != sorted(RUNS):
        return ServiceHealth(
            "butler", False, str(config), f"chain {CHAIN} holds {chain}, expected {list(RUNS)}"
        )
    return ServiceHealth(
        "butler",
        True,
        str(config),
        f"read-only registry answers: {CHAIN} chains {len(chain)} RUNs, {packages} packages datasets",
    )
