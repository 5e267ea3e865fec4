"""`idf scale`: plan, render, bring up, run, inspect, tear down and reap the Qserv scale test.

The commands parse options, call :mod:`idf_ops.scale.service` (which decides: expiry warnings,
the dry run's policy verdict, publishing outputs, reap verdicts) and format what it returns.
"""

# Services, pulumi and rich are imported inside the commands: `idf --help` stays fast (CONTRIBUTING).
# ruff: noqa: PLC0415

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from idf_core.errors import BadInput, OperationFailed
from idf_core.facts import LOCAL_DATALOAD_DIR

if TYPE_CHECKING:
    from idf_ops.scale.plan import ScalePlan
    from idf_ops.scale.service import DryRun, Published, SizingOptions, StackStatus

__all__ = ["register"]

DEFAULT_STACK = "qserv-scale75"
# Same value as idf_ops.scale.sizing.DEFAULT_TEST_HOURS (a test pins it); not imported, so that
# `idf --help` does not load sphgeom and pydantic models.
DEFAULT_TEST_HOURS = 8.0
# Printed beside the generation time (the figure is GENERATION_OBJECTS_PER_S_PER_CORE of sizing.py).
GENERATION_RATE_TEXT = "objects/s per core (idf scale bench)"
PERCENT_HELP = "Catalog size as a percent of DR1 (LDM-552 glide path: 75 for the 2019 step)."


# Options shared by several commands (module level: typer evaluates the annotations here).
percent_opt = typer.Option("--percent", min=0.001, max=100, help=PERCENT_HELP)
machine_opt = typer.Option("--machine-type", help="Worker machine type (see data/prices/).")
ssd_opt = typer.Option("--local-ssd", min=1, max=24, help="375 GB local NVMe SSDs per worker.")
replicas_opt = typer.Option("--replicas", min=1, max=3, help="Copies of each chunk.")
test_hours_opt = typer.Option("--test-hours", min=0.1, help="Load-test hours after ingest.")
stack_opt = typer.Option("--stack", help="Scale-test stack name.")

scale_app = typer.Typer(
    help="The Qserv 75%-of-DR1 scale test: sizing and cost, the temporary stack, guaranteed teardown."
)


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _on_event(message: str) -> None:
    _err(f"[scale] {message}")


def _report_published(stack: str, published: Published) -> None:
    if published.path is None:
        _err(
            f"warning: {stack}'s outputs do not meet the stack outputs contract ({published.problem}); "
            "not written"
        )
    else:
        _err(f"wrote {published.path}")


def _options(
    percent: float,
    machine_type: str,
    local_ssd: int = 24,
    replicas: int = 1,
    test_hours: float = DEFAULT_TEST_HOURS,
) -> SizingOptions:
    from idf_ops.scale.service import SizingOptions

    return SizingOptions(percent, machine_type, local_ssd, replicas, test_hours)


