"""Butler repository bootstrap: the one implementation behind the local ``butler`` role and the
cloud stacks' bootstrap Job (``infra/butler_bootstrap.py``).

What :func:`bootstrap` makes, each step only when missing (a second run changes nothing and says so):

1. ``CREATE EXTENSION btree_gist`` in the registry database (the registry's exclusion constraints);
2. the repository (``Butler.makeRepo``, what ``butler create`` runs) with its registry in PostgreSQL
   and its datastore under the repository root: a directory, ``s3://`` or ``gs://``;
3. the four DP0.1 RUN collections (seed §2.1.2) under the CHAINED collection ``2.2i/runs/DP0.1``;
4. the dataset types of the seed's Appendix B with their storage classes;
5. the SELECT-only role's privileges: USAGE on the registry schema, SELECT on every table, and
   default privileges so that the dataset tables the writer creates later are readable too.

The roles themselves (and their passwords) are made by whoever may create roles: the ``butler``
Ansible role locally (as ``postgres``), ``gcp.sql.User`` on Cloud SQL. This module only checks
that the reader exists.

Self-contained on purpose: the Pulumi program ships this file's text as a ConfigMap to a pinned
Python image with pinned lsst-daf-butler, so it imports only the standard library, SQLAlchemy and
lsst.daf.butler / lsst.utils / lsst.resources (``tests/butler`` checks it). Run as a script it is
the Job's command (see :func:`main`).
"""

# lsst.daf.butler and SQLAlchemy are imported inside the functions: `idf --help` stays fast.
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CHAIN",
    "DATASET_TYPES",
    "REGISTRY_EXTENSION",
    "RUNS",
    "BootstrapResult",
    "BootstrapSpec",
    "bootstrap",
    "main",
]

REGISTRY_EXTENSION = "btree_gist"
CHAIN = "2.2i/runs/DP0.1"
#: The four Gen3 RUN collections converted from DESC's Gen2 reruns (seed §2.1.2).
RUNS = (
    "2.2i/runs/DP0.1/calexp/v1",
    "2.2i/runs/DP0.1/coadd/wfd/dr6/v1/u",
    "2.2i/runs/DP0.1/coadd/wfd/dr6/v1/grizy",
    "2.2i/runs/DP0.1/coadd/wfd/dr6/v1",
)
_VISIT = ("instrument", "detector", "visit")
_COADD = ("band", "skymap", "tract", "patch")
_MERGED = ("skymap", "tract", "patch")

#: Appendix B of the seed: dataset type -> (dimensions, storage class, is calibration).
DATASET_TYPES: dict[str, tuple[tuple[str, ...], str, bool]] = {
    "skyMap": (("skymap",), "SkyMap", False),
    "raw": (("instrument", "detector", "exposure"), "Exposure", False),
    "icSrc": (_VISIT, "SourceCatalog", False),
    "calexp": (_VISIT, "ExposureF", False),
    "calexpBackground": (_VISIT, "Background", False),
    "src": (_VISIT, "SourceCatalog", False),
    "srcMatch": (_VISIT, "Catalog", False),
    "skyCorr": (_VISIT, "Background", False),
    "deepCoadd": (_COADD, "ExposureF", False),
    "deepCoadd_calexp": (_COADD, "ExposureF", False),
    "deepCoadd_calexp_background": (_COADD, "Background", False),
    "deepCoadd_deblendedFlux": (_COADD, "SourceCatalog", False),
    "deepCoadd_det": (_COADD, "SourceCatalog", False),
    "deepCoadd_forced_src": (_COADD, "SourceCatalog", False),
    "deepCoadd_mcalmax_deblended": (_MERGED, "SourceCatalog", False),
    "deepCoadd_meas": (_COADD, "SourceCatalog", False),
    "deepCoadd_measMatch": (_COADD, "Catalog", False),
    "deepCoadd_measMatchFull": (_COADD, "Catalog", False),
    "deepCoadd_mergeDet": (_MERGED, "SourceCatalog", False),
    "deepCoadd_ngmix_deblended": (_MERGED, "SourceCatalog", False),
    "deepCoadd_nImage": (_COADD, "ImageU", False),
    "deepCoadd_ref": (_MERGED, "SourceCatalog", False),
    "icSrc_schema": ((), "SourceCatalog", False),
    "src_schema": ((), "SourceCatalog", False),
    "deepCoadd_meas_schema": ((), "SourceCatalog", False),
    "deepCoadd_mergeDet_schema": ((), "SourceCatalog", False),
    "deepCoadd_ngmix_deblended_schema": ((), "SourceCatalog", False),
    "deepCoadd_peak_schema": ((), "PeakCatalog", False),
    "deepCoadd_ref_schema": ((), "SourceCatalog", False),
    "deepCoadd_forced_src_schema": ((), "SourceCatalog", False),
    "deepCoadd_deblendedFlux_schema": ((), "SourceCatalog", False),
    "deepCoadd_deblendedModel_schema": ((), "SourceCatalog", False),
    "deepCoadd_det_schema": ((), "SourceCatalog", False),
    "deepCoadd_mcalmax_deblended_schema": ((), "SourceCatalog", False),
    "camera": (("instrument",), "Camera", True),
    "bias": (("instrument", "detector"), "ExposureF", True),
    "dark": (("instrument", "detector"), "ExposureF", True),
    "flat": (("instrument", "detector", "physical_filter"), "ExposureF", True),
    "cal_ref_cat_2_2": (("htm7",), "SimpleCatalog", False),
    "packages": ((), "Packages", False),
}

