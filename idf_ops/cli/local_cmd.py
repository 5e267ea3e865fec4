"""`idf local`: run the local IDF stack (up, down, status, reset) and the steps its roles call."""

# Services are imported inside the commands: `idf --help` stays fast (CONTRIBUTING).
# ruff: noqa: PLC0415

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from idf_core.errors import BadInput
from idf_core.facts import LOCAL_DATALOAD_DIR

__all__ = ["register"]

_DATA_DIR = LOCAL_DATALOAD_DIR
_MANIFEST = _DATA_DIR / "manifest.json"
_PASSWORD_FILE = Path("/var/lib/idf/secrets/pg_idf_catalogs.password")
_BUTLER_REPO = Path("/var/lib/idf/butler")


def _progress() -> tuple[Any, Any, Any]:
    """Console callbacks: one line when a role starts, one with its counts when it ends."""
    from rich.console import Console

    console = Console(stderr=True, highlight=False)

    def start(role: str) -> None:
        console.print(f"[bold]▶ {role}[/bold]")

    def end(stats: Any) -> None:
        console.print(
            f"  {stats.role}: {stats.ok} ok, {stats.changed} changed, {stats.skipped} skipped, "
            f"{stats.failed} failed in {stats.seconds:.1f} s"
        )

    return console, start, end


def register(app: typer.Typer) -> None:
    """Add the `local` command group to `idf`."""
    local_app = typer.Typer(help="Run the local IDF stack on this machine (everything on 127.0.0.1).")
    app.add_typer(local_app, name="local")
    _register_lifecycle(local_app)
    _register_status(local_app)
    _register_steps(local_app)


def _print_status(results: list[dict[str, object]]) -> None:
    """The status table, and the repair when a service is down."""
    from rich.console import Console
    from rich.table import Table

    from idf_ops.local.health import REPAIR_HINT

    table = Table(title="local IDF stack")
    for column in ("service", "state", "endpoint", "detail"):
        table.add_column(column)
    for r in results:
        colour = "green" if r["healthy"] else "red"
        state = f"[{colour}]{r['state']}[/{colour}]"
        table.add_row(str(r["service"]), state, str(r["endpoint"]), str(r["detail"]))
    console = Console()
    console.print(table)
    if not all(r["healthy"] for r in results):
        console.print(f"to repair: {REPAIR_HINT}")


