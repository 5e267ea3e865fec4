"""`idf scale`: plan, render, bring up, run, inspect, tear down and reap the Qserv scale test."""

# Services, pulumi and rich are imported inside the commands: `idf --help` stays fast (CONTRIBUTING).
# ruff: noqa: PLC0415

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from idf_core.errors import BadInput, OperationFailed

if TYPE_CHECKING:
    from idf_ops.scale.plan import ScalePlan

__all__ = ["register"]

DEFAULT_STACK = "qserv-scale75"
# Same value as idf_ops.scale.sizing.DEFAULT_TEST_HOURS (a test pins it); not imported, so that
# `idf --help` does not load sphgeom and pydantic models.
DEFAULT_TEST_HOURS = 8.0
PERCENT_HELP = "Catalog size as a percent of DR1 (LDM-552 glide path: 75 for the 2019 step)."


# Options shared by several commands (module level: typer evaluates the annotations here).
percent_opt = typer.Option("--percent", min=0.001, max=100, help=PERCENT_HELP)
machine_opt = typer.Option("--machine-type", help="Worker machine type (see data/prices/).")
ssd_opt = typer.Option("--local-ssd", min=1, max=24, help="375 GB local NVMe SSDs per worker.")
replicas_opt = typer.Option("--replicas", min=1, max=3, help="Copies of each chunk.")
test_hours_opt = typer.Option("--test-hours", min=0.1, help="Load-test hours after ingest.")
stack_opt = typer.Option("--stack", help="Scale-test stack name.")


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadInput(f"--now {value!r}: not an ISO 8601 time; give e.g. 2026-12-15T00:00:00Z") from exc
    if when.tzinfo is None:
        raise BadInput(f"--now {value!r}: needs a time zone; add Z or +00:00")
    return when