def _print_plan(plan: ScalePlan) -> None:
    from idf_ops.scale.sizing import GENERATION_OBJECTS_PER_S_PER_CORE

    s = plan.sizing
    gj = plan.generation_job
    tb = 1e12
    lines = [
        f"Qserv scale test at {s.inputs.percent_of_dr1:g}% of DR1 -> stack {plan.stack}",
        "",
        "Catalog (DMTR-16 20%-of-DR1 volumes x 5 x percent, one copy):",
        *(
            f"  {t.table:<13} {t.rows:>20,.0f} rows  {t.bytes_one_copy / tb:8.1f} TB  "
            f"scan target {t.scan_target_hours:g} h -> {t.scan_rate_needed_mb_per_s:,.0f} MB/s"
            for t in s.tables
        ),
        f"  other tables/overlap {s.other_bytes_one_copy / tb:.1f} TB; "
        f"replication x{s.inputs.replication_factor}"
        f" -> {s.stored_bytes / tb:.1f} TB stored",
        "",
        f"Workers: {s.workers} x {s.inputs.worker_machine_type} ({s.binding_constraint}-bound; "
        f"storage needs {s.workers_for_storage}, scans need {s.workers_for_scans})",
        f"  local NVMe SSD {s.inputs.local_ssd_count} x 375 GB = {s.worker_local_ssd_gb:,} GB/worker, "
        f"usable {s.worker_usable_gb:,.0f} GB, data {s.data_per_worker_gb:,.0f} GB/worker",
        f"  memory {s.worker_memory_gb:g} GB/worker (needs {s.worker_memory_needed_gb:g})",
        f"  chunks: {s.chunks_in_footprint:,} Chunker(85,12) chunks in the footprint -> "
        f"{s.chunks_per_worker:.1f} per worker",
        f"Czar: 1 x {s.czar_machine_type}, {s.czar_disk_gb:,} GB pd-ssd; "
        f"utility: 1 x {s.utility_machine_type}",
        f"Nodes: {plan.nodes_total} in total; local SSD {plan.local_ssd_total_gb:,} GB",
        f"Scale catalog (dp01 tables at DR1's Object count; idf scale generate): "
        f"{sum(s.scale_catalog_rows.values()):,} rows "
        f"({', '.join(f'{t} {n:,}' for t, n in s.scale_catalog_rows.items())})",
        f"Generation: {s.generation_cores} single-core pods on the workers, measured "
        f"{GENERATION_OBJECTS_PER_S_PER_CORE:,.0f} {GENERATION_RATE_TEXT} -> {s.generation_hours:.1f} h",
        f"  Indexed Job (infra/qserv_ingest.py): {gj.completions:,} completions (one per chunk), "
        f"{gj.parallelism} pods at once on pool {gj.node_pool}, {gj.pod_hours:,.0f} pod-hours "
        f"-> {gj.staging_uri}; pulumi up waits {gj.timeout_hours:g} h, then the ingest Job",
        f"Ingest: {s.ingest_loaders} loaders at measured rows/s per core -> {s.ingest_hours:.1f} h, "
        f"{s.ingest_rows_per_s:,.0f} rows/s "
        f"({', '.join(f'{t} {h:.1f} h' for t, h in s.ingest_hours_per_table.items())})",
        f"Recommended --expires-in: {s.recommended_expires_in_hours} h (generation + ingest + "
        f"{s.inputs.test_hours:g} h test + 25%)",
        "",
        f"Cost ({plan.cost.price_table}):",
        *(
            f"  {line.resource:<20} {line.category:<11} ${line.usd_per_hour:9.3f}/h  {line.detail}"
            for line in plan.cost.lines
        ),
        f"  TOTAL ${plan.cost.usd_per_hour:,.2f}/h; {plan.hours:.1f} h -> ${plan.usd_for_hours:,.0f}",
    ]
    if plan.cost.unsourced_prices:
        lines.append(f"  prices to re-check (unsourced): {', '.join(plan.cost.unsourced_prices)}")
    tc = plan.test_cost
    lines += [
        "",
        "Whole test (measured rates; docs/sizing.md):",
        f"  generation {tc.generation_hours:5.1f} h  ${tc.generation_usd:,.0f}",
        f"  ingest     {tc.ingest_hours:5.1f} h  ${tc.ingest_usd:,.0f}",
        f"  test       {tc.test_hours:5.1f} h  ${tc.test_usd:,.0f}",
        f"  staging    {tc.staging_gb:,.0f} GB in the scratch bucket  ${tc.staging_usd:,.0f} (destroyed "
        "with the stack)",
        f"  reaper     ${tc.reaper_usd:,.2f} ({tc.reaper_detail}; list prices, a run's length assumed)",
        f"  TOTAL      {tc.generation_hours + tc.ingest_hours + tc.test_hours:5.1f} h  ${tc.total_usd:,.0f}",
    ]
    typer.echo("\n".join(lines))


