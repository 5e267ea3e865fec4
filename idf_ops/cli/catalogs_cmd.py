"""`idf catalogs`: the DP0.1 catalogs as the local stack holds them (Felis schema, ingest benchmark)."""

# Services (felis, pyarrow, psycopg) are imported inside the commands: `idf --help` stays fast.
# ruff: noqa: PLC0415

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from idf_core.errors import BadInput, OperationFailed

__all__ = ["register"]

catalogs_app = typer.Typer(
    help="The DP0.1 catalogs of the local stack: their Felis schema file, the ingest benchmark."
)


@catalogs_app.command("felis-path")
def felis_path_cmd() -> None:
    """Print the path of the DP0.1 Felis YAML in the installed lsst-sdm-schemas.

    The `catalogs` role creates the PostgreSQL tables from it.
    """
    from idf_ops.catalogs.schema import felis_yaml_path

    typer.echo(str(felis_yaml_path()))


@catalogs_app.command("bench-ingest")
def bench_ingest_cmd(  # noqa: PLR0917 -- one parameter per option
    table: Annotated[str, typer.Option(help="Catalog table whose Parquet rows are loaded.")] = "object",
    rows: Annotated[int, typer.Option(min=1, help="Rows taken from the table's Parquet file.")] = 100_000,
    data_dir: Annotated[Path, typer.Option(help="The dataload role's directory (Parquet files).")] = Path(
        "/var/lib/idf/dataload"
    ),
    database: Annotated[str, typer.Option(help="PostgreSQL database of the catalogs.")] = "gavo",
    user: Annotated[str, typer.Option(help="PostgreSQL role the loader connects as.")] = "idf_catalogs",
    password_file: Annotated[Path, typer.Option(help="File holding that role's password.")] = Path(
        "/var/lib/idf/secrets/pg_idf_catalogs.password"
    ),
    repeat: Annotated[int, typer.Option(min=1, help="Runs of each method; the best is reported.")] = 2,
) -> None:
    """Benchmark the Parquet loader against server-side COPY FROM file (as root, local stack).

    Both load the same rows into scratch tables; exit 1 when the two do not hold the same content.
    """
    from idf_ops.catalogs.bench_ingest import IngestBenchSettings, run_ingest_benchmark
    from idf_ops.catalogs.schema import TABLE_NAMES

    if table not in TABLE_NAMES:
        raise BadInput(f"--table {table!r}: not a catalog table; choose one of {', '.join(TABLE_NAMES)}")
    result = run_ingest_benchmark(
        IngestBenchSettings(
            table=table,
            rows=rows,
            data_dir=data_dir,
            database=database,
            user=user,
            password_file=password_file,
            repeat=repeat,
        )
    )
    server_rate, loader_rate = result.server_rows_per_s, result.loader_rows_per_s
    typer.echo(
        f"table {result.table}: {result.rows} rows x {result.columns} columns, best of {result.repeat}"
    )
    typer.echo(f"server-side COPY FROM file : {result.server_best_s:7.2f} s  {server_rate:12,.0f} rows/s")
    typer.echo(f"Parquet loader (pipe COPY) : {result.loader_best_s:7.2f} s  {loader_rate:12,.0f} rows/s")
    typer.echo(f"loader / server-side       : {loader_rate / server_rate:.2f}x")
    typer.echo(
        f"same content in both tables: {'yes' if result.same_content else 'NO'} "
        "(md5 of all rows as text, float32 columns compared as real)"
    )
    if not result.same_content:
        raise OperationFailed("the loader and server-side COPY stored different rows (see above)")


def register(app: typer.Typer) -> None:
    """Add the `catalogs` command group to `idf`."""
    app.add_typer(catalogs_app, name="catalogs")
