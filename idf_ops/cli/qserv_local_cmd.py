"""`idf qserv-local`: the MariaDB stand-in for Qserv of the local stack (schema, catalog load).

Both commands are what the `qserv_local` role runs; each prints `changed` or `unchanged` last.
"""

# Services (felis, pyarrow, pymysql) are imported inside the commands: `idf --help` stays fast.
# ruff: noqa: PLC0415

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from idf_core.facts import LOCAL_DATALOAD_DIR

__all__ = ["register"]

DEFAULT_SOCKET = "/run/mysqld/mysqld.sock"

qserv_local_app = typer.Typer(
    help="The MariaDB stand-in for Qserv: create its dp01_dc2_catalogs tables, load the catalogs."
)
socket_opt = typer.Option("--socket", help="MariaDB unix socket (connects as root).")


@qserv_local_app.command("schema")
def schema_cmd(
    felis_bin: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="The felis executable (lsst-felis).")
    ],
    derived: Annotated[
        Path, typer.Option(dir_okay=False, help="Where to write the derived MariaDB Felis YAML.")
    ],
    socket: Annotated[str, socket_opt] = DEFAULT_SOCKET,
) -> None:
    """Create the MariaDB dp01_dc2_catalogs tables with lsst-felis unless they already match.

    Prints `changed` or `unchanged`.
    """
    from idf_ops.qserv_local.schema import create_schema

    typer.echo("changed" if create_schema(socket, felis_bin, derived) else "unchanged")


@qserv_local_app.command("load")
def load_cmd(  # noqa: PLR0917 - one parameter per option
    manifest: Annotated[
        Path, typer.Option(dir_okay=False, help="The dataload role's load manifest.")
    ] = LOCAL_DATALOAD_DIR / "manifest.json",
    socket: Annotated[
        str | None, typer.Option("--socket", help="MariaDB unix socket (root); default: the instance's.")
    ] = None,
    database: Annotated[str, typer.Option(help="MariaDB database of the catalogs.")] = "dp01_dc2_catalogs",
    table: Annotated[
        list[str] | None, typer.Option(help="Only this table (repeatable; default every table).")
    ] = None,
    instance: Annotated[
        str, typer.Option(help="Target Qserv front end: idf (port 4040) or in2p3 (port 4041).")
    ] = "idf",
    config_dir: Annotated[
        Path | None,
        typer.Option(
            file_okay=False,
            help="Where the qserv-ingest configuration is written and read back "
            "(default /var/lib/idf/qserv_local/ingest/INSTANCE).",
        ),
    ] = None,
) -> None:
    """Load the catalog Parquet files with Qserv chunk ids, driven by the generated qserv-ingest
    configuration and checked against the load manifest.

    Prints one JSON line per table, then `changed` or `unchanged`.
    """
    from idf_ops.qserv_local.load import load_catalogs

    results = load_catalogs(manifest, socket, database, table, target=instance, config_dir=config_dir)
    for result in results:
        typer.echo(result.model_dump_json())
    typer.echo("changed" if any(r.action == "loaded" for r in results) else "unchanged")


def register(app: typer.Typer) -> None:
    """Add the `qserv-local` command group to `idf`."""
    app.add_typer(qserv_local_app, name="qserv-local")
