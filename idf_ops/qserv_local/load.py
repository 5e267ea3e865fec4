"""Load the catalog Parquet files into the MariaDB stand-in, with Qserv chunk ids, verified by the manifest.

The data is the one PostgreSQL holds: the ``dataload`` role's Parquet files and load manifest
(``/var/lib/idf/dataload``). Per table the loader:

1. skips the table when MariaDB already holds the manifest's row count and key checksum
   (:mod:`idf_ops.catalogs.checksum`, same definition in both databases) with chunk ids filled;
2. otherwise streams the Parquet file to a CSV file, adding ``chunkId``/``subChunkId``
   (:mod:`idf_ops.qserv_local.chunking`), booleans as 0/1, NaN as NULL (MariaDB has no NaN), NULL as \\N;
3. ``LOAD DATA LOCAL INFILE`` into a fresh staging table (``CREATE TABLE ... LIKE``), checks its row
   count and checksum against the manifest, and swaps it in with one atomic ``RENAME TABLE``.

A failure leaves the previous table untouched and drops the staging table: no half-loaded table
is ever visible to clients.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from idf_core.errors import BadInput, OperationFailed
from idf_ops.catalogs.checksum import checksum_sql
from idf_ops.catalogs.load import LoadManifest, read_manifest
from idf_ops.catalogs.schema import POSITION_COLUMNS
from idf_ops.qserv_local.chunking import chunk_ids
from idf_ops.qserv_local.db import connect
from idf_ops.qserv_local.schema import CHUNK_COLUMNS

__all__ = ["TableResult", "load_all", "load_catalogs", "load_table", "table_state"]


class TableResult(BaseModel):
    """What the loader did with one table."""

    model_config = ConfigDict(extra="forbid")

    table: str = Field(title="Table", description="Table name.")
    action: str = Field(title="Action", description="`loaded` or `unchanged`.")
    rows: int = Field(title="Rows", description="Rows in MariaDB after the run.")
    checksum: str = Field(title="Key checksum", description="Key checksum in MariaDB after the run.")
    load_s: float = Field(
        default=0.0, title="Load seconds", description="Wall time of the load (0 if skipped)."
    )


def _q(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"


def table_state(cursor: Any, database: str, table: str, key_column: str) -> tuple[int, str]:
    """(row count, key checksum) of a MariaDB table."""
    cursor.execute(checksum_sql(database, table, key_column, "mariadb"))
    count, checksum = cursor.fetchone()
    return int(count), str(checksum)


def _chunks_filled(cursor: Any, database: str, table: str) -> bool:
    if table not in POSITION_COLUMNS:
        return True
    cursor.execute(f"SELECT COUNT(*) FROM {_q(database)}.{_q(table)} WHERE {_q('chunkId')} = 0")  # noqa: S608
    return int(cursor.fetchone()[0]) == 0


def _for_mariadb(batch: pa.RecordBatch, table: str) -> pa.RecordBatch:
    """Booleans as 0/1, NaN as NULL, plus Qserv's chunk columns for tables with positions."""
    columns = []
    for field, column in zip(batch.schema, batch.columns, strict=True):
        if pa.types.is_boolean(field.type):
            columns.append(pc.cast(column, pa.int8()))
        elif pa.types.is_floating(field.type):
            columns.append(pc.if_else(pc.is_nan(column), pa.scalar(None, field.type), column))
        else:
            columns.append(column)
    names = list(batch.schema.names)
    if table in POSITION_COLUMNS:
        ra_col, dec_col = POSITION_COLUMNS[table]
        ra = batch.column(names.index(ra_col)).to_numpy(zero_copy_only=False)
        dec = batch.column(names.index(dec_col)).to_numpy(zero_copy_only=False)
        chunk, sub_chunk = chunk_ids(np.asarray(ra, dtype=np.float64), np.asarray(dec, dtype=np.float64))
        columns += [pa.array(chunk), pa.array(sub_chunk)]
        names += list(CHUNK_COLUMNS)
    return pa.RecordBatch.from_arrays(columns, names=names)


