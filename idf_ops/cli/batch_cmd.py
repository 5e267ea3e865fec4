"""`idf batch`: DP0.2 batch processing with BPS on the local HTCondor pool.

Parses and prints; idf_ops.batch.service decides; idf_clients.batch runs BPS in the batch
environment (a Debian 13 root with HTCondor and the LSST batch packages, ansible/roles/batch).
"""

# The service (yaml, pydantic, daf_butler) is imported inside the commands: `idf --help` stays fast.
# ruff: noqa: PLC0415

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING, Annotated

import typer

from idf_core.errors import BadInput

if TYPE_CHECKING:
    from idf_ops.batch.service import RunRecord

__all__ = ["register"]

batch_app = typer.Typer(
    help=(
        "DP0.2 batch processing: submit the small pipeline with BPS to the local HTCondor pool, "
        "follow, restart, cancel and report runs (the processing Butler holds their outputs)."
    )
)


def _line(record: RunRecord) -> str:
    jobs = ", ".join(f"{k.lower()} {v}" for k, v in sorted(record.job_state_counts.items()) if v)
    return f"{record.run_name}: {record.state} ({record.total_quanta} quanta; jobs: {jobs or 'none yet'})"


def _follow(record: RunRecord, timeout_s: float) -> RunRecord:
    from idf_ops.batch.service import wait

    last = [""]

    def progress(r: RunRecord) -> None:
        line = _line(r)
        if line != last[0]:
            typer.echo(line, err=True)
            last[0] = line

    return wait(record, timeout_s=timeout_s, progress=progress)


def _finish(record: RunRecord) -> None:
    typer.echo(
        f"{record.run_name}: {record.state} in {record.wall_s} s; outputs in {record.output_run}: "
        + ", ".join(f"{k} {v}" for k, v in sorted(record.outputs.items()))
        + (f"; {record.duplicates} duplicated data ids" if record.duplicates else "")
    )
    if not record.complete:
        raise typer.Exit(1)


