"""L3-MW-0010 (Qserv installed) and L3-MW-0020 (DP0.1 data loaded): the Qserv front end."""

# Heavy clients are imported inside the checks that use them, so that `idf --help` and the
# registry commands stay fast (CONTRIBUTING: cheap imports).
# ruff: noqa: PLC0415

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idf_core.errors import BadInput
from idf_ops.gates.checks import _gcp
from idf_ops.gates.checks.base import Budget, CheckContext, CheckFailedError, Outcome, check

if TYPE_CHECKING:
    from idf_core.contract import StackOutputs
    from idf_ops.gates.registry import Gate

__all__ = [
    "check_catalogs_crosscheck",
    "check_qserv_frontend",
    "check_qserv_workers",
    "check_table_loaded",
]


@contextlib.contextmanager
def _qserv_connect(outputs: StackOutputs, budget: Budget) -> Iterator[Any]:
    import pymysql

    qserv = outputs.qserv
    # Qserv's default client account; the local stand-in generates its password into the secrets dir.
    from idf_clients.qserv import reader_password
    from idf_core.facts import QSERV_READER_USER

    user = QSERV_READER_USER
    try:
        password = reader_password(outputs.secrets_dir, user)
    except BadInput as exc:
        raise CheckFailedError(str(exc)) from exc
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


@check(id="qserv-frontend", live=True, stack_kinds={"local", "gcp"}, timeout_s=30, requires=("pymysql",))
def check_qserv_frontend(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """The MySQL-protocol front end answers and serves the catalog database."""
    out = ctx.outputs
    with _qserv_connect(out, budget) as conn, conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        (version,) = cur.fetchone()
        cur.execute("SHOW TABLES")
        tables = sorted(row[0] for row in cur.fetchall())
    evidence = [
        f"{out.qserv.host}:{out.qserv.port} {out.qserv.dialect} version {version}",
        f"database {out.qserv.database}: {len(tables)} tables",
    ]
    label = " (stand-in)" if out.qserv.dialect == "mariadb-standin" else ""
    return Outcome(f"front end answers{label}", evidence)


@check(
    id="qserv-workers",
    live=True,
    stack_kinds={"local", "gcp"},
    timeout_s=30,
    requires=("pymysql",),
)
def check_qserv_workers(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """The expected workers are up (locally the stand-in server is the single worker; gcp:
    qserv-operator and the Qserv pods through the Kubernetes API, :func:`._gcp.qserv_workers`)."""
    out = ctx.outputs
    if out.kind == "gcp":
        return _gcp.qserv_workers(ctx, budget)
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


def _manifest_entry(out: StackOutputs, table: str, budget: Budget) -> Any:
    """The load manifest's record (rows, key column, checksum) of one table."""
    from idf_core.errors import BadInput
    from idf_ops.catalogs.load import read_manifest

    if not out.catalog_load_manifest:
        raise CheckFailedError("the stack outputs name no catalog_load_manifest")
    if out.catalog_load_manifest.startswith("gs://"):
        return _gcp.manifest_entry(out.catalog_load_manifest, table, budget)
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


@check(
    id="table-loaded",
    live=True,
    stack_kinds={"local", "gcp"},
    timeout_s=300,
    requires=("pymysql", "idf_ops.catalogs.checksum", "idf_ops.catalogs.load"),
    gate="table",
)
def check_table_loaded(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """One DP0.1 table is in the Qserv front end with the manifest's row count and checksum.

    The checksum is the project's key checksum (:mod:`idf_ops.catalogs.checksum`), computed by the
    database itself in one scan, so the gate compares what is served with what the loader wrote.
    """
    from idf_ops.catalogs.checksum import checksum_sql
    from idf_ops.gates.registry import TableGate  # at call time: the registry imports the checks

    if not isinstance(gate, TableGate):  # the record's gate_type guarantees it
        raise TypeError(f"{gate!r} is not a TableGate")
    out = ctx.outputs
    entry = _manifest_entry(out, gate.table, budget)
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


@check(
    id="catalogs-crosscheck",
    live=True,
    stack_kinds={"local", "gcp"},
    timeout_s=300,
    requires=("pymysql", "pyarrow", "lsst.sphgeom", "idf_ops.catalogs.crosscheck"),
)
def check_catalogs_crosscheck(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """The catalogs at this IDF's Qserv equal the ones at the second (IN2P3) front end, chunk by
    chunk, and both equal the source files (:mod:`idf_ops.catalogs.crosscheck`, seed §3.4.4).

    Locally the second front end is the ``in2p3`` MariaDB stand-in. The outputs contract of the
    cloud stacks names no IN2P3 front end yet, so there the gate fails saying so."""
    from idf_core.errors import IdfError
    from idf_ops.catalogs.crosscheck import crosscheck, resolve_endpoint

    out = ctx.outputs
    if out.kind != "local":
        raise CheckFailedError(
            "the stack outputs name no second (IN2P3) Qserv front end to cross-check against; run "
            "`idf catalogs crosscheck <this front end> <IN2P3 front end>` by hand and attach its JSON"
        )
    manifest = None
    if out.catalog_load_manifest and not out.catalog_load_manifest.startswith("gs://"):
        manifest = Path(out.catalog_load_manifest.removeprefix("file://"))
    try:
        a, b = (
            resolve_endpoint(name, password_file=None, secrets_dir=out.secrets_dir, ingest_url=None)
            for name in ("idf", "in2p3")
        )
        report = crosscheck(a, b, database=out.qserv.database, manifest=manifest)
    except IdfError as exc:
        raise CheckFailedError(str(exc)) from exc
    evidence = [
        f"{t.table}: {t.chunks} chunks, {t.differing_chunks} differ, rows {t.rows}" for t in report.tables
    ]
    evidence += [
        f"row {r.table} {r.key} (chunk {r.chunk}): {r.kind} at {', '.join(r.blamed)}"
        for r in report.row_diffs[:10]
    ]
    evidence.append(f"wall {report.timings_s['wall']:.1f} s")
    if not report.equal:
        raise CheckFailedError(
            f"the front ends differ in {len(report.chunk_diffs)} chunks ({len(report.row_diffs)} rows)",
            evidence,
        )
    return Outcome(f"idf and in2p3 equal in {sum(t.chunks for t in report.tables)} table chunks", evidence)
