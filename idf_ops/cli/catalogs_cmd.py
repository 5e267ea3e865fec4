"""`idf catalogs`: the DP0.1 catalogs as the local stack holds them (Felis schema, ingest benchmark)."""

# Services (felis, pyarrow, psycopg) are imported inside the commands: `idf --help` stays fast.
# ruff: noqa: PLC0415

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from idf_core.errors import BadInput, OperationFailed
from idf_core.facts import LOCAL_DATALOAD_DIR

__all__ = ["register"]

catalogs_app = typer.Typer(
    help="The DP0.1 catalogs: Felis schema file, ingest benchmark, cross-check of two Qserv front ends, "
    "staging for a stack's Qserv ingest."
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
    data_dir: Annotated[
        Path, typer.Option(help="The dataload role's directory (Parquet files).")
    ] = LOCAL_DATALOAD_DIR,
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


def _parse_columns(items: list[str] | None) -> dict[str, list[str]]:
    chosen: dict[str, list[str]] = {}
    for item in items or []:
        table, sep, names = item.partition("=")
        if not sep or not names:
            raise BadInput(f"--columns {item!r}: expected TABLE=col1,col2 (the key is always included)")
        chosen[table] = [n.strip() for n in names.split(",") if n.strip()]
    return chosen


@catalogs_app.command("crosscheck")
def crosscheck_cmd(  # noqa: PLR0917 - one parameter per option
    a: Annotated[str, typer.Argument(help="Front end A: idf, in2p3, or [user@]host:port.")],
    b: Annotated[str, typer.Argument(help="Front end B: idf, in2p3, or [user@]host:port.")],
    table: Annotated[
        list[str] | None, typer.Option(help="Only this table (repeatable; default every table).")
    ] = None,
    columns: Annotated[
        list[str] | None,
        typer.Option(
            help="Fingerprinted columns, TABLE=col1,col2 (repeatable; default: key, position and 6 more)."
        ),
    ] = None,
    manifest: Annotated[
        Path,
        typer.Option(
            dir_okay=False, help="Load manifest naming the source files fingerprinted as the reference."
        ),
    ] = LOCAL_DATALOAD_DIR / "manifest.json",
    no_source: Annotated[
        bool, typer.Option("--no-source", help="Compare A and B only (nothing is blamed).")
    ] = False,
    password_file_a: Annotated[
        Path | None, typer.Option(help="File holding A's password (host:port fronts).")
    ] = None,
    password_file_b: Annotated[
        Path | None, typer.Option(help="File holding B's password (host:port fronts).")
    ] = None,
    ingest_url_a: Annotated[
        str | None,
        typer.Option(help="A's Qserv ingest REST API base URL: per-chunk counts from /ingest/table-stats."),
    ] = None,
    ingest_url_b: Annotated[str | None, typer.Option(help="B's Qserv ingest REST API base URL.")] = None,
    secrets_dir: Annotated[str, typer.Option(help="Where the local instances' reader passwords are.")] = (
        "/var/lib/idf/secrets"
    ),
    jobs: Annotated[int, typer.Option(min=1, max=16, help="Parallel chunk queries per front end.")] = 4,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    timings: Annotated[bool, typer.Option("--timings", help="Also print wall and database time.")] = False,
) -> None:
    """Compare the catalogs at two Qserv front ends chunk by chunk, with aggregates only.

    Exit 0 when equal, 1 when they differ (the differing chunks and row keys are listed and blamed
    on the site that differs from the source files), 2 on bad input, an unreachable front end or a
    failed query.
    """
    from idf_ops.catalogs.crosscheck import crosscheck, resolve_endpoint

    endpoint_a = resolve_endpoint(
        a, password_file=password_file_a, secrets_dir=secrets_dir, ingest_url=ingest_url_a
    )
    endpoint_b = resolve_endpoint(
        b, password_file=password_file_b, secrets_dir=secrets_dir, ingest_url=ingest_url_b
    )
    report = crosscheck(
        endpoint_a,
        endpoint_b,
        tables=table,
        columns=_parse_columns(columns),
        manifest=None if no_source else manifest,
        jobs=jobs,
    )
    if json_out:
        typer.echo(report.model_dump_json(indent=2))
    else:
        sites = [*report.sites, *(["source"] if report.source else [])]
        typer.echo(f"{'table':<18} {'chunks':>6} {'differ':>6}  " + "  ".join(f"{s:>10}" for s in sites))
        for t in report.tables:
            typer.echo(
                f"{t.table:<18} {t.chunks:>6} {t.differing_chunks:>6}  "
                + "  ".join(f"{t.rows.get(s, 0):>10}" for s in sites)
            )
        for c in report.chunk_diffs:
            rows = ", ".join(f"{s} {n}" for s, n in c.rows.items())
            typer.echo(f"chunk {c.table}/{c.chunk} differs ({rows}); blamed: {', '.join(c.blamed)}")
        for r in report.row_diffs:
            copies = ", ".join(f"{s} {n}" for s, n in r.copies.items())
            typer.echo(
                f"row {r.table} {r.key} (chunk {r.chunk}, sub-chunk {r.sub_chunk}): {r.kind} at "
                f"{', '.join(r.blamed)} (copies: {copies})"
            )
        typer.echo("equal" if report.equal else "DIFFERENT")
    if timings and not json_out:
        timing = report.timings_s
        typer.echo(
            f"wall {timing['wall']:.2f} s; databases busy {timing['database_in_flight']:.2f} s "
            f"({100 * timing['database_in_flight'] / max(timing['wall'], 1e-9):.0f} % of wall), "
            f"{timing['database']:.2f} s summed over {timing['queries']:.0f} parallel queries; "
            f"source files {timing['source']:.2f} s"
        )
    if not report.equal:
        raise typer.Exit(1)


@catalogs_app.command("stage")
def stage_cmd(
    stack: Annotated[str, typer.Argument(help="Stack whose ingest Job reads the staged catalogs.")] = "dp01",
    source: Annotated[
        Path, typer.Option("--from", file_okay=False, help="Directory of dp01's <table>.parquet files.")
    ] = LOCAL_DATALOAD_DIR,
    destination: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Staging folder (directory or URI); default: gs://<qserv_ingest bucket>/<database>/.",
        ),
    ] = None,
) -> None:
    """Partition dp01's catalogs into the chunk files the stack's Qserv ingest Job reads, and stage them.

    Every row goes to the Chunker(85, 12) chunk of its position, one CSV per table and chunk the
    stack's ingest configuration lists, with that configuration (metadata.json last) and stage.json
    beside them. Nothing is uploaded when a row is outside the listed chunks or not in its
    object's chunk. Then set idf:qserv.ingest_staged: true and `pulumi up` (runbooks/pulumi.md §6).
    """
    from idf_ops.catalogs.stage import stack_staging, stage_catalogs

    staging = stack_staging(stack)
    target = destination or staging.destination
    typer.echo(f"staging {source} -> {target} ({len(staging.config.chunk_ids())} chunks listed)", err=True)

    def progress(entry: Any) -> None:
        typer.echo(
            f"  {entry.table}: {entry.rows:,} rows in {entry.files} chunk files "
            f"({entry.non_empty} with rows), "
            f"{entry.bytes / 1e6:,.1f} MB, {entry.seconds:.1f} s",
            err=True,
        )

    report = stage_catalogs(source, staging.config, target, on_table=progress)
    typer.echo(
        f"staged {sum(t.rows for t in report.tables):,} rows of {len(report.tables)} tables in "
        f"{report.seconds:.1f} s at {report.destination}"
    )
    if destination is None:
        typer.echo(
            f"next: set idf:qserv.ingest_staged: true in {staging.stack_file}, "
            f"`idf config validate {stack}`, then `pulumi up -s {stack}`"
        )


def register(app: typer.Typer) -> None:
    """Add the `catalogs` command group to `idf`."""
    app.add_typer(catalogs_app, name="catalogs")
