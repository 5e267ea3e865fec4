"""Benchmark: the Parquet loader's ingest rate against server-side ``COPY ... FROM 'file'``.

Run as root on the local stack (it uses ``su postgres`` for the server-side COPY, which needs
superuser or ``pg_read_server_files``)::

    .venv/bin/python -m idf_ops.catalogs.bench_ingest --table object --rows 100000

Both runs load the same rows into empty, unindexed copies of the table (``CREATE TABLE ... (LIKE
...)`` in a scratch schema ``idf_bench``) in the database of the catalogs; the CSV for the server-side
COPY is written beforehand (not timed), the loader's time includes reading Parquet and converting.
Prints rows/s of each and their ratio; the scratch schema is dropped at the end.
"""

# Scratch-table SQL is built from schema column names (trusted), and main() is one linear script.
# ruff: noqa: S608, PLR0915

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from idf_core.errors import IdfError, OperationFailed
from idf_ops.catalogs.generate import parquet_path
from idf_ops.catalogs.load import copy_parquet
from idf_ops.catalogs.pg import PgConnection
from idf_ops.catalogs.schema import SCHEMA_NAME, TABLE_NAMES

__all__ = ["main"]


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


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print figures; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", choices=TABLE_NAMES, default="object")
    parser.add_argument("--rows", type=int, default=100_000, help="rows taken from the table's Parquet file")
    parser.add_argument("--data-dir", type=Path, default=Path("/var/lib/idf/dataload"))
    parser.add_argument("--database", default="gavo")
    parser.add_argument("--user", default="idf_catalogs")
    parser.add_argument(
        "--password-file", type=Path, default=Path("/var/lib/idf/secrets/pg_idf_catalogs.password")
    )
    parser.add_argument("--repeat", type=int, default=2, help="runs of each method; the best is reported")
    args = parser.parse_args(argv)

    source = pq.read_table(parquet_path(args.data_dir, args.table)).slice(0, args.rows)
    rows = source.num_rows
    workdir = Path(tempfile.mkdtemp(prefix="idf-bench-"))
    workdir.chmod(0o755)
    parquet = workdir / "rows.parquet"
    pq.write_table(source, parquet, row_group_size=65_536)
    csv = workdir / "rows.csv"
    pa_csv.write_csv(source, csv, pa_csv.WriteOptions(include_header=False))
    csv.chmod(0o644)
    columns = ", ".join('"' + c + '"' for c in source.schema.names)
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
            f'"{f.name}"::real' if pa.types.is_float32(f.type) else f'"{f.name}"' for f in source.schema
        )
        key = '"' + source.schema.names[0] + '"'
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
    server_rate, loader_rate = rows / server_best, rows / loader_best
    print(f"table {args.table}: {rows} rows x {source.num_columns} columns, best of {args.repeat}")
    print(f"server-side COPY FROM file : {server_best:7.2f} s  {server_rate:12,.0f} rows/s")
    print(f"Parquet loader (pipe COPY) : {loader_best:7.2f} s  {loader_rate:12,.0f} rows/s")
    print(f"loader / server-side       : {loader_rate / server_rate:.2f}x")
    same = digests["server"] == digests["loader"]
    print(
        f"same content in both tables: {'yes' if same else 'NO'} "
        "(md5 of all rows as text, float32 columns compared as real)"
    )
    return 0 if same else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except IdfError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
