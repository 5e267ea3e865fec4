"""Entry point of `idf`: builds the command tree and turns operator errors into exit codes.

Command modules stay cheap to import (heavy libraries such as pulumi_gcp are imported inside the
command functions), so that `idf --help` answers at once.
"""

from __future__ import annotations

import importlib
import sys

import click
import typer

from idf_ops.errors import IdfError

__all__ = ["app", "main"]

app = typer.Typer(
    name="idf",
    help=(
        "Operate the Interim Data Facility (IDF) for Rubin Data Preview 0: validate stack configs, "
        "plan the GCP stacks offline, run the local stack, load tests, readiness gates and the "
        "Qserv scale test."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module exposes `register(app)`; the order is the order of `idf --help`.
COMMAND_MODULES = [
    "idf_ops.cli.scale_cmd",
    "idf_ops.cli.cost_cmd",
    "idf_ops.cli.local_cmd",
    "idf_ops.cli.config_cmd",
    "idf_ops.cli.plan_cmd",
    "idf_ops.cli.gates_cmd",
    "idf_ops.cli.loadtest_cmd",
    "idf_ops.cli.tap_cmd",
    "idf_ops.cli.policy_cmd",
]


def _register_commands() -> None:
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(app)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Run `idf`; return the process exit code (0 ok, 1 failed, 2 bad input)."""
    try:
        result = app(args=argv, standalone_mode=False)
    except IdfError as exc:
        print(f"idf: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except click.exceptions.Abort:
        print("idf: interrupted", file=sys.stderr)
        return 130
    except click.exceptions.ClickException as exc:
        exc.show()
        return 2
    return result if isinstance(result, int) else 0


def console_main() -> None:
    """Console-script wrapper."""
    sys.exit(main())
