"""Load catalogs into the MariaDB stand-in for Qserv, driven by the qserv-ingest configuration.

Every load follows the configuration Rubin's ingest workflow would read (:mod:`idf_core.qserv_ingest`):
:func:`load_catalogs` generates it from the load manifest for the target instance (``idf`` on
4040, ``in2p3`` on 4041; :data:`idf_core.facts.QSERV_INSTANCES`), writes it, reads it back (so the
files are parsed and validated on every ``idf local up``) and then loads the tables in its order,
computing ``chunkId``/``subChunkId`` from the position columns it names and checking the columns
its table files list against what is loaded.

The dp01 data is the one PostgreSQL holds: the ``dataload`` role's Parquet files and load manifest
(``/var/lib/idf/dataload``). Per table the loader:

1. skips the table when MariaDB already holds the manifest's row count and key checksum
   (:mod:`idf_ops.catalogs.checksum`, same definition in both databases) with chunk ids filled;
2. otherwise streams the Parquet file to a CSV file, adding ``chunkId``/``subChunkId``
   (:mod:`idf_ops.qserv_local.chunking`), booleans as 0/1, NaN as NULL (MariaDB has no NaN), NULL as \\N;
3. ``LOAD DATA LOCAL INFILE`` into a fresh staging table (``CREATE TABLE ... LIKE``), checks its row
   count and checksum against the manifest, and swaps it in with one atomic ``RENAME TABLE``.

A failure leaves the previous table untouched and drops the staging table: no half-loaded table
is ever visible to clients.

Generated scale-test data (:mod:`idf_ops.scale.generate`) comes as one CSV file per table and chunk,
already carrying its chunk columns: :func:`load_chunk` replaces one chunk of one table (delete the
chunk's rows, then one ``LOAD DATA`` statement, atomic in InnoDB), so loading a chunk twice changes
nothing and an interrupted load can be resumed chunk by chunk (:mod:`idf_ops.scale.ingest`).
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
from idf_core.facts import QSERV_INSTANCES, QservInstance
from idf_core.qserv_ingest import (
    DataLocation,
    QservIngestConfig,
    QservUrls,
    build_config,
    read_config,
)
from idf_ops.catalogs.checksum import checksum_sql
from idf_ops.catalogs.load import LoadManifest, read_manifest
from idf_ops.catalogs.schema import POSITION_COLUMNS, felis_yaml_path
from idf_ops.qserv_local.chunking import chunk_ids
from idf_ops.qserv_local.db import connect
from idf_ops.qserv_local.schema import CHUNK_COLUMNS

__all__ = [
    "CHUNK_CSV_OPTIONS",
    "DEFAULT_CONFIG_ROOT",
    "TableResult",
    "instance",
    "load_all",
    "load_catalogs",
    "load_chunk",
    "load_table",
    "local_ingest_config",
    "local_urls",
    "mariadb_batch",
    "table_state",
    "write_chunk_csv",
]

#: Where the generated ingest configuration of each instance is written (one folder per instance).
DEFAULT_CONFIG_ROOT = Path("/var/lib/idf/qserv_local/ingest")


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


def instance(name: str) -> QservInstance:
    """The local Qserv front end called ``name``; BadInput naming the choices otherwise."""
    try:
        return QSERV_INSTANCES[name]
    except KeyError:
        raise BadInput(
            f"--instance {name!r}: no such local Qserv instance; choose one of {', '.join(QSERV_INSTANCES)}."
        ) from None


def _q(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"


def table_state(cursor: Any, database: str, table: str, key_column: str) -> tuple[int, str]:
    """(row count, key checksum) of a MariaDB table."""
    cursor.execute(checksum_sql(database, table, key_column, "mariadb"))
    count, checksum = cursor.fetchone()
    return int(count), str(checksum)


def _chunks_filled(cursor: Any, database: str, table: str) -> bool:
    cursor.execute(f"SELECT COUNT(*) FROM {_q(database)}.{_q(table)} WHERE {_q('chunkId')} = 0")  # noqa: S608
    return int(cursor.fetchone()[0]) == 0


def mariadb_batch(batch: pa.RecordBatch, position: tuple[str, str] | None) -> pa.RecordBatch:
    """Booleans as 0/1, NaN as NULL, plus Qserv's chunk columns computed from the (ra, dec) columns
    ``position`` when given (a batch that already carries them is passed through unchanged)."""
    columns = []
    for field, column in zip(batch.schema, batch.columns, strict=True):
        if pa.types.is_boolean(field.type):
            columns.append(pc.cast(column, pa.int8()))
        elif pa.types.is_floating(field.type):
            columns.append(pc.if_else(pc.is_nan(column), pa.scalar(None, field.type), column))
        else:
            columns.append(column)
    names = list(batch.schema.names)
    if position is not None and CHUNK_COLUMNS[0] not in names:
        ra_col, dec_col = position
        ra = batch.column(names.index(ra_col)).to_numpy(zero_copy_only=False)
        dec = batch.column(names.index(dec_col)).to_numpy(zero_copy_only=False)
        chunk, sub_chunk = chunk_ids(np.asarray(ra, dtype=np.float64), np.asarray(dec, dtype=np.float64))
        columns += [pa.array(chunk), pa.array(sub_chunk)]
        names += list(CHUNK_COLUMNS)
    return pa.RecordBatch.from_arrays(columns, names=names)


#: How a chunk file is written: no header, ``\\N`` for NULL (what ``LOAD DATA INFILE`` reads by default).
CHUNK_CSV_OPTIONS = pa_csv.WriteOptions(include_header=False, null_string="\\N")


def write_chunk_csv(table: pa.Table, position: tuple[str, str], target: Path) -> None:
    """Write one chunk's rows as a MariaDB-ready CSV (no header, ``\\N`` for NULL, chunk columns from
    ``position``) at ``target``, atomically: the file qserv-ingest's chunk transactions read."""
    tmp = target.with_name(target.name + ".tmp")
    target.parent.mkdir(parents=True, exist_ok=True)
    batches = table.to_batches(max_chunksize=16_384)
    if not batches:
        tmp.write_text("")
    else:
        with pa_csv.CSVWriter(
            str(tmp), mariadb_batch(batches[0], position).schema, write_options=CHUNK_CSV_OPTIONS
        ) as w:
            for batch in batches:
                w.write_batch(mariadb_batch(batch, position))
    tmp.replace(target)


