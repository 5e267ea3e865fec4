"""Load the catalog Parquet files into PostgreSQL at COPY speed, index them, and write the manifest.

For each table the loader streams Parquet record batches, encoded in PostgreSQL's binary COPY
format (:mod:`idf_ops.catalogs.pgbinary`), into a pipe that ``COPY ... FROM STDIN`` reads, in one
transaction that also drops and rebuilds the indexes (unique key index, q3c spatial index,
truth_match's match key, and any index DaCHS added), checks the row count and key checksum
(:mod:`idf_ops.catalogs.checksum`) against the Parquet file, and ANALYZEs. Encoding and the
server's COPY run on different cores, and the binary format spares the server the text-to-number
parsing that dominates a CSV COPY, so the load runs at or above a server-side ``COPY FROM 'file'``
(CSV) of the same rows (``python -m idf_ops.catalogs.bench_ingest``). Any failure rolls the table
back: no half-loaded table is ever visible.

Loading is idempotent: when the manifest records the same Parquet file (size and mtime, else its
SHA-256) for a table and the database still holds the recorded row count and checksum, the table
is skipped.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from idf_core.errors import BadInput, OperationFailed
from idf_ops.catalogs import pgbinary
from idf_ops.catalogs.checksum import arrow_checksum, checksum_sql
from idf_ops.catalogs.generate import parquet_path
from idf_ops.catalogs.pg import PgConnection
from idf_ops.catalogs.schema import KEY_COLUMNS, POSITION_COLUMNS, SCHEMA_NAME, TABLE_NAMES, pg_column

__all__ = [
    "LoadManifest",
    "TableLoad",
    "copy_parquet",
    "load_all",
    "read_manifest",
]

MANIFEST_VERSION = 1


class TableLoad(BaseModel):
    """What the manifest records for one table."""

    model_config = ConfigDict(extra="forbid")

    rows: int = Field(title="Rows", description="Row count of the loaded table.")
    key_column: str = Field(title="Key column", description="Column the checksum is computed over.")
    checksum: str = Field(
        title="Key checksum",
        description="Sum of the 60-bit MD5 prefix of each key's text, as a decimal string "
        "(idf_ops.catalogs.checksum).",
    )
    parquet_file: str = Field(title="Parquet file", description="Path of the Parquet file loaded.")
    parquet_sha256: str = Field(title="Parquet SHA-256", description="Digest of the Parquet file loaded.")
    parquet_size_bytes: int = Field(
        default=0, title="Parquet size (bytes)", description="Size of the file loaded."
    )
    parquet_mtime_ns: int = Field(
        default=0,
        title="Parquet mtime (ns)",
        description="Modification time of the file loaded (skips re-hashing).",
    )
    load_seconds: float = Field(title="Load seconds", description="Wall time of the last load of this table.")


class LoadManifest(BaseModel):
    """The load manifest: what is in ``dp01_dc2_catalogs`` and how to verify it."""

    model_config = ConfigDict(extra="forbid")

    manifest_version: int = Field(default=MANIFEST_VERSION, title="Version", description="Format version.")
    schema_name: str = Field(
        default=SCHEMA_NAME, title="Schema", description="Database schema of the tables."
    )
    database: str = Field(title="Database", description="PostgreSQL database holding the schema.")
    checksum_definition: str = Field(
        default="sum(int(md5(text(key))[:15], 16)) over rows; see idf_ops/catalogs/checksum.py",
        title="Checksum definition",
        description="How the per-table checksum is computed.",
    )
    tables: dict[str, TableLoad] = Field(title="Tables", description="Table name -> load record.")


def read_manifest(path: Path) -> LoadManifest | None:
    """The manifest at ``path``, None when absent, BadInput when corrupt."""
    if not path.exists():
        return None
    try:
        return LoadManifest.model_validate(json.loads(path.read_text()))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise BadInput(
            f"{path}: not a valid load manifest ({exc}); delete it and run the load again."
        ) from exc


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(4 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _column_types(cursor: Any, schema: str, table: str) -> dict[str, str]:
    cursor.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s",
        (schema, table),
    )
    return dict(cursor.fetchall())


def copy_parquet(cursor: Any, parquet: Path, schema: str, table: str, batch_rows: int = 8_192) -> int:
    """Stream a Parquet file into ``schema.table`` with binary COPY; return the rows sent.

    A producer thread encodes record batches (:mod:`idf_ops.catalogs.pgbinary`) into a pipe while
    ``copy_expert`` feeds the pipe to the server; columns are matched by name.
    """
    reader = pq.ParquetFile(parquet)
    names = reader.schema_arrow.names
    types = _column_types(cursor, schema, table)
    missing = [name for name in names if pg_column(name) not in types]
    if missing:
        raise BadInput(f"{parquet}: columns {missing[:5]} are not in {schema}.{table}; regenerate the data.")
    pg_types = [types[pg_column(name)] for name in names]
    columns = ", ".join(_q(pg_column(name)) for name in names)
    read_fd, write_fd = os.pipe()
    with contextlib.suppress(OSError):  # a larger pipe means fewer wake-ups between the two sides
        fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, 1 << 20)
    sent = {"rows": 0}
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            with os.fdopen(write_fd, "wb", buffering=1 << 20) as sink:
                sink.write(pgbinary.HEADER)
                for batch in reader.iter_batches(batch_size=batch_rows):
                    sink.write(pgbinary.encode_batch(batch, pg_types))
                    sent["rows"] += batch.num_rows
                sink.write(pgbinary.TRAILER)
        except BaseException as exc:  # noqa: BLE001 -- re-raised in the caller's thread
            failure.append(exc)

    producer = threading.Thread(target=produce, name=f"copy-{parquet.stem}", daemon=True)
    producer.start()
    try:
        with os.fdopen(read_fd, "rb", buffering=1 << 20) as source:
            cursor.copy_expert(
                f"COPY {_q(schema)}.{_q(table)} ({columns}) FROM STDIN WITH (FORMAT binary)",
                source,
                size=1 << 20,
            )
    finally:
        producer.join()
    if failure:
        raise OperationFailed(f"dataload: reading {parquet} failed: {failure[0]}")
    return sent["rows"]


def _required_indexes(table: str) -> dict[str, str]:
    """The indexes the loader guarantees: unique key, q3c spatial, truth_match's match key."""
    qualified = f"{_q(SCHEMA_NAME)}.{_q(table)}"
    ra, dec = (pg_column(name) for name in POSITION_COLUMNS[table])
    key = pg_column(KEY_COLUMNS[table])
    indexes = {
        f"{table}_key_idx": f"CREATE UNIQUE INDEX {table}_key_idx ON {qualified} ({_q(key)})",
        f"{table}_q3c_idx": (
            f"CREATE INDEX {table}_q3c_idx ON {qualified} (q3c_ang2ipix({_q(ra)}, {_q(dec)}))"
        ),
    }
    if table == "truth_match":
        indexes["truth_match_match_objectid_idx"] = (
            f"CREATE INDEX truth_match_match_objectid_idx ON {qualified} ({_q(pg_column('match_objectId'))})"
        )
    return indexes