def _print_programs(programs: list[dict[str, object]]) -> None:
    """supervisord's programs: state, uptime, exits and health restarts seen by the listener."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="supervisord programs")
    for column in ("program", "state", "pid", "uptime", "exits", "health restarts", "last probe"):
        table.add_column(column)
    for p in programs:
        colour = "green" if p["state"] == "RUNNING" else "red"
        uptime = int(str(p.get("uptime_s", 0)))
        table.add_row(
            str(p["program"]),
            f"[{colour}]{p['state']}[/{colour}]",
            str(p.get("pid", "")),
            f"{uptime // 3600}:{uptime // 60 % 60:02d}:{uptime % 60:02d}",
            str(p.get("exits", "")),
            str(p.get("health_restarts", "")),
            str(p.get("last_probe", "")),
        )
    Console().print(table)


def _register_status(local_app: typer.Typer) -> None:
    @local_app.command("status")
    def status(
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    ) -> int:
        """Check each service with a real query; exit 1 when one is down."""
        from idf_core.errors import OperationFailed
        from idf_ops.local.health import run_checks
        from idf_ops.local.supervision import program_states

        results = run_checks()
        try:
            programs = program_states()
        except OperationFailed as exc:  # supervisord down: every service check says so too
            programs = [{"program": "supervisord", "state": "DOWN", "last_probe": str(exc)}]
        if as_json:
            typer.echo(json.dumps({"stack": "local", "services": results, "programs": programs}, indent=2))
        else:
            _print_status(results)
            _print_programs(programs)
        running = all(p["state"] == "RUNNING" for p in programs)
        return 0 if running and all(r["healthy"] for r in results) else 1


def _register_lifecycle(local_app: typer.Typer) -> None:
    @local_app.command("up")
    def up(
        objects: Annotated[
            int | None, typer.Option(help="Catalog size knob (objects); default from the role.")
        ] = None,
        only: Annotated[str | None, typer.Option(help="Configure one service only (its playbook).")] = None,
    ) -> None:
        """Configure and start every service (ansible/playbooks/site.yml), then print the endpoints."""
        from rich.table import Table

        from idf_core.contract import outputs_path
        from idf_ops.local.stack import ENDPOINTS, run_up

        if objects is not None and objects < 1:
            raise BadInput(f"--objects {objects}: the number of objects must be at least 1.")
        console, start, end = _progress()
        extravars = {"dataload_objects": objects} if objects is not None else None
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
        yes: Annotated[bool, typer.Option("--yes", help="Confirm: delete every service's data.")] = False,
    ) -> None:
        """Delete every service's data and stop them; needs --yes.

        Deleted: the catalogs in PostgreSQL and in the MariaDB stand-in, DaCHS' TAP_SCHEMA entries,
        the Butler repository and registry, the hub's state, the Parquet files and the generated
        secrets. Installed packages and configuration files stay.
        """
        if not yes:
            raise BadInput(
                "idf local reset deletes the catalogs (PostgreSQL, MariaDB, TAP_SCHEMA), the Butler "
                "repository, the hub's state and the generated secrets; run it again with --yes to confirm."
            )
        from idf_ops.local.stack import run_reset

        console, start, end = _progress()
        run = run_reset(start, end)
        console.print(f"local IDF stack reset in {run.seconds:.0f} s; `idf local up` rebuilds it")

    @local_app.command("inventory")
    def inventory(
        stack: Annotated[str, typer.Argument(help="Stack whose outputs to render (local, dev, dp01, ...).")],
        output: Annotated[Path | None, typer.Option(help="Default var/stacks/<stack>/inventory.yml.")] = None,
    ) -> None:
        """Render an Ansible inventory from a stack's outputs."""
        from idf_core.contract import load_outputs
        from idf_ops.local.inventory import write_inventory

        typer.echo(str(write_inventory(load_outputs(stack), output)))


