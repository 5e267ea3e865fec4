"""`idf phalanx`: the Science Platform's Phalanx environment (values files from stack outputs)."""

# CONTRIBUTING: heavy imports live inside the commands (PLC0415); typer declares options as
# argument defaults (B008).
# ruff: noqa: PLC0415, B008

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the `phalanx` command group to `idf`."""
    group = typer.Typer(
        help="The Science Platform through Phalanx (Argo CD): render the environment's values.",
        no_args_is_help=True,
    )
    app.add_typer(group, name="phalanx")

    @group.command("render")
    def render(
        stack: str = typer.Argument(..., help="Stack name (dev, dp01, dp02)."),
        out: Path | None = typer.Option(
            None, "--out", help="Folder to write into (default var/stacks/<stack>/phalanx/)."
        ),
        allow_offline: bool = typer.Option(
            False, "--allow-offline", help="Render from an offline plan's outputs (placeholder addresses)."
        ),
    ) -> None:
        """Write values-<env>.yaml of the stack's Phalanx environment (environments/ and
        applications/<app>/, Phalanx's layout) from var/stacks/<stack>/outputs.json."""
        from idf_ops.phalanx.service import render_stack

        for path in render_stack(stack, out, allow_offline=allow_offline):
            typer.echo(f"wrote {path}")
        typer.echo(
            "copy these files into the Phalanx checkout at idf:phalanx.target_revision "
            "(runbooks/pulumi.md §5), then sync the app-of-apps"
        )
