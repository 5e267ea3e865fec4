"""`idf config`: validate stack configuration files and export their JSON Schema."""

# CONTRIBUTING: heavy imports live inside the commands (PLC0415); typer declares options as
# argument defaults (B008).
# ruff: noqa: PLC0415, B008

from __future__ import annotations

import typer

from idf_core.errors import BadInput

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the `config` command group to `idf`."""
    config_app = typer.Typer(help="Validate and describe stack configuration (stacks/Pulumi.<stack>.yaml).")
    app.add_typer(config_app, name="config")

    @config_app.command("validate")
    def validate(
        targets: list[str] = typer.Argument(..., help="Stack names (dp01) or paths of stack files."),
    ) -> None:
        """Validate stack files against the typed model: every problem of every file named, one line
        each (file, key path, what is wrong, what to do); exit 2 if any file is invalid."""
        from infra.config import validate_stack_files

        reports = validate_stack_files(targets)
        for report in reports:
            if report.config is not None:
                typer.echo(f"{report.path}: valid ({report.config.describe()})")
            for line in report.problem_lines:
                typer.echo(f"idf: error: {line}", err=True)
        invalid = [r.target for r in reports if r.config is None]
        if not invalid:
            return
        if len(reports) > 1:
            typer.echo(
                f"idf: error: {len(invalid)} of {len(reports)} stack files are invalid: {', '.join(invalid)}",
                err=True,
            )
        raise typer.Exit(BadInput.exit_code)

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
