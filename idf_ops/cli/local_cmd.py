"""`idf local`: run the local IDF stack (up, down, status, reset) and the steps its roles call."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from idf_ops.errors import BadInput

__all__ = ["register"]


def _progress():  # type: ignore[no-untyped-def]
    """Console callbacks: one line when a role starts, one with its counts when it ends."""
    from rich.console import Console

    console = Console(stderr=True, highlight=False)

    def start(role: str) -> None:
        console.print(f"[bold]▶ {role}[/bold]")

    def end(stats) -> None:  # type: ignore[no-untyped-def]
        console.print(
            f"  {stats.role}: {stats.ok} ok, {stats.changed} changed, {stats.skipped} skipped, "
            f"{stats.failed} failed in {stats.seconds:.1f} s"
        )

    return console, start, end


def register(app: typer.Typer) -> None:
    """Add the `local` command group to `idf`."""
    local_app = typer.Typer(help="Run the local IDF stack on this machine (everything on 127.0.0.1).")
    app.add_typer(local_app, name="local")

    @local_app.command("up")
    def up(
        objects: int = typer.Option(None, "--objects", help="Catalog size knob (objects); default from the role."),
        only: str = typer.Option(None, "--only", help="Configure one service only (its playbook), e.g. postgresql."),
    ) -> None:
        """Configure and start every service (ansible/playbooks/site.yml), then print the endpoints."""
        from rich.table import Table

        from idf_ops.local.stack import ENDPOINTS, run_up
        from idf_ops.stack_outputs import outputs_path

        console, start, end = _progress()
        extravars = {"dataload_objects": objects} if objects is not None else None
        if objects is not None and objects < 1:
            raise BadInput(f"--objects {objects}: the number of objects must be at least 1.")
        run = run_up(start, end, extravars, only)
        if only:
            console.print(f"{only}: up in {run.seconds:.0f} s, {run.changed} changed tasks")
            return
        table = Table(title=f"local IDF stack: up in {run.seconds:.0f} s, {run.changed} changed tasks")
        for column in ("service", "endpoint", "note"):
            table.add_column(column)
        for row in ENDPOINTS:
            table.add_row(*row)
        console.print(table)
        console.print(f"outputs: {outputs_path('local')}")

    @local_app.command("down")
    def down() -> None:
        """Stop every service of the local stack (data is kept)."""
        from idf_ops.local.stack import run_down

        console, start, end = _progress()
        run = run_down(start, end)
        console.print(f"local IDF stack stopped in {run.seconds:.0f} s")

    @local_app.command("reset")
    def reset(
        yes: bool = typer.Option(False, "--yes", help="Confirm: delete every service's data."),
    ) -> None:
        """Stop every service and delete its data (catalogs, Butler, secrets); needs --yes."""
        if not yes:
            raise BadInput("idf local reset deletes the catalogs, the Butler repository and the generated "
                           "secrets; run it again with --yes to confirm.")
        from idf_ops.local.stack import run_reset

        console, start, end = _progress()
        run = run_reset(start, end)
        console.print(f"local IDF stack reset in {run.seconds:.0f} s; `idf local up` rebuilds it")

    @local_app.command("status")
    def status(
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    ) -> int:
        """Check each service with a real query; exit 1 when one is down."""
        from idf_ops.local.health import run_checks

        results = run_checks()
        if as_json:
            typer.echo(json.dumps({"stack": "local", "services": results}, indent=2))
        else:
            from rich.console import Console
            from rich.table import Table

            table = Table(title="local IDF stack")
            for column in ("service", "state", "endpoint", "detail"):
                table.add_column(column)
            for r in results:
                colour = "green" if r["healthy"] else "red"
                table.add_row(str(r["service"]), f"[{colour}]{r['state']}[/{colour}]", str(r["endpoint"]),
                              str(r["detail"]))
            Console().print(table)
        return 0 if all(r["healthy"] for r in results) else 1

    @local_app.command("inventory")
    def inventory(
        stack: str = typer.Argument(..., help="Stack whose outputs to render (local, dev, dp01, ...)."),
        output: Path = typer.Option(None, "--output", help="Where to write (default var/stacks/<stack>/inventory.yml)."),
    ) -> None:
        """Render an Ansible inventory from a stack's outputs."""
        from idf_ops.local.inventory import write_inventory
        from idf_ops.stack_outputs import load_outputs

        typer.echo(str(write_inventory(load_outputs(stack), output)))

    data_app = typer.Typer(help="Steps of the `dataload` role: generate and load the catalogs (JSON output).")
    local_app.add_typer(data_app, name="data")

    @data_app.command("generate")
    def data_generate(
        objects: int = typer.Option(50_000, "--objects", help="Number of objects (the size knob)."),
        seed: int = typer.Option(20210630, "--seed", help="Random seed."),
        data_dir: Path = typer.Option(Path("/var/lib/idf/dataload"), "--data-dir", help="Parquet directory."),
        force: bool = typer.Option(False, "--force", help="Regenerate even when the stamp matches."),
    ) -> None:
        """Write the five Parquet files (skipped when already generated with the same parameters)."""
        from idf_ops.catalogs.generate import generate

        started = time.perf_counter()
        result = generate(data_dir, objects, seed, force)
        typer.echo(json.dumps({"changed": result.changed, "rows": result.rows,
                               "seconds": round(time.perf_counter() - started, 2)}))

    @data_app.command("load")
    def data_load(
        data_dir: Path = typer.Option(Path("/var/lib/idf/dataload"), "--data-dir", help="Parquet directory."),
        manifest: Path = typer.Option(Path("/var/lib/idf/dataload/manifest.json"), "--manifest", help="Manifest path."),
        host: str = typer.Option("127.0.0.1", "--host", help="PostgreSQL host."),
        port: int = typer.Option(5432, "--port", help="PostgreSQL port."),
        database: str = typer.Option("gavo", "--database", help="Database of the catalogs."),
        user: str = typer.Option("idf_catalogs", "--user", help="Login role."),
        password_file: Path = typer.Option(Path("/var/lib/idf/secrets/pg_idf_catalogs.password"), "--password-file"),
        force: bool = typer.Option(False, "--force", help="Reload even when the manifest matches."),
        tables: list[str] = typer.Option(None, "--table", help="Load only this table (repeatable)."),
    ) -> None:
        """Load the Parquet files into PostgreSQL (COPY), index, ANALYZE, write the manifest."""
        from idf_ops.catalogs.load import load_all
        from idf_ops.catalogs.pg import PgConnection
        from idf_ops.catalogs.schema import TABLE_NAMES

        unknown = sorted(set(tables or []) - set(TABLE_NAMES))
        if unknown:
            raise BadInput(f"--table {', '.join(unknown)}: not a table of the catalogs; choose from {', '.join(TABLE_NAMES)}.")

        connection = PgConnection(host=host, port=port, database=database, user=user, password_file=password_file)
        messages: list[str] = []
        started = time.perf_counter()
        changed, loaded = load_all(connection, data_dir, manifest, tables=tables or TABLE_NAMES, force=force,
                                   progress=messages.append)
        typer.echo(json.dumps({"changed": changed, "tables": {t: r.rows for t, r in loaded.tables.items()},
                               "log": messages, "seconds": round(time.perf_counter() - started, 2)}))

    @local_app.command("butler-build")
    def butler_build(
        repo: Path = typer.Option(Path("/var/lib/idf/butler"), "--repo", help="Repository root."),
        db_url: str = typer.Option(..., "--db-url", help="Registry URL of the writer role (postgresql+psycopg2://)."),
        reader_db_url: str = typer.Option(..., "--reader-db-url", help="Registry URL of the SELECT-only role."),
        readonly_config: Path = typer.Option(Path("/var/lib/idf/butler/butler-readonly.yaml"), "--readonly-config"),
        catalog_dir: Path = typer.Option(Path("/var/lib/idf/dataload"), "--catalog-dir", help="Parquet directory."),
        stored_tracts: int = typer.Option(5, "--stored-tracts", help="Tracts with a stored objectTable_tract."),
    ) -> None:
        """Step of the `butler` role: create or complete the DP0.1 repository (JSON output)."""
        for name, url in (("--db-url", db_url), ("--reader-db-url", reader_db_url)):
            if not url.startswith("postgresql+psycopg2://"):
                raise BadInput(f"{name} {url}: use a postgresql+psycopg2:// URL (SQLAlchemy maps postgresql:// "
                               "to psycopg 3, which is not installed).")
        from idf_ops.local.butler_repo import build_repo

        started = time.perf_counter()
        result = build_repo(repo, db_url, reader_db_url, readonly_config, catalog_dir, stored_tracts)
        typer.echo(json.dumps({"changed": result.changed, "steps": result.steps,
                               "seconds": round(time.perf_counter() - started, 2)}))