# Environment of the script form (the Job): the writer's password comes from a Kubernetes Secret.
WRITER_PASSWORD_ENV = "IDF_BUTLER_WRITER_PASSWORD"  # noqa: S105  # pragma: allowlist secret - a variable name


class BootstrapError(Exception):
    """A bootstrap step failed; the message says which and what to do."""


@dataclass(frozen=True)
class BootstrapSpec:
    """What to bootstrap: where the repository lives and which registry roles it uses."""

    repo_uri: str
    """Repository root: a directory, ``s3://[profile@]bucket/path`` or ``gs://bucket/path``."""
    db_url: str
    """Registry URL of the writer role (``postgresql+psycopg2://writer@host:port/db``); its
    password is looked up through lsst.utils DbAuth (``LSST_DB_AUTH`` / ``LSST_DB_AUTH_CREDENTIALS``)."""
    reader_role: str
    """The SELECT-only registry role users connect as."""
    extra_dataset_types: dict[str, tuple[tuple[str, ...], str, bool]] = field(default_factory=dict)
    """Dataset types registered beside Appendix B's (the local stack adds one it can store)."""


@dataclass(frozen=True)
class BootstrapResult:
    """What :func:`bootstrap` changed: one line per step that wrote something."""

    changed: bool
    steps: list[str]


def _engine(db_url: str) -> Any:
    """A SQLAlchemy engine for the writer, with the password from DbAuth (as the Butler finds it)."""
    import sqlalchemy
    from lsst.utils.db_auth import DbAuth

    url = sqlalchemy.engine.make_url(db_url)
    if url.password is None:
        username, password = DbAuth().getAuth(
            "postgresql", url.username, url.host, url.port or 5432, url.database
        )
        url = url.set(username=username, password=password)
    return sqlalchemy.create_engine(url, pool_pre_ping=True)


def _scalar(conn: Any, sql: str, **params: object) -> Any:
    from sqlalchemy import text

    return conn.execute(text(sql), params).scalar()


def _ensure_extension(engine: Any, steps: list[str]) -> None:
    with engine.begin() as conn:
        if _scalar(conn, "SELECT count(*) FROM pg_extension WHERE extname = :e", e=REGISTRY_EXTENSION):
            return
        # btree_gist is a trusted extension (PostgreSQL >= 13): the database owner may create it;
        # on Cloud SQL a cloudsqlsuperuser member may.
        conn.exec_driver_sql(f"CREATE EXTENSION IF NOT EXISTS {REGISTRY_EXTENSION}")
    steps.append(f"extension {REGISTRY_EXTENSION}")


def _ensure_repo(spec: BootstrapSpec, steps: list[str]) -> None:
    from lsst.daf.butler import Butler, Config
    from lsst.resources import ResourcePath

    config_uri = ResourcePath(spec.repo_uri, forceDirectory=True).join("butler.yaml")
    if config_uri.exists():
        return
    config = Config()
    config["registry", "db"] = spec.db_url
    try:
        Butler.makeRepo(spec.repo_uri, config=config)
    except Exception as exc:
        if config_uri.exists():
            config_uri.remove()  # a failed create leaves butler.yaml behind (FIELD-NOTES)
        raise BootstrapError(
            f"butler create {spec.repo_uri} (registry {spec.db_url}) failed: {type(exc).__name__}: {exc}; "
            "check that the registry accepts the writer (LSST_DB_AUTH) and the datastore is writable"
        ) from exc
    steps.append(f"repository {spec.repo_uri}")


def _ensure_collections_and_types(spec: BootstrapSpec, steps: list[str]) -> None:
    from lsst.daf.butler import Butler, CollectionType, DatasetType

    butler = Butler.from_config(spec.repo_uri, writeable=True)
    try:
        registry = butler.registry
        for run in RUNS:
            if registry.registerRun(run):
                steps.append(f"RUN {run}")
        if registry.registerCollection(CHAIN, CollectionType.CHAINED):
            steps.append(f"CHAINED {CHAIN}")
        # Search order: most derived first (coadds before calexps), as Gen2 parent chains did.
        wanted_chain = list(reversed(RUNS))
        if list(registry.getCollectionChain(CHAIN)) != wanted_chain:
            registry.setCollectionChain(CHAIN, wanted_chain)
            steps.append(f"chain {CHAIN} -> {', '.join(wanted_chain)}")
        for name, (dimensions, storage_class, is_calibration) in {
            **DATASET_TYPES,
            **spec.extra_dataset_types,
        }.items():
            dataset_type = DatasetType(
                name, dimensions, storage_class, universe=butler.dimensions, isCalibration=is_calibration
            )
            if registry.registerDatasetType(dataset_type):
                steps.append(f"dataset type {name} ({storage_class})")
    finally:
        butler.close()


