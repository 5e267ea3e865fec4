"""`idf config`: validate stack configuration files and export their JSON Schema."""

# CONTRIBUTING: heavy imports live inside the commands (PLC0415); typer declares options as
# argument defaults (B008).
# ruff: noqa: PLC0415, B008

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the `config` command group to `idf`."""
    config_app = typer.Typer(help="Validate and describe stack configuration (stacks/Pulumi.<stack>.yaml).")
    app.add_typer(config_app, name="config")

    @config_app.command("validate")
    def validate(
        targets: list[str] = typer.Argument(..., help="Stack names (dp01) or paths of stack files."),
    ) -> None:
        """Validate stack files against the typed model; exit 2 with file and key path on error."""
        from infra.config import load_stack_file, resolve_stack_file

        for target in targets:
            path = resolve_stack_file(target)
            config = load_stack_file(path)
            typer.echo(f"{path}: valid ({config.describe()})")

    @config_app.command("schema")
    def schema(
        check: bool = typer.Option(
            False, "--check", help="Do not write; exit 1 if stacks/stack.schema.json is stale."
        ),
    ) -> None:
        """Regenerate stacks/stack.schema.json from the model (or check it is current)."""
        import json

        from idf_core.errors import OperationFailed
        from infra.config import SCHEMA_PATH, stack_file_schema, write_schema

        if check:
            current = json.loads(SCHEMA_PATH.read_text()) if SCHEMA_PATH.exists() else None
            if current != stack_file_schema():
                raise OperationFailed(f"{SCHEMA_PATH} is stale; run `idf config schema` and commit it")
            typer.echo(f"{SCHEMA_PATH}: current")
            return
        typer.echo(f"wrote {write_schema()}")