def _print_dry_run(verdict: DryRun, plan: ScalePlan) -> None:
    passes = "passes" if len(verdict.policies) == 1 else "pass"
    typer.echo(
        f"dry run: {verdict.stack} is valid; the mock engine would create {verdict.total} resources, "
        f"none stateful (policy {', '.join(verdict.policies)} {passes})"
    )
    for typ, n in verdict.resource_counts.items():
        typer.echo(f"  {n:3d} {typ}")
    typer.echo(
        f"{plan.nodes_total} nodes, ~${plan.cost.usd_per_hour:,.2f}/h; "
        f"expires {plan.expires_at.isoformat()}; "
        "nothing was created (run without --dry-run, with the Pulumi CLI, to create it)"
    )
    sys.stdout.flush()


def _status_line(status: StackStatus) -> str:
    info = status.info
    if status.state == "no-expiry" or info.expires_at is None:
        state = "no expiry"
    elif status.state == "expired":
        state = f"EXPIRED at {info.expires_at.isoformat()} (reap it: idf scale reap)"
    else:
        state = f"expires {info.expires_at.isoformat()} (in {status.hours_left:.1f} h)"
    count = "unknown (offline)" if info.resource_count is None else str(info.resource_count)
    return f"{info.name}: temporary={info.temporary}; resources: {count}; {state}"


