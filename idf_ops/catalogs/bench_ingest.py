"""Benchmark: the Parquet loader's ingest rate against server-side ``COPY ... FROM 'file'``.

Run as root on the local stack (it uses ``su postgres`` for the server-side COPY, which needs
superuser or ``pg_read_server_files``)::

    .venv/bin/idf catalogs bench-ingest --table object --rows 100000

Both runs load the same rows into empty, unindexed copies of the table (``CREATE TABLE ... (LIKE
...)`` in a scratch schema ``idf_bench``) in the database of the catalogs; the CSV for the server-side
COPY is written beforehand (not timed), the loader's time includes reading Parquet and converting.
Prints rows/s of each and their ratio; the scratch schema is dropped at the end.
"""

# Scratch-table SQL is built from schema column names (trusted).
# ruff: noqa: S608

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from idf_core.errors import OperationFailed
from idf_core.facts import LOCAL_DATALOAD_DIR
from idf_ops.catalogs.generate import parquet_path
from idf_ops.catalogs.load import copy_parquet
from idf_ops.catalogs.pg import PgConnection
from idf_ops.catalogs.schema import SCHEMA_NAME, pg_column

__all__ = ["IngestBenchResult", "IngestBenchSettings", "run_ingest_benchmark"]


def _psql_as_postgres(database: str, sql: str) -> str:
    result = subprocess.run(
        ["su", "postgres", "-c", f"psql -X -q -At -v ON_ERROR_STOP=1 -d {database}"],
        input=sql,
        text=True,
        check=False,
        capture_output=True,
    )
    if result.returncode != 0:
        raise OperationFailed(f"bench_ingest: psql as postgres failed: {result.stderr.strip()}")
    return result.stdout.strip()


@dataclass(frozen=True)
class IngestBenchSettings:
    """What to benchmark: the table, how many of its rows, where they and the database are."""

    table: str = "object"
    rows: int = 100_000
    data_dir: Path = LOCAL_DATALOAD_DIR
    database: str = "gavo"
    user: str = "idf_catalogs"
    password_file: Path = Path("/var/lib/idf/secrets/pg_idf_catalogs.password")
    repeat: int = 2


@dataclass(frozen=True)
class IngestBenchResult:
    """Best wall times of both methods over the same rows, and whether both stored the same content."""

    table: str
    rows: int
    columns: int
    repeat: int
    server_best_s: float
    loader_best_s: float
    same_content: bool

    @property
    def server_rows_per_s(self) -> float:
        """Rows/s of server-side COPY FROM file."""
        return self.rows / self.server_best_s

    @property
    def loader_rows_per_s(self) -> float:
        """Rows/s of the Parquet loader."""
        return self.rows / self.loader_best_s


def run_ingest_benchmark(args: IngestBenchSettings) -> IngestBenchResult:
    """Load the same rows with both methods (see module docstring); the scratch schema is dropped."""
    source = pq.read_table(parquet_path(args.data_dir, args.table)).slice(0, args.rows)
    rows = source.num_rows
    workdir = Path(tempfile.mkdtemp(prefix="idf-bench-"))
    workdir.chmod(0o755)
    parquet = workdir / "rows.parquet"
    pq.write_table(source, parquet, row_group_size=65_536)
    csv = workdir / "rows.csv"
    pa_csv.write_csv(source, csv, pa_csv.WriteOptions(include_header=False))
    csv.chmod(0o644)
    # The tables hold Felis columns under their lower-case names (schema.pg_column), as the loader.
    quoted = [f'"{pg_column(field.name)}"' for field in source.schema]
    columns = ", ".join(quoted)
    like = f'"{SCHEMA_NAME}"."{args.table}"'
    _psql_as_postgres(
        args.database,
        f"DROP SCHEMA IF EXISTS idf_bench CASCADE; CREATE SCHEMA idf_bench; "
        f"CREATE TABLE idf_bench.server (LIKE {like}); CREATE TABLE idf_bench.loader (LIKE {like}); "
        f"GRANT ALL ON SCHEMA idf_bench TO {args.user}; "
        f"GRANT ALL ON ALL TABLES IN SCHEMA idf_bench TO {args.user};",
    )
    connection = PgConnection(database=args.database, user=args.user, password_file=args.password_file)
    server_best = loader_best = float("inf")
    try:
        for _ in range(args.repeat):
            _psql_as_postgres(args.database, "TRUNCATE idf_bench.server; CHECKPOINT;")
            started = time.perf_counter()
            _psql_as_postgres(
                args.database, f"COPY idf_bench.server ({columns}) FROM '{csv}' WITH (FORMAT csv)"
            )
            server_best = min(server_best, time.perf_counter() - started)

            _psql_as_postgres(args.database, "TRUNCATE idf_bench.loader; CHECKPOINT;")
            conn = connection.connect()
            try:
                started = time.perf_counter()
                with conn.cursor() as cursor:
                    copy_parquet(cursor, parquet, "idf_bench", "loader")
                conn.commit()
                loader_best = min(loader_best, time.perf_counter() - started)
            finally:
                conn.close()
        # float32 Parquet columns live in double precision columns: the CSV path rounds them to their
        # shortest decimal text, the binary path widens them exactly; compare them as real.
        select = ", ".join(
            f"{name}::real" if pa.types.is_float32(field.type) else name
            for name, field in zip(quoted, source.schema, strict=True)
        )
        key = quoted[0]
        digests = {
            name: _psql_as_postgres(
                args.database,
                f"SELECT md5(string_agg(r::text, '|' ORDER BY k)) FROM "
                f"(SELECT {key} AS k, ROW({select}) AS r FROM idf_bench.{name}) rows",
            )
            for name in ("server", "loader")
        }
    finally:
        with contextlib.suppress(OperationFailed):
            _psql_as_postgres(args.database, "DROP SCHEMA IF EXISTS idf_bench CASCADE;")
        for path in (csv, parquet):
            path.unlink(missing_ok=True)
        workdir.rmdir()
    return IngestBenchResult(
        table=args.table,
        rows=rows,
        columns=source.num_columns,
        repeat=args.repeat,
        server_best_s=server_best,
        loader_best_s=loader_best,
        same_content=digests["server"] == digests["loader"],
    )