def _write_csv(parquet: Path, position: tuple[str, str] | None, target: Path) -> list[str]:
    """Write the MariaDB-ready CSV; return its column names."""
    source = pq.ParquetFile(parquet)
    writer: pa_csv.CSVWriter | None = None
    names: list[str] = []
    try:
        for batch in source.iter_batches(batch_size=16_384):
            ready = mariadb_batch(batch, position)
            if writer is None:
                names = list(ready.schema.names)
                writer = pa_csv.CSVWriter(
                    str(target),
                    ready.schema,
                    write_options=CHUNK_CSV_OPTIONS,
                )
            writer.write_batch(ready)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        target.write_text("")
        names = [*source.schema_arrow.names, *(CHUNK_COLUMNS if position is not None else ())]
    return names


def _load_data_sql(database: str, table: str, names: list[str]) -> str:
    column_list = ", ".join(_q(name) for name in names)
    return (
        f"LOAD DATA LOCAL INFILE %s INTO TABLE {_q(database)}.{_q(table)} "
        "CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' "
        f"LINES TERMINATED BY '\\n' ({column_list})"
    )


def load_table(  # noqa: PLR0917 - each argument a distinct fact of the table
    connection: Any,
    database: str,
    table: str,
    parquet: Path,
    expected: tuple[int, str],
    key_column: str,
    position: tuple[str, str] | None = None,
    columns: list[str] | None = None,
) -> float:
    """Load one table through a staging table and an atomic swap; return the wall time in seconds.

    ``position``: the (ra, dec) columns the chunk ids come from (default: the catalog's);
    ``columns``: the column names the ingest configuration's table file lists, checked before loading.
    """
    position = position or POSITION_COLUMNS.get(table)
    started = time.monotonic()
    staging, previous = f"{table}__loading", f"{table}__previous"
    with tempfile.TemporaryDirectory(prefix=f"idf-qserv-{table}-") as tmp:
        csv_path = Path(tmp) / f"{table}.csv"
        names = _write_csv(parquet, position, csv_path)
        if columns is not None and names != columns:
            missing = sorted(set(columns) - set(names))
            extra = sorted(set(names) - set(columns))
            raise OperationFailed(
                f"qserv_local: {parquet} does not have the columns of the ingest configuration's "
                f"{table}.json (missing {missing[:5]}, unexpected {extra[:5]}, or another order); "
                "regenerate the data (`idf local up`)."
            )
        with connection.cursor() as cursor:
            cursor.execute(
                f"DROP TABLE IF EXISTS {_q(database)}.{_q(staging)}, {_q(database)}.{_q(previous)}"
            )
            cursor.execute(f"CREATE TABLE {_q(database)}.{_q(staging)} LIKE {_q(database)}.{_q(table)}")
            try:
                cursor.execute(_load_data_sql(database, staging, names), (str(csv_path),))
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


def _file_root(config: QservIngestConfig) -> Path:
    root = config.input_root()
    if not root.startswith("file://"):
        raise BadInput(
            f"ingest configuration: input {root} is not a local directory (file://); the stand-in "
            "loads local files only."
        )
    return Path(root.removeprefix("file://"))


