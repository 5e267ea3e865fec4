"""Cross-check one catalog database at two Qserv front ends, and blame a difference on a site.

The seed (§3.4.4) ingests the same catalogs into the Qserv at IDF and the one at IN2P3 and
cross-checks them. Rows never move: both front ends compute, per table and per chunk
(``chunkId``), an order-independent fingerprint with the only aggregates Qserv's front end accepts
(COUNT, SUM, AVG, MIN, MAX; BIT_XOR is refused):

    count     = COUNT(*)
    key_sum   = SUM(key)             (integer keys; for text keys the SUM of the key's MD5 cut, below)
    row_sum   = SUM( CAST(CONV(SUBSTRING(MD5(row_text), 1, 15), 16, 10) AS UNSIGNED) )

``row_text`` is ``CONCAT_WS('|', ...)`` of the key and a chosen column set, each written
explicitly so that Python computes the same text from the source files:

- integers and booleans: decimal text (booleans are 0/1);
- floating point: ``CAST(ROUND(x * 1000000) AS SIGNED)``, micro-units rounded half to even
  (MariaDB's ROUND of a DOUBLE is rint(); numpy.rint is the same), so float32 and float64
  columns compare exactly without depending on either side's float-to-text conversion;
- text: the value without trailing blanks (CHAR padding);
- NULL (and NaN, which the stand-in stores as NULL) as the marker ``<null>``: CONCAT_WS would
  otherwise skip NULLs and shift the fields.

Each term is < 2**60, so the sums are exact (DECIMAL in the database, int in Python). The same
fingerprint is computed from the generated Parquet files named by the dataload manifest, with
chunk ids from :mod:`idf_ops.qserv_local.chunking`, so a differing chunk is blamed on the site
that differs from the source. A differing chunk is drilled down with aggregates again: per
``subChunkId``, then ``GROUP BY key`` inside the differing sub-chunks, which names the rows
that were changed, deleted or duplicated.

Where a front end's ingest REST API is configured, its ``/ingest/table-stats`` row counters are
the first pass (row counts per chunk without touching the tables); the fingerprints follow in
any case, since a changed row keeps every count. Per-chunk queries run in parallel on a bounded
pool (one connection per worker and side); every query's database time is recorded so that the
report can say how much of the wall time was spent in the databases.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from idf_clients import qserv
from idf_core.errors import BadInput, OperationFailed
from idf_core.facts import QSERV_INSTANCES
from idf_ops.catalogs.checksum import key_hash
from idf_ops.catalogs.load import read_manifest
from idf_ops.catalogs.schema import KEY_COLUMNS, POSITION_COLUMNS, SCHEMA_NAME, TABLE_NAMES

__all__ = [
    "NULL_MARKER",
    "ChunkDiff",
    "CrosscheckReport",
    "Endpoint",
    "RowDiff",
    "TableReport",
    "crosscheck",
    "resolve_endpoint",
    "row_text",
]

NULL_MARKER = "<null>"
FLOAT_SCALE = 1_000_000
#: Extra columns (after key and position) in each table's default fingerprint, in schema order.
DEFAULT_EXTRA_COLUMNS = 6
Kind = Literal["int", "float", "str"]
_INT_TYPES = {"tinyint", "smallint", "mediumint", "int", "bigint", "bit"}
_FLOAT_TYPES = {"float", "double", "decimal", "real"}
_CHUNK_COLUMNS = ("chunkId", "subChunkId")


@dataclass(frozen=True)
class Endpoint:
    """A Qserv front end to compare: a local instance name or ``user@host:port``."""

    name: str
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    ingest_url: str | None = None


def resolve_endpoint(
    spec: str, *, password_file: Path | None, secrets_dir: str | None, ingest_url: str | None
) -> Endpoint:
    """The front end ``spec`` names: ``idf`` / ``in2p3`` (the local instances), or
    ``[user@]host:port`` with the password read from ``password_file`` (a secret reference)."""
    if spec in QSERV_INSTANCES:
        instance = QSERV_INSTANCES[spec]
        password = (
            qserv.password_from_file(password_file)
            if password_file
            else qserv.reader_password(secrets_dir, instance.reader_user)
        )
        return Endpoint(spec, instance.host, instance.port, instance.reader_user, password, ingest_url)
    user, _, address = spec.rpartition("@")
    host, sep, port_text = address.rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise BadInput(
            f"front end {spec!r}: expected {' or '.join(QSERV_INSTANCES)} or [user@]host:port "
            "(with --password-file-a/-b naming the file holding the password)"
        )
    return Endpoint(
        spec, host, int(port_text), user or "qsmaster", qserv.password_from_file(password_file), ingest_url
    )


# --- the fingerprint, in SQL and in Python ------------------------------------------------------


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _field_sql(column: str, kind: Kind) -> str:
    if kind == "float":
        value = f"CAST(ROUND({_q(column)} * {FLOAT_SCALE}) AS SIGNED)"
    elif kind == "int":
        value = f"CAST({_q(column)} AS CHAR)"
    else:
        value = _q(column)
    return f"IFNULL({value}, '{NULL_MARKER}')"


def _hash_sql(columns: list[tuple[str, Kind]]) -> str:
    text = "CONCAT_WS('|', " + ", ".join(_field_sql(c, k) for c, k in columns) + ")"
    return f"CAST(CONV(SUBSTRING(MD5({text}), 1, 15), 16, 10) AS UNSIGNED)"


def _key_sql(key: str, kind: Kind) -> str:
    if kind == "int":
        return _q(key)
    return f"CAST(CONV(SUBSTRING(MD5(CAST({_q(key)} AS CHAR)), 1, 15), 16, 10) AS UNSIGNED)"


def _field_text(value: Any, kind: Kind) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):  # NaN is NULL in the stand-in
        return NULL_MARKER
    if kind == "float":
        return str(int(np.rint(float(value) * FLOAT_SCALE)))
    if kind == "int":
        return str(int(value))
    return str(value).rstrip(" ")


def row_text(values: Iterable[Any], kinds: Iterable[Kind]) -> str:
    """The text hashed for one row, exactly as the SQL side builds it."""
    return "|".join(_field_text(v, k) for v, k in zip(values, kinds, strict=True))


def _row_hash(text: str) -> int:
    return int(hashlib.md5(text.encode()).hexdigest()[:15], 16)  # noqa: S324 - a fingerprint, not security


def _key_term(value: Any, kind: Kind) -> int:
    return int(value) if kind == "int" else key_hash(str(value).rstrip(" "))


Fingerprint = tuple[int, int, int]  # (count, key_sum, row_sum)


def _add(a: Fingerprint, b: Fingerprint) -> Fingerprint:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


# --- report models -------------------------------------------------------------------------------


class RowDiff(BaseModel):
    """One row key whose copies differ, and how each site holds it."""

    model_config = ConfigDict(extra="forbid")

    table: str = Field(title="Table", description="Catalog table.")
    chunk: int = Field(title="Chunk", description="chunkId of the row.")
    sub_chunk: int = Field(title="Sub-chunk", description="subChunkId of the row.")
    key: str = Field(title="Key", description="Value of the table's key column.")
    kind: str = Field(title="Kind", description="changed, missing, duplicated or extra (at the blamed site).")
    blamed: list[str] = Field(title="Blamed", description="Sites whose copy differs from the source files.")
    copies: dict[str, int] = Field(title="Copies", description="Rows with this key per site (and source).")


class ChunkDiff(BaseModel):
    """A chunk whose fingerprints differ."""

    model_config = ConfigDict(extra="forbid")

    table: str = Field(title="Table", description="Catalog table.")
    chunk: int = Field(title="Chunk", description="chunkId.")
    rows: dict[str, int] = Field(title="Rows", description="Row count of the chunk per site (and source).")
    blamed: list[str] = Field(title="Blamed", description="Sites that differ from the source (all if none).")


class TableReport(BaseModel):
    """One table: totals and chunk counts."""

    model_config = ConfigDict(extra="forbid")

    table: str = Field(title="Table", description="Catalog table.")
    columns: list[str] = Field(title="Columns", description="Key and columns in the fingerprint.")
    rows: dict[str, int] = Field(title="Rows", description="Row count per site (and source).")
    chunks: int = Field(title="Chunks", description="Chunks compared.")
    differing_chunks: int = Field(title="Differing chunks", description="Chunks whose fingerprints differ.")
    count_source: dict[str, str] = Field(
        title="Count source",
        description="Per site, where the per-chunk row counts came from (sql / ingest-api).",
    )


class CrosscheckReport(BaseModel):
    """The whole comparison."""

    model_config = ConfigDict(extra="forbid")

    database: str = Field(title="Database", description="Catalog database compared.")
    sites: list[str] = Field(title="Sites", description="The two front ends (A, B).")
    source: str | None = Field(title="Source", description="Load manifest whose files were fingerprinted.")
    equal: bool = Field(title="Equal", description="Whether every table is equal at both sites.")
    tables: list[TableReport] = Field(title="Tables", description="Per-table summary.")
    chunk_diffs: list[ChunkDiff] = Field(title="Differing chunks", description="Chunks that differ.")
    row_diffs: list[RowDiff] = Field(title="Differing rows", description="Rows that differ, by key.")
    timings_s: dict[str, float] = Field(
        title="Timings",
        description="wall; database (query seconds summed over the parallel queries) and per site; "
        "database_in_flight (wall seconds with at least one query running); source (fingerprinting the "
        "source files); queries (count).",
    )


# --- talking to one site ---------------------------------------------------------------------------


class _Site:
    """One front end: a connection per worker thread, database time summed under a lock."""

    def __init__(self, endpoint: Endpoint, database: str) -> None:
        self.endpoint = endpoint
        self.database = database
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[Any] = []
        self.db_seconds = 0.0
        self.queries = 0
        self.intervals: list[tuple[float, float]] = []

    def _connection(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            e = self.endpoint
            try:
                connection = qserv.connect(e.host, e.port, e.user, e.password, self.database)
            except OperationFailed as exc:
                raise BadInput(f"front end {e.name} ({e.host}:{e.port}) is unreachable: {exc}") from exc
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def rows(self, sql: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
        connection = self._connection()
        begun = time.perf_counter()
        try:
            result, seconds = qserv.query(connection, sql, params)
        except OperationFailed as exc:
            # Not a difference (exit 1): the comparison could not be made (exit 2, like unreachable).
            e = self.endpoint
            raise BadInput(
                f"front end {e.name} ({e.host}:{e.port}) failed a cross-check query: {exc}; "
                "if it hit the reader's statement-time limit, retry with fewer --jobs or when it is less busy"
            ) from exc
        with self._lock:
            self.db_seconds += seconds
            self.queries += 1
            self.intervals.append((begun, begun + seconds))
        return result

    def close(self) -> None:
        for connection in self._connections:
            connection.close()


# --- the source files ---------------------------------------------------------------------------


@dataclass
class _SourceTable:
    chunk: np.ndarray
    sub_chunk: np.ndarray
    keys: list[str]
    key_terms: list[int]
    hashes: list[int]

    def fingerprints(
        self, mask: np.ndarray | None = None, by: np.ndarray | None = None
    ) -> dict[int, Fingerprint]:
        groups = self.chunk if by is None else by
        out: dict[int, Fingerprint] = {}
        indices = np.nonzero(mask)[0] if mask is not None else range(len(self.keys))
        for i in indices:
            g = int(groups[i])
            out[g] = _add(out.get(g, (0, 0, 0)), (1, self.key_terms[i], self.hashes[i]))
        return out


def _source_table(parquet: Path, table: str, columns: list[tuple[str, Kind]]) -> _SourceTable:
    """The fingerprint terms of every row of the generated source file, with Qserv chunk ids."""
    from idf_ops.qserv_local.chunking import chunk_ids  # noqa: PLC0415 - sphgeom on first use

    ra_col, dec_col = POSITION_COLUMNS[table]
    names = [c for c, _ in columns]
    wanted = list(dict.fromkeys([*names, ra_col, dec_col]))
    data = pq.read_table(parquet, columns=wanted)
    chunk, sub_chunk = chunk_ids(
        np.asarray(data.column(ra_col).to_numpy(zero_copy_only=False), dtype=np.float64),
        np.asarray(data.column(dec_col).to_numpy(zero_copy_only=False), dtype=np.float64),
    )
    lists = [data.column(n).to_pylist() for n in names]
    kinds = [k for _, k in columns]
    key_kind = columns[0][1]
    hashes = [_row_hash(row_text(row, kinds)) for row in zip(*lists, strict=True)]
    key_values = lists[0]
    return _SourceTable(
        chunk=chunk,
        sub_chunk=sub_chunk,
        keys=[_field_text(v, key_kind) for v in key_values],
        key_terms=[_key_term(v, key_kind) for v in key_values],
        hashes=hashes,
    )


# --- the comparison -------------------------------------------------------------------------------


def _kind(data_type: str) -> Kind:
    if data_type in _INT_TYPES:
        return "int"
    if data_type in _FLOAT_TYPES:
        return "float"
    return "str"


def _columns(site: _Site, table: str, chosen: list[str] | None) -> list[tuple[str, Kind]]:
    found = site.rows(
        "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS "
        "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
        (site.database, table),
    )
    types = {str(name): _kind(str(dtype).lower()) for name, dtype in found}
    if not types:
        raise BadInput(
            f"front end {site.endpoint.name}: no table {site.database}.{table}; load the catalogs first"
        )
    key = KEY_COLUMNS[table]
    if chosen:
        unknown = [c for c in chosen if c not in types]
        if unknown:
            raise BadInput(
                f"--columns {table}=...: {', '.join(unknown)} not in {table}; choose from its schema"
            )
        names = [key, *[c for c in chosen if c != key]]
    else:
        position = list(POSITION_COLUMNS[table])
        skip = {key, *position, *_CHUNK_COLUMNS}
        extra = [n for n in types if n not in skip][:DEFAULT_EXTRA_COLUMNS]
        names = [key, *position, *extra]
    return [(n, types[n]) for n in names]


def _diff_keys(values: dict[str, Fingerprint]) -> bool:
    return len(set(values.values())) > 1


def _blame(values: dict[str, Any], sites: list[str], has_source: bool) -> list[str]:
    if not has_source:
        return list(sites)
    return [s for s in sites if values.get(s) != values.get("source")]


@dataclass
class _Table:
    name: str
    columns: list[tuple[str, Kind]]
    source: _SourceTable | None = None


def crosscheck(
    a: Endpoint,
    b: Endpoint,
    *,
    database: str = SCHEMA_NAME,
    tables: list[str] | None = None,
    columns: dict[str, list[str]] | None = None,
    manifest: Path | None = None,
    jobs: int = 4,
    table_stats: Callable[[str, str, str], dict[int, int]] = qserv.ingest_table_stats,
) -> CrosscheckReport:
    """Compare ``database`` at front ends ``a`` and ``b`` (see the module docstring)."""
    started = time.perf_counter()
    chosen = tables or list(TABLE_NAMES)
    bad = [t for t in chosen if t not in TABLE_NAMES]
    if bad:
        raise BadInput(f"--table {', '.join(bad)}: not a catalog table; choose from {', '.join(TABLE_NAMES)}")
    if a.name == b.name:
        raise BadInput(f"front ends A and B are both {a.name!r}: name two different ones")
    source_files: dict[str, Path] = {}
    if manifest is not None:
        loaded = read_manifest(manifest)
        if loaded is None:
            raise BadInput(f"{manifest}: no load manifest; run `idf local up` or pass --no-source")
        source_files = {t: Path(r.parquet_file) for t, r in loaded.tables.items()}
        missing = [t for t in chosen if t not in source_files or not source_files[t].is_file()]
        if missing:
            raise BadInput(
                f"{manifest}: no source file of {', '.join(missing)}; run `idf local up` or pass --no-source"
            )
    sites = {a.name: _Site(a, database), b.name: _Site(b, database)}
    names = [a.name, b.name]
    has_source = bool(source_files)
    source_seconds = 0.0
    table_reports: list[TableReport] = []
    chunk_diffs: list[ChunkDiff] = []
    row_diffs: list[RowDiff] = []
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs) * 2) as pool:
            for table in chosen:
                spec = _Table(table, _columns(sites[a.name], table, (columns or {}).get(table)))
                other = _columns(sites[b.name], table, [c for c, _ in spec.columns])
                if other != spec.columns:
                    raise OperationFailed(f"{table}: the column types differ between {a.name} and {b.name}")
                if has_source:
                    t0 = time.perf_counter()
                    spec.source = _source_table(source_files[table], table, spec.columns)
                    source_seconds += time.perf_counter() - t0
                report, diffs, rows = _compare_table(pool, sites, names, spec, database, table_stats)
                table_reports.append(report)
                chunk_diffs += diffs
                row_diffs += rows
    finally:
        for site in sites.values():
            site.close()
    wall = time.perf_counter() - started
    in_flight = _union_seconds([i for s in sites.values() for i in s.intervals])
    return CrosscheckReport(
        database=database,
        sites=names,
        source=str(manifest) if has_source else None,
        equal=not chunk_diffs and all(len(set(t.rows.values())) == 1 for t in table_reports),
        tables=table_reports,
        chunk_diffs=chunk_diffs,
        row_diffs=row_diffs,
        timings_s={
            "wall": round(wall, 3),
            "database": round(sum(s.db_seconds for s in sites.values()), 3),
            "database_in_flight": round(in_flight, 3),
            **{f"database_{n}": round(sites[n].db_seconds, 3) for n in names},
            "source": round(source_seconds, 3),
            "queries": float(sum(s.queries for s in sites.values())),
        },
    )


def _union_seconds(intervals: list[tuple[float, float]]) -> float:
    """Seconds during which at least one query was in flight (the databases' share of the wall time)."""
    total, end = 0.0, float("-inf")
    for begin, finish in sorted(intervals):
        if finish > end:
            total += finish - max(begin, end)
            end = finish
    return total


def _compare_table(  # noqa: PLR0917 - one table's whole comparison
    pool: ThreadPoolExecutor,
    sites: dict[str, _Site],
    names: list[str],
    spec: _Table,
    database: str,
    table_stats: Callable[[str, str, str], dict[int, int]],
) -> tuple[TableReport, list[ChunkDiff], list[RowDiff]]:
    table = spec.name
    key, key_kind = spec.columns[0]
    target = f"{_q(database)}.{_q(table)}"
    aggregates = (
        f"COUNT(*), COALESCE(SUM({_key_sql(key, key_kind)}), 0), COALESCE(SUM({_hash_sql(spec.columns)}), 0)"
    )

    # First pass: rows per chunk, from the ingest API where configured, else one aggregate query.
    counts: dict[str, dict[int, int]] = {}
    count_source: dict[str, str] = {}
    for name in names:
        endpoint = sites[name].endpoint
        if endpoint.ingest_url:
            counts[name] = table_stats(endpoint.ingest_url, database, table)
            count_source[name] = "ingest-api"
        else:
            per_chunk = f"SELECT {_q('chunkId')}, COUNT(*) FROM {target} GROUP BY {_q('chunkId')}"  # noqa: S608
            rows = sites[name].rows(per_chunk)
            counts[name] = {int(c): int(n) for c, n in rows}
            count_source[name] = "sql"
    source_fp = spec.source.fingerprints() if spec.source else {}
    chunks = sorted(set().union(*(counts[n] for n in names), source_fp))

    # Second pass: the fingerprint of every chunk at both sites, in parallel.
    sql = f"SELECT {aggregates} FROM {target} WHERE {_q('chunkId')} = %s"  # noqa: S608

    def one(name: str, chunk: int) -> Fingerprint:
        (count, key_sum, row_sum), *_ = sites[name].rows(sql, (chunk,))
        return (int(count), int(key_sum), int(row_sum))

    futures = {(n, c): pool.submit(one, n, c) for c in chunks for n in names}
    fingerprints = {(n, c): f.result() for (n, c), f in futures.items()}
    chunk_diffs: list[ChunkDiff] = []
    row_diffs: list[RowDiff] = []
    for chunk in chunks:
        values = {n: fingerprints[(n, chunk)] for n in names}
        if spec.source:
            values["source"] = source_fp.get(chunk, (0, 0, 0))
        if not _diff_keys(values):
            continue
        chunk_diffs.append(
            ChunkDiff(
                table=table,
                chunk=chunk,
                rows={n: v[0] for n, v in values.items()},
                blamed=_blame(values, names, spec.source is not None),
            )
        )
        row_diffs += _drill_down(pool, sites, names, spec, target, aggregates, chunk)
    totals = {n: sum(fingerprints[(n, c)][0] for c in chunks) for n in names}
    if spec.source:
        totals["source"] = len(spec.source.keys)
    report = TableReport(
        table=table,
        columns=[c for c, _ in spec.columns],
        rows=totals,
        chunks=len(chunks),
        differing_chunks=len(chunk_diffs),
        count_source=count_source,
    )
    return report, chunk_diffs, row_diffs


def _drill_down(  # noqa: PLR0917 - the chunk's context
    pool: ThreadPoolExecutor,
    sites: dict[str, _Site],
    names: list[str],
    spec: _Table,
    target: str,
    aggregates: str,
    chunk: int,
) -> list[RowDiff]:
    """Sub-chunks of ``chunk`` that differ, then the keys inside them that differ (aggregates only)."""
    key, key_kind = spec.columns[0]
    by_sub = (
        f"SELECT {_q('subChunkId')}, {aggregates} FROM {target} "  # noqa: S608
        f"WHERE {_q('chunkId')} = %s GROUP BY {_q('subChunkId')}"
    )
    per_site = {
        n: {int(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in f.result()}
        for n, f in {n: pool.submit(sites[n].rows, by_sub, (chunk,)) for n in names}.items()
    }
    if spec.source:
        in_chunk = spec.source.chunk == chunk
        per_site["source"] = spec.source.fingerprints(in_chunk, by=spec.source.sub_chunk)
    subs = sorted(set().union(*per_site.values()))
    differing = [s for s in subs if _diff_keys({n: v.get(s, (0, 0, 0)) for n, v in per_site.items()})]
    if not differing:
        return []
    placeholders = ", ".join(["%s"] * len(differing))
    by_key = (
        f"SELECT {_q(key)}, {_q('subChunkId')}, COUNT(*), COALESCE(SUM({_hash_sql(spec.columns)}), 0) "  # noqa: S608
        f"FROM {target} WHERE {_q('chunkId')} = %s AND {_q('subChunkId')} IN ({placeholders}) "
        f"GROUP BY {_q(key)}, {_q('subChunkId')}"
    )
    keyed: dict[str, dict[str, tuple[int, int, int]]] = {}
    for n, f in {n: pool.submit(sites[n].rows, by_key, (chunk, *differing)) for n in names}.items():
        keyed[n] = {_field_text(r[0], key_kind): (int(r[1]), int(r[2]), int(r[3])) for r in f.result()}
    if spec.source:
        src: dict[str, tuple[int, int, int]] = {}
        wanted = set(differing)
        for i in np.nonzero(spec.source.chunk == chunk)[0]:
            sub = int(spec.source.sub_chunk[i])
            if sub in wanted:
                k = spec.source.keys[i]
                prev = src.get(k, (sub, 0, 0))
                src[k] = (sub, prev[1] + 1, prev[2] + spec.source.hashes[i])
        keyed["source"] = src
    diffs: list[RowDiff] = []
    for k in sorted(set().union(*keyed.values())):
        held = {n: keyed[n].get(k) for n in keyed}
        if len({v[1:] if v else None for v in held.values()}) == 1:
            continue
        copies = {n: (v[1] if v else 0) for n, v in held.items()}
        blamed = _blame({n: (v[1:] if v else None) for n, v in held.items()}, names, spec.source is not None)
        diffs.append(
            RowDiff(
                table=spec.name,
                chunk=chunk,
                sub_chunk=next(v[0] for v in held.values() if v),
                key=k,
                kind=_row_kind(copies, blamed, spec.source is not None),
                blamed=blamed,
                copies=copies,
            )
        )
    return diffs


def _row_kind(copies: dict[str, int], blamed: list[str], has_source: bool) -> str:
    reference = copies["source"] if has_source else max(copies.values())
    site = blamed[0] if blamed else next(iter(copies))
    held = copies[site]
    if held == reference:
        return "changed"
    if held == 0:
        return "missing"
    if reference == 0:
        return "extra"
    return "duplicated" if held > reference else "missing"