def _existing_indexes(cursor: Any, table: str) -> dict[str, str]:
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = %s",
        (SCHEMA_NAME, table),
    )
    return dict(cursor.fetchall())


def _rebuild_plan(existing: dict[str, str], table: str) -> list[str]:
    """Index statements after the load: every index that was there (DaCHS may add its own), plus
    the required ones that no existing index already provides (a q3c index is a q3c index)."""
    plan = list(existing.values())
    has_q3c = any("q3c_ang2ipix" in definition for definition in existing.values())
    for name, statement in _required_indexes(table).items():
        if name in existing or (name.endswith("_q3c_idx") and has_q3c):
            continue
        plan.append(statement)
    return plan


def _db_checksum(cursor: Any, table: str) -> tuple[int, str]:
    cursor.execute(checksum_sql(SCHEMA_NAME, table, KEY_COLUMNS[table], "postgresql"))
    rows, checksum = cursor.fetchone()
    return int(rows), str(checksum)


def _load_table(conn: Any, table: str, parquet: Path, expected: tuple[int, str]) -> float:
    """Replace ``table``'s content with the Parquet file in one transaction; return seconds."""
    qualified = f"{_q(SCHEMA_NAME)}.{_q(table)}"
    started = time.perf_counter()
    try:
        with conn.cursor() as cursor:
            # Indexes are dropped for the COPY and rebuilt after it (much faster than maintaining them).
            existing = _existing_indexes(cursor, table)
            for name in existing:
                cursor.execute(f"DROP INDEX {_q(SCHEMA_NAME)}.{_q(name)}")
            cursor.execute(f"TRUNCATE {qualified}")
            copy_parquet(cursor, parquet, SCHEMA_NAME, table)
            actual = _db_checksum(cursor, table)
            if actual != expected:
                raise OperationFailed(
                    f"dataload: {SCHEMA_NAME}.{table} after COPY has (rows, checksum) {actual}, the Parquet "
                    f"file {parquet} has {expected}; the load was rolled back."
                )
            for statement in _rebuild_plan(existing, table):
                cursor.execute(statement)
            cursor.execute(f"ANALYZE {qualified}")
        conn.commit()
    except Exception as exc:
        conn.rollback()
        if isinstance(exc, OperationFailed):
            raise
        raise OperationFailed(
            f"dataload: loading {parquet} into {SCHEMA_NAME}.{table} failed and was rolled back "
            f"({type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}); "
            "fix the cause and run `idf local up` again."
        ) from exc
    return time.perf_counter() - started