def local_ingest_config(manifest: LoadManifest, database: str, target: QservInstance) -> QservIngestConfig:
    """The ingest configuration of the dp01 Parquet files the manifest lists, for instance ``target``."""
    parents = {Path(record.parquet_file).parent for record in manifest.tables.values()}
    if len(parents) != 1:
        raise BadInput(
            f"load manifest: the Parquet files live in {len(parents)} directories "
            f"({sorted(map(str, parents))}); the ingest configuration has one input path: regenerate "
            "the data (`idf local up`)."
        )
    data_dir = parents.pop()
    return build_config(
        database=database,
        data={
            table: [DataLocation(directory=".", files=[Path(record.parquet_file).name])]
            for table, record in manifest.tables.items()
        },
        servers=["file://"],
        path=str(data_dir),
        qserv=local_urls(target, database),
        felis_path=felis_yaml_path(),
        data_format="parquet",
    )


def local_urls(target: QservInstance, database: str) -> QservUrls:
    # The stand-in has no ingest queue nor replication controller: the loader administers MariaDB
    # over root's unix socket, which both URLs name.
    socket_url = f"mysql://root@localhost/{database}?unix_socket={target.admin_socket}"
    return QservUrls(
        query_url=f"mysql://{target.reader_user}:@{target.host}:{target.port}/{database}",
        queue_url=socket_url,
        replication_url=socket_url,
    )


def load_all(
    connection: Any,
    database: str,
    manifest: LoadManifest,
    tables: list[str] | None = None,
    config: QservIngestConfig | None = None,
) -> list[TableResult]:
    """Load, in the configuration's order, every table whose MariaDB copy differs from the manifest."""
    if config is None:
        config = local_ingest_config(manifest, database, QSERV_INSTANCES["idf"])
    root = _file_root(config)
    results = []
    for table in config.table_order():
        if tables and table not in tables:
            continue
        record = manifest.tables.get(table)
        if record is None:
            raise BadInput(f"load manifest: no table {table!r}, which the ingest configuration lists.")
        spec = config.tables[table]
        expected = (record.rows, record.checksum)
        with connection.cursor() as cursor:
            current = table_state(cursor, database, table, record.key_column)
            if current == expected and _chunks_filled(cursor, database, table):
                results.append(
                    TableResult(table=table, action="unchanged", rows=current[0], checksum=current[1])
                )
                continue
        files = [root / loc.directory / name for loc in config.data_of(table) for name in loc.files]
        if len(files) != 1 or not files[0].exists():
            raise BadInput(
                f"{files[0] if files else root}: Parquet file of {table} named by the ingest configuration "
                "is missing; run the data load again (`idf local up`)."
            )
        seconds = load_table(
            connection,
            database,
            table,
            files[0],
            expected,
            record.key_column,
            position=(spec.longitude_key, spec.latitude_key) if spec.is_partitioned else None,
            columns=[column.name for column in spec.columns],
        )
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
    manifest_path: Path,
    socket: str | None,
    database: str,
    tables: list[str] | None = None,
    *,
    target: str = "idf",
    config_dir: Path | None = None,
) -> list[TableResult]:
    """Load what the manifest at `manifest_path` lists into `database` of instance `target`, through the
    qserv-ingest configuration written to (and read back from) `config_dir`."""
    where = instance(target)
    manifest = read_manifest(manifest_path)
    if manifest is None:
        raise BadInput(f"{manifest_path}: no load manifest; run the data load first (`idf local up`).")
    folder = config_dir or DEFAULT_CONFIG_ROOT / where.name
    local_ingest_config(manifest, database, where).write(folder)
    config = read_config(folder)
    with connect(socket or where.admin_socket, local_infile=True) as connection:
        return load_all(connection, database, manifest, tables, config)


def load_chunk(
    connection: Any, database: str, table: str, csv_file: Path, *, columns: list[str], chunk: int
) -> int:
    """Replace chunk ``chunk`` of ``table`` with the rows of ``csv_file`` (MariaDB-ready CSV whose columns
    are ``columns``, chunk columns included); return the rows the chunk holds afterwards."""
    with connection.cursor() as cursor:
        cursor.execute("START TRANSACTION")
        try:
            cursor.execute(
                f"DELETE FROM {_q(database)}.{_q(table)} WHERE {_q(CHUNK_COLUMNS[0])} = %s",  # noqa: S608
                (chunk,),
            )
            cursor.execute(_load_data_sql(database, table, columns), (str(csv_file),))
            loaded = int(cursor.rowcount)
            cursor.execute(
                f"SELECT COUNT(*) FROM {_q(database)}.{_q(table)} WHERE {_q(CHUNK_COLUMNS[0])} = %s",  # noqa: S608
                (chunk,),
            )
            rows = int(cursor.fetchone()[0])
            if rows != loaded:
                raise OperationFailed(
                    f"qserv_local: {csv_file} holds {loaded - rows} rows of another chunk than {chunk}; "
                    "nothing of it was loaded: regenerate that chunk."
                )
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
    return rows