def _plan(  # noqa: PLR0917 -- one parameter per option
    percent: float,
    machine_type: str,
    local_ssd: int,
    replicas: int,
    test_hours: float,
    hours: float | None,
    expires_at: datetime,
    stack: str,
) -> tuple[ScalePlan, dict[str, Any]]:
    from pydantic import ValidationError

    from idf_ops.cost.prices import load_price_table
    from idf_ops.scale.plan import plan_scale_test
    from idf_ops.scale.sizing import SizingInputs

    try:
        inputs = SizingInputs(
            percent_of_dr1=percent,
            worker_machine_type=machine_type,
            local_ssd_count=local_ssd,
            replication_factor=replicas,
            test_hours=test_hours,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise BadInput(f"--{str(first['loc'][0]).replace('_', '-')}: {first['msg']}") from None
    return plan_scale_test(inputs, load_price_table(), expires_at=expires_at, stack=stack, hours=hours)


def _print_plan(plan: ScalePlan) -> None:
    s = plan.sizing
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
        f"Ingest: {s.ingest_loaders} loaders, ceilings {s.ingest_rows_per_s:,.0f} rows/s and "
        f"{s.ingest_mb_per_s:,.0f} MB/s -> {s.ingest_hours:.1f} h "
        f"({', '.join(f'{t} {h:.1f} h' for t, h in s.ingest_hours_per_table.items())})",
        f"Recommended --expires-in: {s.recommended_expires_in_hours} h (ingest + {s.inputs.test_hours:g} h "
        "test + 25%)",
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
    typer.echo("\n".join(lines))


def _write_stack(plan: ScalePlan, doc: dict[str, Any], command: str) -> Path:
    from idf_core.paths import STACKS_DIR
    from idf_ops.scale.plan import write_stack_file

    return write_stack_file(plan, doc, command, STACKS_DIR / f"Pulumi.{plan.stack}.yaml")


def _publish_outputs(stack: str, outputs: dict[str, Any]) -> None:
    """Write the live stack's outputs to the contract file (`var/stacks/<stack>/outputs.json`)."""
    from pydantic import ValidationError

    from idf_core.contract import contract_of, write_outputs

    try:
        path = write_outputs(contract_of(outputs))
    except ValidationError as exc:
        _err(f"warning: {stack}'s outputs do not meet the stack outputs contract ({exc}); not written")
        return
    _err(f"wrote {path}")


def _events() -> Any:
    def on_event(message: str) -> None:
        _err(f"[scale] {message}")

    return on_event


def register(app: typer.Typer) -> None:  # noqa: PLR0915 -- one nested function per command
    """Add the `scale` command group to `idf`."""
    scale_app = typer.Typer(
        help="The Qserv 75%-of-DR1 scale test: sizing and cost, the temporary stack, guaranteed teardown."
    )
    app.add_typer(scale_app, name="scale")

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
        from idf_ops.scale.lifecycle import MAX_EXPIRES_IN

        plan, _ = _plan(
            percent,
            machine_type,
            local_ssd,
            replicas,
            test_hours,
            hours,
            datetime.now(UTC).replace(microsecond=0) + MAX_EXPIRES_IN,
            stack,
        )
        if as_json:
            typer.echo(plan.model_dump_json(indent=2))
        else:
            _print_plan(plan)

    @scale_app.command("render-stack")
    def render_stack(  # noqa: PLR0917 -- one parameter per option
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
        from idf_ops.scale.lifecycle import expires_at_from
        from idf_ops.scale.plan import stack_file_text

        if expires_at:
            when = _now(expires_at)
            flag = f"--expires-at {when.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        else:
            when = expires_at_from(expires_in, datetime.now(UTC))
            flag = f"--expires-in {expires_in}"
        plan, doc = _plan(percent, machine_type, local_ssd, replicas, DEFAULT_TEST_HOURS, None, when, stack)
        command = f"idf scale render-stack --percent {percent:g} {flag} --write"
        if write:
            _err(f"wrote {_write_stack(plan, doc, command)}")
        else:
            typer.echo(stack_file_text(plan, doc, command), nl=False)

    def _plan_until(expires_in: str | None, percent: float, machine_type: str, stack: str) -> tuple[Any, ...]:
        """The expiry from --expires-in (required), the plan and stack document of `up` and `run`;
        warns when the expiry leaves less time than the plan recommends (ingest + test)."""
        from idf_ops.scale.lifecycle import expires_at_from

        when = expires_at_from(expires_in, datetime.now(UTC))
        plan, doc = _plan(percent, machine_type, 24, 1, DEFAULT_TEST_HOURS, None, when, stack)
        if plan.sizing.recommended_expires_in_hours > (when - datetime.now(UTC)).total_seconds() / 3600 + 0.1:
            _err(
                f"warning: --expires-in {expires_in} is shorter than the recommended "
                f"{plan.sizing.recommended_expires_in_hours} h "
                f"(ingest {plan.sizing.ingest_hours:.1f} h + test)"
            )
        return when, plan, doc

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
        from idf_ops.scale.lifecycle import scale_up

        when, plan, doc = _plan_until(expires_in, percent, machine_type, stack)
        if dry_run:
            _dry_run_up(plan, doc)
            return
        from idf_ops.scale.automation import AutomationWorkspace

        ws = AutomationWorkspace("up")
        path = _write_stack(plan, doc, f"idf scale up --expires-in {expires_in}")
        _err(
            f"wrote {path}; bringing {stack} up "
            f"(expires {when.isoformat()}, ~${plan.cost.usd_per_hour:,.2f}/h)"
        )
        outputs = scale_up(ws, stack, on_event=_events())
        _publish_outputs(stack, outputs)
        typer.echo(f"{stack} is up; expires {when.isoformat()}; outputs: {sorted(outputs)}")

    @scale_app.command("run")
    def run_cmd(
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
    ) -> None:
        """Up, run COMMAND, and always tear down (success, failure, SIGINT or SIGTERM)."""
        from idf_ops.scale.lifecycle import run_scale_test

        _when, plan, doc = _plan_until(expires_in, percent, "n2-standard-16", stack)
        if dry_run:
            _dry_run_up(plan, doc)
            typer.echo(f"then it would run {command!r} and tear {stack} down whatever happens")
            return
        from idf_ops.scale.automation import AutomationWorkspace

        ws = AutomationWorkspace("run")
        _write_stack(plan, doc, f"idf scale run --expires-in {expires_in}")

        def body(outputs: dict[str, Any]) -> int:
            _publish_outputs(stack, outputs)  # so `idf loadtest run ... --stack <stack>` finds the targets
            return subprocess.run(command, check=False).returncode

        code = run_scale_test(ws, stack, body, on_event=_events())
        if code != 0:
            raise OperationFailed(f"the test command exited {code}; {stack} was torn down")

    @scale_app.command("status")
    def status_cmd(
        stack: Annotated[str, stack_opt] = DEFAULT_STACK,
        now: Annotated[
            str | None, typer.Option("--now", help="Evaluate expiry at this time (ISO 8601).")
        ] = None,
        offline: Annotated[
            bool, typer.Option("--offline", help="Read the committed stack file instead of the Pulumi state.")
        ] = False,
    ) -> None:
        """Is the stack up, how many resources, when does it expire."""
        if offline:
            from idf_ops.scale.offline import StackFilesWorkspace

            info = StackFilesWorkspace().info(stack)
        else:
            from idf_ops.scale.automation import AutomationWorkspace

            info = AutomationWorkspace("status").info(stack)
        when = _now(now)
        if info.expires_at is None:
            state = "no expiry"
        elif info.expires_at <= when:
            state = f"EXPIRED at {info.expires_at.isoformat()} (reap it: idf scale reap)"
        else:
            left_h = (info.expires_at - when).total_seconds() / 3600
            state = f"expires {info.expires_at.isoformat()} (in {left_h:.1f} h)"
        count = "unknown (offline)" if info.resource_count is None else str(info.resource_count)
        typer.echo(f"{stack}: temporary={info.temporary}; resources: {count}; {state}")

    @scale_app.command("down")
    def down_cmd(
        stack: Annotated[str, stack_opt] = DEFAULT_STACK,
        keep_stack: Annotated[
            bool, typer.Option("--keep-stack", help="Keep the empty stack's history.")
        ] = False,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be destroyed.")] = False,
    ) -> None:
        """Destroy every resource of the scale stack and remove the stack."""
        if dry_run:
            from idf_ops.scale.offline import offline_plan
            from infra.config import config_mapping_from_file, resolve_stack_file

            result = offline_plan(stack, config_mapping_from_file(resolve_stack_file(stack)))
            total = sum(result.resource_counts.values())
            typer.echo(f"would destroy {total} resources of {stack} ({result.engine}):")
            for typ, n in result.resource_counts.items():
                typer.echo(f"  {n:3d} {typ}")
            return
        from idf_ops.scale.automation import AutomationWorkspace
        from idf_ops.scale.lifecycle import scale_down

        scale_down(AutomationWorkspace("down"), stack, on_event=_events(), keep_stack=keep_stack)
        typer.echo(f"{stack} destroyed; verify with `idf scale status --stack {stack}`")

    @scale_app.command("reap")
    def reap_cmd(
        now: Annotated[str | None, typer.Option("--now", help="Reap as of this time (ISO 8601).")] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Offline: list what would be destroyed (from stacks/).")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print decisions as JSON.")] = False,
    ) -> None:
        """Destroy every temporary stack whose expires_at has passed; never touch others."""
        from idf_ops.scale.lifecycle import ScaleWorkspace, reap_expired

        ws: ScaleWorkspace
        if dry_run:
            from idf_ops.scale.offline import StackFilesWorkspace

            ws = StackFilesWorkspace()
        else:
            from idf_ops.scale.automation import AutomationWorkspace

            ws = AutomationWorkspace("reap")
        decisions = reap_expired(ws, _now(now), dry_run=dry_run, on_event=_events())
        if as_json:
            import json

            typer.echo(json.dumps([d.model_dump() for d in decisions], indent=2))
        else:
            for d in decisions:
                typer.echo(f"{d.stack:<16} {d.action:<16} {d.reason}")
        if any(d.action in ("failed", "needs-attention") for d in decisions):
            raise OperationFailed("some stacks need attention (see above)")


def _dry_run_up(plan: ScalePlan, doc: dict[str, Any]) -> None:
    from idf_ops.scale.offline import offline_plan
    from infra.policy.rules import SCALE_STACK_POLICIES, evaluate_inventory

    result = offline_plan(plan.stack, doc)
    violations = evaluate_inventory(result.resources, policies=SCALE_STACK_POLICIES)
    if violations:
        raise OperationFailed(
            f"{plan.stack} breaks the scale-test policy: " + "; ".join(map(str, violations))
        )
    total = sum(result.resource_counts.values())
    typer.echo(
        f"dry run: {plan.stack} is valid; the mock engine would create {total} resources, none stateful "
        "(policy scale-stack-no-stateful-resources passes)"
    )
    for typ, n in result.resource_counts.items():
        typer.echo(f"  {n:3d} {typ}")
    typer.echo(
        f"{plan.nodes_total} nodes, ~${plan.cost.usd_per_hour:,.2f}/h; "
        f"expires {plan.expires_at.isoformat()}; "
        "nothing was created (run without --dry-run, with the Pulumi CLI, to create it)"
    )
    sys.stdout.flush()