def _ensure_reader_privileges(engine: Any, reader: str, steps: list[str]) -> None:
    from sqlalchemy import text

    ident = '"' + reader.replace('"', '""') + '"'
    with engine.begin() as conn:
        if not _scalar(conn, "SELECT count(*) FROM pg_roles WHERE rolname = :r", r=reader):
            raise BootstrapError(
                f"registry role {reader} does not exist: create it first (the butler role locally, "
                "gcp.sql.User on Cloud SQL), then run the bootstrap again"
            )
        if not _scalar(conn, "SELECT has_schema_privilege(:r, 'public', 'USAGE')", r=reader):
            conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {ident}")
            steps.append(f"USAGE on schema public to {reader}")
        unreadable = conn.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v') "
                "AND NOT has_table_privilege(:r, c.oid, 'SELECT') ORDER BY 1"
            ),
            {"r": reader},
        ).scalars()
        missing = list(unreadable)
        if missing:
            conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {ident}")
            steps.append(f"SELECT on {len(missing)} tables to {reader}")
        # Dataset tables are created lazily by the writer: the reader must see those too.
        has_default = _scalar(
            conn,
            "SELECT count(*) FROM pg_default_acl d, aclexplode(d.defaclacl) a "
            "WHERE d.defaclrole = current_user::regrole AND d.defaclnamespace = 'public'::regnamespace "
            "AND d.defaclobjtype = 'r' AND a.grantee = CAST(:r AS regrole) AND a.privilege_type = 'SELECT'",
            r=reader,
        )
        if not has_default:
            conn.exec_driver_sql(
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {ident}"
            )
            steps.append(f"default SELECT on the writer's future tables to {reader}")
        writable = _scalar(
            conn,
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
            "AND has_table_privilege(:r, c.oid, 'INSERT,UPDATE,DELETE,TRUNCATE')",
            r=reader,
        )
        if writable:
            raise BootstrapError(
                f"registry role {reader} can write {writable} tables: it must be SELECT-only; "
                f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public FROM {reader}"
            )


def bootstrap(spec: BootstrapSpec) -> BootstrapResult:
    """Create or complete the repository of ``spec``; see the module docstring for the steps."""
    steps: list[str] = []
    engine = _engine(spec.db_url)
    try:
        _ensure_extension(engine, steps)
        _ensure_repo(spec, steps)
        _ensure_collections_and_types(spec, steps)
        _ensure_reader_privileges(engine, spec.reader_role, steps)
    finally:
        engine.dispose()
    return BootstrapResult(changed=bool(steps), steps=steps)


def _writer_credentials(db_url: str, password: str) -> str:
    """LSST_DB_AUTH_CREDENTIALS (JSON) holding only the writer's entry for ``db_url``."""
    import sqlalchemy

    url = sqlalchemy.engine.make_url(db_url)
    port = f":{url.port}" if url.port else ""
    # DbAuth entries name the plain dialect (FIELD-NOTES: not postgresql+psycopg2).
    pattern = f"postgresql://{url.username}@{url.host}{port}/{url.database}"
    return json.dumps([{"url": pattern, "username": url.username, "password": password}])


def main(argv: list[str] | None = None) -> int:
    """The Job's command: ``python bootstrap.py --repo URI --db-url URL --reader-role ROLE``.

    The writer's password is read from ``$IDF_BUTLER_WRITER_PASSWORD`` (a Kubernetes Secret) when
    ``LSST_DB_AUTH`` / ``LSST_DB_AUTH_CREDENTIALS`` are not set. Prints the result as one JSON line;
    exit 0 when done (changed or not), 1 when a step failed."""
    parser = argparse.ArgumentParser(prog="butler-bootstrap", description=__doc__.splitlines()[0])
    parser.add_argument("--repo", required=True, help="repository root (directory, s3:// or gs://)")
    parser.add_argument("--db-url", required=True, help="writer's registry URL (postgresql+psycopg2://)")
    parser.add_argument("--reader-role", required=True, help="the SELECT-only registry role")
    args = parser.parse_args(argv)
    password = os.environ.get(WRITER_PASSWORD_ENV)
    if password and not (os.environ.get("LSST_DB_AUTH") or os.environ.get("LSST_DB_AUTH_CREDENTIALS")):
        os.environ["LSST_DB_AUTH_CREDENTIALS"] = _writer_credentials(args.db_url, password)
    try:
        result = bootstrap(
            BootstrapSpec(repo_uri=args.repo, db_url=args.db_url, reader_role=args.reader_role)
        )
    except Exception as exc:  # noqa: BLE001 - the Job's log gets one line, never a traceback
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}), file=sys.stderr)
        return 1
    print(json.dumps({"ok": True, "changed": result.changed, "steps": result.steps}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