@scale_app.command("plan")
def plan_cmd(  # noqa: PLR0917 -- one parameter per option
    percent: Annotated[float, percent_opt] = 75.0,
    machine_type: Annotated[str, machine_opt] = "n2-standard-16",
    local_ssd: Annotated[int, ssd_opt] = 24,
    replicas: Annotated[int, replicas_opt] = 1,
    test_hours: Annotated[float, test_hours_opt] = DEFAULT_TEST_HOURS,
    hours: Annotated[
        float | None, typer.Option("--hours", min=0.1, help="Hours to price (default ingest + test).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    stack: Annotated[str, stack_opt] = DEFAULT_STACK,
) -> None:
    """Size the Qserv cluster for a percent of DR1 and price it (offline)."""
    from idf_ops.scale import service

    options = _options(percent, machine_type, local_ssd, replicas, test_hours)
    plan = service.plan_for_pricing(options, stack=stack, hours=hours).plan
    if as_json:
        typer.echo(plan.model_dump_json(indent=2))
    else:
        _print_plan(plan)


@scale_app.command("render-stack")
def render_stack_cmd(  # noqa: PLR0917 -- one parameter per option
    expires_in: Annotated[
        str | None, typer.Option("--expires-in", help="Expiry from now: 6h, 2d, 1d12h (max 7d).")
    ] = None,
    expires_at: Annotated[
        str | None,
        typer.Option("--expires-at", help="Absolute expiry, ISO 8601 UTC (instead of --expires-in)."),
    ] = None,
    percent: Annotated[float, percent_opt] = 75.0,
    machine_type: Annotated[str, machine_opt] = "n2-standard-16",
    local_ssd: Annotated[int, ssd_opt] = 24,
    replicas: Annotated[int, replicas_opt] = 1,
    stack: Annotated[str, stack_opt] = DEFAULT_STACK,
    write: Annotated[bool, typer.Option("--write", help="Write stacks/Pulumi.<stack>.yaml.")] = False,
) -> None:
    """Print (or --write) the scale stack file generated from the sizing model."""
    from idf_ops.scale import service

    options = _options(percent, machine_type, local_ssd, replicas)
    planned, command = service.render_stack(
        options, stack=stack, expires_in=expires_in, expires_at=expires_at
    )
    if write:
        _err(f"wrote {service.write_stack(planned, command)}")
    else:
        typer.echo(service.stack_text(planned, command), nl=False)


@scale_app.command("up")
def up_cmd(
    expires_in: Annotated[
        str | None, typer.Option("--expires-in", help="REQUIRED. Expiry from now: 6h, 2d (max 7d).")
    ] = None,
    percent: Annotated[float, percent_opt] = 75.0,
    machine_type: Annotated[str, machine_opt] = "n2-standard-16",
    stack: Annotated[str, stack_opt] = DEFAULT_STACK,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Render, validate and run the mock-engine plan; touch nothing."),
    ] = False,
) -> None:
    """Render the stack with its expiry and bring it up; destroys it again on failure or Ctrl-C."""
    from idf_ops.scale import service

    scheduled = service.plan_until(expires_in, _options(percent, machine_type), stack=stack)
    if scheduled.warning:
        _err(scheduled.warning)
    plan = scheduled.planned.plan
    if dry_run:
        _print_dry_run(service.dry_run(scheduled.planned), plan)
        return
    ws = service.workspace("up")
    path = service.write_stack(scheduled.planned, f"idf scale up --expires-in {expires_in}")
    when = scheduled.expires_at.isoformat()
    _err(f"wrote {path}; bringing {stack} up (expires {when}, ~${plan.cost.usd_per_hour:,.2f}/h)")
    result = service.bring_up(ws, stack, on_event=_on_event)
    _report_published(stack, result.published)
    typer.echo(f"{stack} is up; expires {when}; outputs: {sorted(result.outputs)}")


@scale_app.command("run")
def run_cmd(  # noqa: PLR0917 -- one parameter per option
    command: Annotated[list[str], typer.Argument(help="The test command, after `--`.")],
    expires_in: Annotated[
        str | None, typer.Option("--expires-in", help="REQUIRED. Expiry from now: 6h, 2d (max 7d).")
    ] = None,
    percent: Annotated[float, percent_opt] = 75.0,
    stack: Annotated[str, stack_opt] = DEFAULT_STACK,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Render, validate and run the mock-engine plan; touch nothing."),
    ] = False,
    ingest_from: Annotated[
        str | None,
        typer.Option(
            "--ingest-from",
            help="Before COMMAND, load the generated chunks of this directory (idf scale generate) with "
            "progress; resumable; the loaded rows are recorded for the gates.",
        ),
    ] = None,
    follow_ingest: Annotated[
        bool,
        typer.Option(
            "--follow-ingest",
            help="Before COMMAND, follow the stack's own ingest Job in the cluster (generated catalog "
            "-> Qserv) by Qserv's row counters, with progress, until it ends or the stack expires; "
            "the loaded rows are recorded for the gates.",
        ),
    ] = False,
) -> None:
    """Up, [ingest,] run COMMAND, and always tear down (success, failure, SIGINT or SIGTERM)."""
    from idf_ops.scale import service

    if ingest_from is not None and follow_ingest:
        raise BadInput(
            "--ingest-from and --follow-ingest: give one (a local directory, or the cluster's Job)"
        )
    scheduled = service.plan_until(expires_in, _options(percent, "n2-standard-16"), stack=stack)
    if scheduled.warning:
        _err(scheduled.warning)
    if dry_run:
        _print_dry_run(service.dry_run(scheduled.planned), scheduled.planned.plan)
        typer.echo(f"then it would run {command!r} and tear {stack} down whatever happens")
        return
    ws = service.workspace("run")
    service.write_stack(scheduled.planned, f"idf scale run --expires-in {expires_in}")
    ingest = None
    if ingest_from is not None:
        from pathlib import Path

        ingest = service.ingest_step(Path(ingest_from), on_progress=lambda p: _err(p.line()))
    elif follow_ingest:
        ingest = service.cluster_ingest_step(until=scheduled.expires_at, on_progress=lambda p: _err(p.line()))
    code = service.run_test(
        ws,
        stack,
        command,
        on_event=_on_event,
        on_published=lambda p: _report_published(stack, p),
        ingest=ingest,
    )
    if code != 0:
        raise OperationFailed(f"the test command exited {code}; {stack} was torn down")


@scale_app.command("status")
def status_cmd(
    stack: Annotated[str, stack_opt] = DEFAULT_STACK,
    now: Annotated[str | None, typer.Option("--now", help="Evaluate expiry at this time (ISO 8601).")] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Read the committed stack file instead of the Pulumi state.")
    ] = False,
) -> None:
    """Is the stack up, how many resources, when does it expire."""
    from idf_ops.scale import service

    info = service.workspace("status", offline=offline).info(stack)
    typer.echo(_status_line(service.stack_status(info, service.parse_time(now))))