def _register_steps(local_app: typer.Typer) -> None:
    @local_app.command("health-listener", hidden=True)
    def health_listener(
        checks_dir: Annotated[Path, typer.Option(help="Directory of the health checks.")] = Path(
            "/etc/idf/health"
        ),
        state_dir: Annotated[Path, typer.Option(help="Where to write the listener's state.")] = Path(
            "/var/lib/idf/supervisor"
        ),
    ) -> None:
        """supervisord event listener (program idf-health): restarts programs that fail their probes."""
        from idf_clients.supervisor import SupervisorClient
        from idf_ops.local.supervision import HealthListener, serve

        serve(HealthListener(checks_dir, state_dir / "health.json", SupervisorClient()))

    data_app = typer.Typer(help="Steps of the `dataload` role: generate and load the catalogs (JSON output).")
    local_app.add_typer(data_app, name="data")

    @data_app.command("generate")
    def data_generate(
        objects: Annotated[int, typer.Option(help="Number of objects (the size knob).")] = 100_000,
        seed: Annotated[int, typer.Option(help="Random seed.")] = 20210630,
        data_dir: Annotated[Path, typer.Option(help="Parquet directory.")] = _DATA_DIR,
        force: Annotated[bool, typer.Option(help="Regenerate even when the stamp matches.")] = False,
    ) -> None:
        """Write the five Parquet files (skipped when already generated with the same parameters)."""
        from idf_ops.catalogs.generate import generate

        started = time.perf_counter()
        result = generate(data_dir, objects, seed, force)
        typer.echo(
            json.dumps(
                {
                    "changed": result.changed,
                    "rows": result.rows,
                    "seconds": round(time.perf_counter() - started, 2),
                }
            )
        )

    @data_app.command("load")
    def data_load(  # noqa: PLR0917 - one CLI option per parameter
        data_dir: Annotated[Path, typer.Option(help="Parquet directory.")] = _DATA_DIR,
        manifest: Annotated[Path, typer.Option(help="Load manifest path.")] = _MANIFEST,
        host: Annotated[str, typer.Option(help="PostgreSQL host.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="PostgreSQL port.")] = 5432,
        database: Annotated[str, typer.Option(help="Database of the catalogs.")] = "gavo",
        user: Annotated[str, typer.Option(help="Login role.")] = "idf_catalogs",
        password_file: Annotated[Path, typer.Option(help="File with the role's password.")] = _PASSWORD_FILE,
        force: Annotated[bool, typer.Option(help="Reload even when the manifest matches.")] = False,
        table: Annotated[list[str] | None, typer.Option(help="Load only this table (repeatable).")] = None,
    ) -> None:
        """Load the Parquet files into PostgreSQL (COPY), index, ANALYZE, write the manifest."""
        from idf_ops.catalogs.load import load_all
        from idf_ops.catalogs.pg import PgConnection
        from idf_ops.catalogs.schema import TABLE_NAMES

        unknown = sorted(set(table or []) - set(TABLE_NAMES))
        if unknown:
            raise BadInput(
                f"--table {', '.join(unknown)}: not a table of the catalogs; "
                f"choose from {', '.join(TABLE_NAMES)}."
            )
        connection = PgConnection(
            host=host, port=port, database=database, user=user, password_file=password_file
        )
        messages: list[str] = []
        started = time.perf_counter()
        changed, loaded = load_all(
            connection, data_dir, manifest, tables=table or TABLE_NAMES, force=force, progress=messages.append
        )
        typer.echo(
            json.dumps(
                {
                    "changed": changed,
                    "tables": {t: r.rows for t, r in loaded.tables.items()},
                    "log": messages,
                    "seconds": round(time.perf_counter() - started, 2),
                }
            )
        )

    @local_app.command("butler-build")
    def butler_build(  # noqa: PLR0917 - one CLI option per parameter
        db_url: Annotated[
            str, typer.Option(help="Registry URL of the writer role (postgresql+psycopg2://).")
        ],
        reader_db_url: Annotated[str, typer.Option(help="Registry URL of the SELECT-only role.")],
        repo: Annotated[
            str, typer.Option(help="Repository root: a directory or s3://[profile@]bucket/path.")
        ] = str(_BUTLER_REPO),
        readonly_config: Annotated[Path, typer.Option(help="Read-only config to write.")] = (
            _BUTLER_REPO / "butler-readonly.yaml"
        ),
        catalog_dir: Annotated[Path, typer.Option(help="Parquet directory.")] = _DATA_DIR,
        stored_tracts: Annotated[int, typer.Option(help="Tracts with a stored objectTable_tract.")] = 5,
    ) -> None:
        """Step of the `butler` role: create or complete the DP0.1 repository (JSON output)."""
        for name, url in (("--db-url", db_url), ("--reader-db-url", reader_db_url)):
            if not url.startswith("postgresql+psycopg2://"):
                raise BadInput(
                    f"{name} {url}: use a postgresql+psycopg2:// URL (SQLAlchemy maps postgresql:// "
                    "to psycopg 3, which is not installed)."
                )
        if "://" in repo and not repo.startswith("s3://"):
            raise BadInput(f"--repo {repo}: use a directory or an s3:// URI.")
        from idf_ops.local.butler_repo import build_repo

        started = time.perf_counter()
        result = build_repo(
            repo,
            db_url=db_url,
            reader_db_url=reader_db_url,
            readonly_config=readonly_config,
            catalog_dir=catalog_dir,
            stored_tracts=stored_tracts,
        )
        typer.echo(
            json.dumps(
                {
                    "changed": result.changed,
                    "steps": result.steps,
                    "seconds": round(time.perf_counter() - started, 2),
                }
            )
        )