@batch_app.command("submit")
def submit_cmd(  # noqa: PLR0917 - typer maps each parameter to an option
    label: Annotated[
        str, typer.Option(help="Run label: outputs go to 2.2i/runs/DP0.2/<label>/<timestamp>.")
    ] = "small",
    where: Annotated[
        str,
        typer.Option(
            help="Butler data query limiting the input, e.g. \"tract = 3828 AND band IN ('g', 'r')\"."
        ),
    ] = "",
    inject_failure: Annotated[
        list[str] | None,
        typer.Option(help="Make this quantum fail once (TRACT-PATCH-BAND, repeatable): exercises restart."),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Follow the run until it ends.")] = True,
    timeout_s: Annotated[float, typer.Option(help="How long --wait follows the run.")] = 1800,
    wms: Annotated[
        str,
        typer.Option(
            help="htcondor: the local pool. panda: prepare the ctrl_bps_panda submission for the "
            "stack's PanDA server offline (no server contacted) and print it with its iDDS workflow."
        ),
    ] = "htcondor",
    stack: Annotated[str, typer.Option(help="Stack whose idf:panda section is used (--wms panda).")] = "dp02",
) -> None:
    """Build the quantum graph and submit it (`bps submit`); exit 1 unless every output exists once."""
    from idf_ops.batch.service import submit

    if wms == "panda":
        _panda_submission(stack, label)
        return
    if wms != "htcondor":
        raise BadInput(f"--wms {wms!r}: use htcondor or panda")
    record = submit(label=label, where=where, inject=inject_failure or [])
    typer.echo(
        f"submitted {record.run_name} (HTCondor id {record.run_id}); output {record.output_run}", err=True
    )
    if wait:
        _finish(_follow(record, timeout_s))
    else:
        typer.echo(record.run_name)


def _panda_submission(stack: str, label: str) -> None:
    from idf_ops.batch.panda import panda_config, panda_environment, prepare

    _cfg, panda = panda_config(stack)
    config, workflow = prepare(stack, label=label)
    typer.echo(
        json.dumps({"submission": config, "environment": panda_environment(panda), "workflow": workflow})
    )
    typer.echo(
        f"prepared {len(workflow['tasks'])} PanDA tasks on queue {panda.queue}; to submit for real, see "
        "runbooks/batch.md (PanDA)",
        err=True,
    )


@batch_app.command("restart")
def restart_cmd(
    run: Annotated[str, typer.Argument(help="Run name or HTCondor id (see `idf batch status`).")],
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Follow the run until it ends.")] = True,
    timeout_s: Annotated[float, typer.Option(help="How long --wait follows the run.")] = 1800,
) -> None:
    """Rerun what failed (`bps restart`: DAGMan's rescue DAG); succeeded quanta are not run again."""
    from idf_ops.batch.service import restart

    record = restart(run)
    typer.echo(f"restarted {record.run_name} (HTCondor id {record.run_id})", err=True)
    if wait:
        _finish(_follow(record, timeout_s))


@batch_app.command("cancel")
def cancel_cmd(run: Annotated[str, typer.Argument(help="Run name or HTCondor id.")]) -> None:
    """Remove a run from the pool (`bps cancel`)."""
    from idf_ops.batch.service import cancel

    typer.echo(_line(cancel(run)))


@batch_app.command("status")
def status_cmd() -> None:
    """One line per run on record: state, quanta and job states (refreshed from HTCondor)."""
    from idf_ops.batch.service import report

    records = report()
    if not records:
        typer.echo("no batch runs on record; `idf batch submit` starts one")
    for record in records:
        typer.echo(_line(record))


@batch_app.command("report")
def report_cmd(
    run: Annotated[str | None, typer.Argument(help="Run name or HTCondor id (default: every run).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """`bps report` as a table (or JSON): jobs per task and state, quanta and outputs."""
    from rich.console import Console
    from rich.table import Table

    from idf_ops.batch.service import report

    records = report(run)
    if as_json:
        typer.echo(json.dumps([r.model_dump() | {"complete": r.complete} for r in records], indent=2))
        return
    table = Table(title="DP0.2 batch runs (local HTCondor pool)")
    for column in ("run", "state", "quanta", "jobs", "restarts", "outputs", "complete", "wall s"):
        table.add_column(column)
    for r in records:
        table.add_row(
            r.run_name,
            r.state,
            str(r.total_quanta),
            ", ".join(f"{k.lower()} {v}" for k, v in sorted(r.job_state_counts.items()) if v),
            str(len(r.restarts)),
            ", ".join(f"{k.removeprefix('dp02_')} {v}" for k, v in sorted(r.outputs.items())),
            "yes" if r.complete else "no",
            "" if r.wall_s is None else f"{r.wall_s:.0f}",
        )
    Console().print(table)


@batch_app.command("site")
def site_cmd(
    stack: Annotated[str, typer.Option("--stack", help="Stack with a batch pool (dp02).")] = "dp02",
    out: Annotated[str | None, typer.Option("--out", help="Write the YAML here (default: print it).")] = None,
    retries: Annotated[
        int, typer.Option(min=0, help="numberOfRetries (>= 3: spot preemptions are job failures).")
    ] = 3,
) -> None:
    """The BPS site config of the stack's HTCondor pool on GKE, from its stack file and outputs
    (`idf outputs pull STACK`): compute site, per-job CPUs/memory, retries, the Butler."""
    from pathlib import Path

    from idf_ops.batch.site import site_config_of_stack

    site = site_config_of_stack(stack, out=Path(out) if out else None, retries=retries)
    if site.warning:
        typer.echo(f"warning: {site.warning}", err=True)
    if site.path is None:
        typer.echo(site.text, nl=False)
    else:
        typer.echo(f"wrote {site.path}", err=True)


@batch_app.command("bench")
def bench_cmd(
    sizes: Annotated[
        str, typer.Option(help="Comma-separated input sizes in quanta: 8, 50, 200, 800.")
    ] = "8,50,200",
) -> None:
    """The pipeline through BPS on HTCondor, BPS on parsl (threads) and one pipetask process per
    size: quanta/s and the workflow overhead per quantum (the BPS evaluation of L3-MW-0040; long:
    minutes per size)."""
    from rich.console import Console
    from rich.table import Table

    from idf_ops.batch.bench import run_evaluation

    evaluation = run_evaluation(
        [s.strip() for s in sizes.split(",") if s.strip()], progress=lambda m: typer.echo(m, err=True)
    )
    table = Table(
        title=f"BPS on HTCondor and on parsl vs one pipetask process ({evaluation.machine}, "
        f"{evaluation.measured_at})"
    )
    for column in (
        "quanta",
        "jobs",
        "HTCondor s",
        "quanta/s",
        "failed",
        "parsl s",
        "quanta/s",
        "failed",
        "one process s",
        "quanta/s",
        "overhead s/quantum",
        "ratio",
    ):
        table.add_column(column, justify="right")
    for row in evaluation.rows:
        table.add_row(
            str(row.quanta),
            str(row.jobs),
            f"{row.htcondor_wall_s:.1f}",
            f"{row.htcondor_quanta_per_s:.2f}",
            str(row.htcondor_failures),
            "-" if row.parsl_wall_s is None else f"{row.parsl_wall_s:.1f}",
            "-" if row.parsl_quanta_per_s is None else f"{row.parsl_quanta_per_s:.2f}",
            "-" if row.parsl_failures is None else str(row.parsl_failures),
            f"{row.single_wall_s:.1f}",
            f"{row.single_quanta_per_s:.2f}",
            f"{row.overhead_per_quantum_s:.2f}",
            f"{row.htcondor_wall_s / row.single_wall_s:.2f}x",
        )
    # 12 columns of figures do not fit 80 columns: a narrower terminal wraps lines, never cuts numbers.
    Console(width=max(shutil.get_terminal_size().columns, 140)).print(table)


def register(app: typer.Typer) -> None:
    """Add `idf batch` to the command tree."""
    app.add_typer(batch_app, name="batch")
