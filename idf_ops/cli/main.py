"""Entry point of `idf`: builds the command tree and turns operator errors into exit codes.

Command modules stay cheap to import (heavy libraries such as pulumi_gcp are imported inside the
command functions), so that `idf --help` answers at once.
"""

from __future__ import annotations

import importlib
import sys

import click
import typer

from idf_core.errors import IdfError

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
    "idf_ops.cli.catalogs_cmd",
    "idf_ops.cli.qserv_local_cmd",
    "idf_ops.cli.batch_cmd",
    "idf_ops.cli.policy_cmd",
    "idf_ops.cli.outputs_cmd",
    "idf_ops.cli.phalanx_cmd",
]


def _register_commands() -> None:
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(app)


_register_commands()


# Options whose value may be left out: (command, option) -> the value it then takes. Typer has no
# optional option values, so a bare `idf plan dp01 --json` gets its '-' (stdout) here.
OPTIONAL_VALUES = {("plan", "--json"): "-"}


def _fill_optional_values(argv: list[str]) -> list[str]:
    filled = list(argv)
    for (command, option), value in OPTIONAL_VALUES.items():
        if not filled or filled[0] != command:
            continue
        for i in range(len(filled) - 1, 0, -1):
            last = i + 1 == len(filled)
            if filled[i] == option and (last or (filled[i + 1].startswith("-") and filled[i + 1] != "-")):
                filled.insert(i + 1, value)
    return filled


def main(argv: list[str] | None = None) -> int:
    """Run `idf`; return the process exit code (0 ok, 1 failed, 2 bad input)."""
    try:
        args = _fill_optional_values(sys.argv[1:] if argv is None else argv)
        result = app(args=args, standalone_mode=False)
    except IdfError as exc:
        print(f"idf: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except (click.exceptions.Abort, typer.Abort, KeyboardInterrupt):
        print("idf: interrupted", file=sys.stderr)
        return 130
    except (click.exceptions.ClickException, typer.exceptions.TyperException) as exc:
        # Usage errors (unknown option, missing or malformed value, no command): typer 0.29 raises
        # its own vendored copy of click's exceptions, hence both. They print usage and the problem.
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            print(f"idf: error: {exc.format_message()}", file=sys.stderr)
        return 2
    return result if isinstance(result, int) else 0


def console_main() -> None:
    """Console-script wrapper."""
    sys.exit(main())