def _write_csv(parquet: Path, table: str, target: Path) -> list[str]:
    """Write the MariaDB-ready CSV; return its column names."""
    source = pq.ParquetFile(parquet)
    writer: pa_csv.CSVWriter | None = None
    names: list[str] = []
    try:
        for batch in source.iter_batches(batch_size=16_384):
            ready = _for_mariadb(batch, table)
            if writer is None:
                names = list(ready.schema.names)
                writer = pa_csv.CSVWriter(
                    str(target),
                    ready.schema,
                    write_options=pa_csv.WriteOptions(include_header=False, null_string="\\N"),
                )
            writer.write_batch(ready)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        target.write_text("")
        names = [*source.schema_arrow.names, *(CHUNK_COLUMNS if table in POSITION_COLUMNS else ())]
    return names


def load_table(  # noqa: PLR0917 - one call site, each argument a distinct fact of the table
    connection: Any, database: str, table: str, parquet: Path, expected: tuple[int, str], key_column: str
) -> float:
    """Load one table through a staging table and an atomic swap; return the wall time in seconds."""
    started = time.monotonic()
    staging, previous = f"{table}__loading", f"{table}__previous"
    with tempfile.TemporaryDirectory(prefix=f"idf-qserv-{table}-") as tmp:
        csv_path = Path(tmp) / f"{table}.csv"
        names = _write_csv(parquet, table, csv_path)
        column_list = ", ".join(_q(name) for name in names)
        with connection.cursor() as cursor:
            cursor.execute(
                f"DROP TABLE IF EXISTS {_q(database)}.{_q(staging)}, {_q(database)}.{_q(previous)}"
            )
            cursor.execute(f"CREATE TABLE {_q(database)}.{_q(staging)} LIKE {_q(database)}.{_q(table)}")
            try:
                cursor.execute(
                    f"LOAD DATA LOCAL INFILE %s INTO TABLE {_q(database)}.{_q(staging)} "
                    "CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' "
                    f"LINES TERMINATED BY '\\n' ({column_list})",
                    (str(csv_path),),
                )
                got = table_state(cursor, database, staging, key_column)
                if got != expected:
                    raise OperationFailed(
                        f"qserv_local: {table} loaded {got[0]} rows with checksum {got[1]}, the manifest "
                        f"says {expected[0]} rows with checksum {expected[1]}; the table was left as it was. "
                        "Re-run the data load (`idf local up`) so that Parquet files and manifest agree."
                    )
                cursor.execute(
                    f"RENAME TABLE {_q(database)}.{_q(table)} TO {_q(database)}.{_q(previous)}, "
                    f"{_q(database)}.{_q(staging)} TO {_q(database)}.{_q(table)}"
                )
                cursor.execute(f"DROP TABLE {_q(database)}.{_q(previous)}")
            finally:
                cursor.execute(f"DROP TABLE IF EXISTS {_q(database)}.{_q(staging)}")
    return time.monotonic() - started


def load_all(
    connection: Any, database: str, manifest: LoadManifest, tables: list[str] | None = None
) -> list[TableResult]:
    """Load every table of the manifest whose MariaDB copy differs from it."""
    results = []
    for table, record in manifest.tables.items():
        if tables and table not in tables:
            continue
        expected = (record.rows, record.checksum)
        with connection.cursor() as cursor:
            current = table_state(cursor, database, table, record.key_column)
            if current == expected and _chunks_filled(cursor, database, table):
                results.append(
                    TableResult(table=table, action="unchanged", rows=current[0], checksum=current[1])
                )
                continue
        parquet = Path(record.parquet_file)
        if not parquet.exists():
            raise BadInput(
                f"{parquet}: Parquet file of {table} named by the load manifest is missing; "
                "run the data load again (`idf local up`)."
            )
        seconds = load_table(connection, database, table, parquet, expected, record.key_column)
        results.append(
            TableResult(
                table=table,
                action="loaded",
                rows=record.rows,
                checksum=record.checksum,
                load_s=round(seconds, 2),
            )
        )
    return results


def load_catalogs(
    manifest_path: Path, socket: str, database: str, tables: list[str] | None = None
) -> list[TableResult]:
    """Load what the manifest at `manifest_path` lists into `database` over MariaDB's root socket."""
    manifest = read_manifest(manifest_path)
    if manifest is None:
        raise BadInput(f"{manifest_path}: no load manifest; run the data load first (`idf local up`).")
    with connect(socket, local_infile=True) as connection:
        return load_all(connection, database, manifest, tables)