def load_all(
    connection: PgConnection,
    data_dir: Path,
    manifest_path: Path,
    *,
    tables: Iterable[str] = TABLE_NAMES,
    force: bool = False,
    progress: Callable[[str], None] = lambda _message: None,
) -> tuple[bool, LoadManifest]:
    """Load every table whose data changed; return (anything loaded, manifest written)."""
    previous = read_manifest(manifest_path)
    records: dict[str, TableLoad] = dict(previous.tables) if previous else {}
    changed = False
    conn = connection.connect()
    try:
        for table in tables:
            parquet = parquet_path(data_dir, table)
            if not parquet.exists():
                raise BadInput(
                    f"{parquet}: missing Parquet file for table {table}; run the data generator first."
                )
            old = records.get(table)
            stat = parquet.stat()
            same_file = old is not None and (old.parquet_size_bytes, old.parquet_mtime_ns) == (
                stat.st_size,
                stat.st_mtime_ns,
            )
            digest = old.parquet_sha256 if same_file and old is not None else _sha256(parquet)
            if not force and old is not None and old.parquet_sha256 == digest:
                with conn.cursor() as cursor:
                    in_db = _db_checksum(cursor, table)
                conn.rollback()
                if in_db == (old.rows, old.checksum):
                    progress(f"{table}: unchanged ({old.rows} rows), skipped")
                    continue
            keys = pq.read_table(parquet, columns=[KEY_COLUMNS[table]]).column(0)
            expected = arrow_checksum(keys)
            seconds = _load_table(conn, table, parquet, expected)
            records[table] = TableLoad(
                rows=expected[0],
                key_column=KEY_COLUMNS[table],
                checksum=expected[1],
                parquet_file=str(parquet),
                parquet_sha256=digest,
                parquet_size_bytes=stat.st_size,
                parquet_mtime_ns=stat.st_mtime_ns,
                load_seconds=round(seconds, 3),
            )
            changed = True
            progress(
                f"{table}: loaded {expected[0]} rows in {seconds:.1f} s ({expected[0] / seconds:,.0f} rows/s)"
            )
    finally:
        conn.close()
    manifest = LoadManifest(database=connection.database, tables=records)
    if changed or previous is None:
        manifest_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = manifest_path.with_suffix(".json.tmp")
        tmp.write_text(manifest.model_dump_json(indent=2) + "\n")
        tmp.replace(manifest_path)
    return changed, manifest
