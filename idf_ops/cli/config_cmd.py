"""`idf config`: validate stack configuration files."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the `config` command group to `idf`."""
    config_app = typer.Typer(help="Validate and describe stack configuration (stacks/Pulumi.<stack>.yaml).")
    app.add_typer(config_app, name="config")

    @config_app.command("validate")
    def validate(
        target: str = typer.Argument(..., help="A stack name (dp01) or the path of a stack file."),
    ) -> None:
        """Validate one stack file against the typed model; exit 2 with the key path on error."""
        from infra.config import load_stack_file, resolve_stack_file

        path = resolve_stack_file(target)
        config = load_stack_file(path)
        typer.echo(f"{path}: valid ({config.describe()})")
