"""`idf outputs`: the stack outputs contract of a live stack."""

# CONTRIBUTING: heavy imports live inside the commands (PLC0415); typer declares options as
# argument defaults (B008).
# ruff: noqa: PLC0415

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the `outputs` command group to `idf`."""
    group = typer.Typer(
        help="Stack outputs (the contract Ansible, load tests and gates read).", no_args_is_help=True
    )
    app.add_typer(group, name="outputs")

    @group.command("pull")
    def pull(stack: str = typer.Argument(..., help="Stack name (dev, dp01, dp02, qserv-scale75).")) -> None:
        """Read the live outputs through Pulumi's Automation API (needs the Pulumi CLI, logged in
        to the state backend), check them against the contract, write var/stacks/<stack>/outputs.json."""
        from idf_ops.outputs.pull import pull_outputs

        path, contract = pull_outputs(stack)
        platform = contract.science_platform.fqdn if contract.science_platform else "none"
        typer.echo(f"{stack}: live outputs written to {path} (Science Platform host: {platform})")