@scale_app.command("down")
def down_cmd(
    stack: Annotated[str, stack_opt] = DEFAULT_STACK,
    keep_stack: Annotated[bool, typer.Option("--keep-stack", help="Keep the empty stack's history.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be destroyed.")] = False,
) -> None:
    """Destroy every resource of the scale stack and remove the stack."""
    from idf_ops.scale import service

    service.require_scale_stack(stack)  # before the workspace: dp01 is refused, not even looked up
    if dry_run:
        preview = service.destroy_preview(stack)
        total = sum(preview.resource_counts.values())
        typer.echo(f"would destroy {total} resources of {stack} ({preview.engine}):")
        for typ, n in preview.resource_counts.items():
            typer.echo(f"  {n:3d} {typ}")
        return
    service.take_down(service.workspace("down"), stack, on_event=_on_event, keep_stack=keep_stack)
    typer.echo(f"{stack} destroyed; verify with `idf scale status --stack {stack}`")


@scale_app.command("reap")
def reap_cmd(
    now: Annotated[str | None, typer.Option("--now", help="Reap as of this time (ISO 8601).")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Offline: list what would be destroyed (from stacks/).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print decisions as JSON.")] = False,
    unattended: Annotated[
        bool,
        typer.Option(
            "--unattended",
            help="The scheduled reaper (infra/reaper.py): only qserv-scale* stacks are read; one JSON "
            "log line per decision and per run on stdout (Cloud Logging).",
        ),
    ] = False,
) -> None:
    """Destroy every temporary stack whose expires_at has passed; never touch others."""
    from idf_ops.scale import service

    if unattended and dry_run:
        raise BadInput("--unattended destroys what has expired; it cannot be combined with --dry-run")
    ws = service.workspace("reap", offline=dry_run)
    when = service.parse_time(now)
    if unattended:

        def log_event(message: str) -> None:
            typer.echo(
                json.dumps({"severity": "INFO", "message": message, "idf_reaper": {"event": "progress"}})
            )

        report = service.reap(ws, when, dry_run=False, on_event=log_event, scale_stacks_only=True)
        for record in service.reap_log_records(report, when):
            typer.echo(json.dumps(record))
    else:
        report = service.reap(ws, when, dry_run=dry_run, on_event=_on_event)
        if as_json:
            typer.echo(json.dumps([d.model_dump() for d in report.decisions], indent=2))
        else:
            for d in report.decisions:
                typer.echo(f"{d.stack:<16} {d.action:<16} {d.reason}")
    if report.needs_attention:
        raise OperationFailed("some stacks need attention (see above)")


@scale_app.command("generate")
def generate_cmd(  # noqa: PLR0917 -- one parameter per option
    out: Annotated[str, typer.Option("--out", help="Directory, or gs:// / s3:// URI, for the chunk files.")],
    seed: Annotated[str, typer.Option("--seed", help="dp01's Parquet files: a directory or a URI.")] = str(
        LOCAL_DATALOAD_DIR
    ),
    percent: Annotated[float, percent_opt] = 75.0,
    first_chunks: Annotated[
        int | None,
        typer.Option("--chunks", min=1, help="Only the first N chunks of the layout (local runs)."),
    ] = None,
    objects_per_chunk: Annotated[
        int | None,
        typer.Option(
            min=1, help="Objects per chunk (default: the sizing model's share of DR1's Object count)."
        ),
    ] = None,
    index: Annotated[
        int,
        typer.Option(
            "--index",
            min=0,
            envvar="JOB_COMPLETION_INDEX",
            help="This worker's share (an Indexed Job's pod: its completion index).",
        ),
    ] = 0,
    of: Annotated[int, typer.Option("--of", min=1, help="Number of shares (Indexed Job completions).")] = 1,
) -> None:
    """Generate the scale catalog: the dp01 tables replicated, chunk by chunk, over PERCENT of DR1's
    footprint (idf_ops/scale/generate.py). Skips chunks already written; prints one line per chunk."""
    from idf_ops.scale import service

    def progress(result: object) -> None:
        _err(f"[generate] {result}")

    done = service.generate_catalog(
        percent=percent,
        seed=seed,
        out=out,
        first_chunks=first_chunks,
        objects_per_chunk=objects_per_chunk,
        index=index,
        count=of,
        on_chunk=progress,
    )
    typer.echo(done.model_dump_json(indent=2))


@scale_app.command("ingest")
def ingest_cmd(
    data: Annotated[
        str | None, typer.Option("--from", help="Directory of generated chunks and their configuration.")
    ] = None,
    database: Annotated[
        str | None, typer.Option(help="Scratch database of the stand-in (default: the configuration's).")
    ] = None,
    instance: Annotated[str, typer.Option(help="Local Qserv front end: idf or in2p3.")] = "idf",
    follow: Annotated[
        str | None,
        typer.Option(
            "--follow",
            help="Instead of --from: follow the ingest Job of this live cloud stack (its outputs, "
            "`idf outputs pull`) by Qserv's row counters until it ends, and record the loaded rows.",
        ),
    ] = None,
    hours: Annotated[float, typer.Option("--hours", min=0.01, help="With --follow: give up after.")] = 24.0,
) -> None:
    """Load generated chunks into the MariaDB stand-in, following their qserv-ingest configuration,
    with progress (chunks done/total, rows/s); a rerun skips chunks already loaded. With --follow
    STACK, watch a cloud stack's own ingest instead (a follower started again resumes: the state
    is Qserv's)."""
    from datetime import UTC, datetime, timedelta
    from pathlib import Path

    from idf_ops.scale import service

    if follow is not None and data is None:
        path = service.follow_stack_ingest(
            follow, until=datetime.now(UTC) + timedelta(hours=hours), on_progress=lambda p: _err(p.line())
        )
        typer.echo(path.read_text().strip())
        return
    if data is None or follow is not None:
        raise BadInput("give --from DIR (a local load) or --follow STACK (a cloud stack's ingest Job)")
    state = service.ingest_local(
        Path(data), target=instance, database=database, on_progress=lambda p: _err(p.line())
    )
    typer.echo(json.dumps({"database": state.database, "rows": service.loaded_rows_of(state)}))


@scale_app.command("bench")
def bench_cmd(
    seed: Annotated[str, typer.Option("--seed", help="Directory of dp01's Parquet files.")] = str(
        LOCAL_DATALOAD_DIR
    ),
    chunks: Annotated[int, typer.Option("--chunks", min=1, max=50, help="Chunks to generate and load.")] = 3,
    objects_per_chunk: Annotated[int, typer.Option(min=100, help="Objects per chunk.")] = 5000,
) -> None:
    """Measure generation rows/s per core and load rows/s per core into the MariaDB stand-in
    (a scratch database, dropped afterwards). docs/sizing.md records a run."""
    from pathlib import Path

    from idf_ops.scale.bench import run_bench

    result = run_bench(Path(seed), chunks=chunks, objects_per_chunk=objects_per_chunk)
    typer.echo(
        f"generation: {result.generation_rows_per_core_s:,.0f} rows/s per core "
        f"({result.generation_objects_per_core_s:,.0f} objects/s, "
        f"{result.generation_mb_per_core_s:.1f} MB/s CSV)"
    )
    for table, rate in result.tables.items():
        typer.echo(
            f"load {table:<18} {rate.load_rows_per_core_s:>10,.0f} rows/s per core  "
            f"{rate.load_mb_per_core_s:6.1f} MB/s per core  "
            f"({rate.load_rows_per_s:,.0f} rows/s wall, one stream)"
        )
    typer.echo(
        f"load all tables      {result.load_rows_per_core_s:>10,.0f} rows/s per core  "
        f"{result.load_mb_per_core_s:6.1f} MB/s per core"
    )
    typer.echo(result.model_dump_json())


def register(app: typer.Typer) -> None:
    """Add the `scale` command group to `idf`."""
    app.add_typer(scale_app, name="scale")
