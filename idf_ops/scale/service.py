"""The Qserv scale test as a service: what `idf scale` decides, as models and decisions.

The `idf scale` commands (`idf_ops/cli/scale_cmd.py`) parse options, call one function here and
format what it returns. This module owns the decisions between them:

- the sizing inputs of a command turned into a validated, priced plan (:func:`plan`), and the
  expiry of `up`/`run` checked against what the plan recommends (:func:`plan_until`);
- the policy verdict of a dry run (:func:`dry_run`: a scale stack with a stateful resource is
  refused, exit 1);
- publishing a live stack's outputs to the contract file (:func:`publish_outputs`), for `up` and
  for `run` before its test command starts;
- where a stack stands against its expiry (:func:`stack_status`) and whether a reap needs a person
  (:func:`reap`);
- which workspace a command talks to (:func:`workspace`: the Pulumi Automation API, or the
  committed stack files offline).
"""

# pulumi (Automation API, mock engine), infra.config and the policy pack load only in the commands
# that need them, as before: `idf scale plan` stays offline-cheap.
# ruff: noqa: PLC0415

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from idf_core.errors import BadInput, OperationFailed
from idf_core.paths import STACKS_DIR
from idf_ops.cost.prices import load_price_table
from idf_ops.scale.lifecycle import (
    MAX_EXPIRES_IN,
    Event,
    ReapDecision,
    ScaleWorkspace,
    StackInfo,
    expires_at_from,
    reap_expired,
    require_scale_stack,
    run_scale_test,
    scale_down,
    scale_up,
)
from idf_ops.scale.offline import OfflinePlan
from idf_ops.scale.plan import (
    DEFAULT_SCALE_STACK,
    ScalePlan,
    plan_scale_test,
    stack_file_text,
    write_stack_file,
)
from idf_ops.scale.sizing import DEFAULT_TEST_HOURS, SizingInputs

__all__ = [
    "DEFAULT_SCALE_STACK",
    "DryRun",
    "PlannedStack",
    "Published",
    "ReapReport",
    "ScheduledStack",
    "SizingOptions",
    "StackStatus",
    "UpResult",
    "bring_up",
    "destroy_preview",
    "dry_run",
    "parse_time",
    "plan",
    "plan_for_pricing",
    "plan_until",
    "publish_outputs",
    "reap",
    "reap_log_records",
    "render_stack",
    "require_scale_stack",
    "run_test",
    "stack_status",
    "stack_text",
    "take_down",
    "workspace",
    "write_stack",
]


@dataclass(frozen=True)
class SizingOptions:
    """The sizing inputs a command takes from its options (defaults: the 2019 glide-path step)."""

    percent: float = 75.0
    machine_type: str = "n2-standard-16"
    local_ssd: int = 24
    replicas: int = 1
    test_hours: float = DEFAULT_TEST_HOURS


@dataclass(frozen=True)
class PlannedStack:
    """A plan and the stack document it was rendered to (what `write_stack` writes)."""

    plan: ScalePlan
    document: dict[str, Any]


@dataclass(frozen=True)
class ScheduledStack:
    """The planned stack of `up`/`run` with its expiry, and a warning when that expiry is short."""

    planned: PlannedStack
    expires_at: datetime
    warning: str | None


class Published(BaseModel):
    """Whether a live stack's outputs reached the contract file."""

    model_config = ConfigDict(extra="forbid")

    path: Path | None = Field(title="Path", description="The outputs.json written, or None.")
    problem: str | None = Field(default=None, title="Problem", description="Why nothing was written.")


class UpResult(BaseModel):
    """What `idf scale up` brought up."""

    model_config = ConfigDict(extra="forbid")

    outputs: dict[str, Any] = Field(title="Outputs", description="The live stack's outputs.")
    published: Published = Field(title="Published", description="The contract file write.")


class DryRun(BaseModel):
    """The verdict of a dry run: the scale policy passed on the mock engine's inventory."""

    model_config = ConfigDict(extra="forbid")

    stack: str = Field(title="Stack", description="Scale-test stack name.")
    policies: list[str] = Field(title="Policies", description="The policies the inventory passed.")
    resource_counts: dict[str, int] = Field(title="Resources", description="Type token -> count.")

    @property
    def total(self) -> int:
        """Resources the mock engine would create."""
        return sum(self.resource_counts.values())


class StackStatus(BaseModel):
    """Where a stack stands against its expiry at a given time."""

    model_config = ConfigDict(extra="forbid")

    info: StackInfo = Field(title="Stack", description="What the workspace knows of the stack.")
    state: Literal["no-expiry", "expired", "expires"] = Field(title="State", description="Against `now`.")
    hours_left: float | None = Field(title="Hours left", description="Until expiry (None unless `expires`).")


class ReapReport(BaseModel):
    """The decisions of one reap, and whether any stack needs a person."""

    model_config = ConfigDict(extra="forbid")

    decisions: list[ReapDecision] = Field(title="Decisions", description="One per stack.")

    @property
    def needs_attention(self) -> bool:
        """A stack failed to go or cannot be judged: reap exits 1."""
        return any(d.action in ("failed", "needs-attention") for d in self.decisions)


def parse_time(value: str | None, *, option: str = "--now") -> datetime:
    """An ISO 8601 time with a time zone from option `option`; now (UTC) when not given."""
    if value is None:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadInput(f"{option} {value!r}: not an ISO 8601 time; give e.g. 2026-12-15T00:00:00Z") from exc
    if when.tzinfo is None:
        raise BadInput(f"{option} {value!r}: needs a time zone; add Z or +00:00")
    return when


def plan(
    options: SizingOptions, *, expires_at: datetime, stack: str, hours: float | None = None
) -> PlannedStack:
    """Size, render, validate and price a scale test; a bad sizing input is BadInput naming its option.
    Only a temporary scale-test stack may be planned (BadInput before anything is sized or written)."""
    require_scale_stack(stack)
    try:
        inputs = SizingInputs(
            percent_of_dr1=options.percent,
            worker_machine_type=options.machine_type,
            local_ssd_count=options.local_ssd,
            replication_factor=options.replicas,
            test_hours=options.test_hours,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise BadInput(f"--{str(first['loc'][0]).replace('_', '-')}: {first['msg']}") from None
    scale_plan, document = plan_scale_test(
        inputs, load_price_table(), expires_at=expires_at, stack=stack, hours=hours
    )
    return PlannedStack(scale_plan, document)


def plan_for_pricing(options: SizingOptions, *, stack: str, hours: float | None) -> PlannedStack:
    """The plan of `idf scale plan`: priced with the longest expiry a stack may carry."""
    return plan(
        options,
        expires_at=datetime.now(UTC).replace(microsecond=0) + MAX_EXPIRES_IN,
        stack=stack,
        hours=hours,
    )


def render_stack(
    options: SizingOptions, *, stack: str, expires_in: str | None, expires_at: str | None
) -> tuple[PlannedStack, str]:
    """The plan of `render-stack` and the command line that regenerates its file (the file's header)."""
    if expires_at:
        when = parse_time(expires_at, option="--expires-at")
        flag = f"--expires-at {when.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    else:
        when = expires_at_from(expires_in, datetime.now(UTC))
        flag = f"--expires-in {expires_in}"
    planned = plan(options, expires_at=when, stack=stack)
    return planned, f"idf scale render-stack --percent {options.percent:g} {flag} --write"


def stack_text(planned: PlannedStack, command: str) -> str:
    """The stack file's text as :func:`write_stack` would write it."""
    return stack_file_text(planned.plan, planned.document, command)


def write_stack(planned: PlannedStack, command: str) -> Path:
    """Write `stacks/Pulumi.<stack>.yaml`, headed by `command` (a scale-test stack only)."""
    require_scale_stack(planned.plan.stack)
    return write_stack_file(
        planned.plan, planned.document, command, STACKS_DIR / f"Pulumi.{planned.plan.stack}.yaml"
    )


def plan_until(expires_in: str | None, options: SizingOptions, *, stack: str) -> ScheduledStack:
    """The expiry from --expires-in (required), the plan of `up` and `run`, and a warning when the
    expiry leaves less time than the plan recommends (ingest + test)."""
    when = expires_at_from(expires_in, datetime.now(UTC))
    planned = plan(options, expires_at=when, stack=stack)
    sizing = planned.plan.sizing
    warning = None
    if sizing.recommended_expires_in_hours > (when - datetime.now(UTC)).total_seconds() / 3600 + 0.1:
        warning = (
            f"warning: --expires-in {expires_in} is shorter than the recommended "
            f"{sizing.recommended_expires_in_hours} h (ingest {sizing.ingest_hours:.1f} h + test)"
        )
    return ScheduledStack(planned, when, warning)


def dry_run(planned: PlannedStack) -> DryRun:
    """Plan the stack on the mock engine and judge it by the scale policy; OperationFailed if it breaks it."""
    from idf_ops.scale.offline import offline_plan
    from infra.policy.rules import SCALE_STACK_POLICIES, evaluate_inventory

    stack = planned.plan.stack
    result = offline_plan(stack, planned.document)
    violations = evaluate_inventory(result.resources, policies=SCALE_STACK_POLICIES)
    if violations:
        raise OperationFailed(f"{stack} breaks the scale-test policy: " + "; ".join(map(str, violations)))
    return DryRun(
        stack=stack,
        policies=[policy.name for policy in SCALE_STACK_POLICIES],
        resource_counts=result.resource_counts,
    )


def publish_outputs(outputs: dict[str, Any]) -> Published:
    """Write a live stack's outputs to the contract file (`var/stacks/<stack>/outputs.json`);
    outputs that do not meet the contract are not written (the problem says why)."""
    from idf_core.contract import contract_of, write_outputs

    try:
        return Published(path=write_outputs(contract_of(outputs)))
    except (ValidationError, BadInput) as exc:
        # The stack is up already: a contract problem is reported, it must not fail (or, in `run`,
        # tear down) a live stack.
        return Published(path=None, problem=str(exc))


def workspace(verb: str, *, offline: bool = False) -> ScaleWorkspace:
    """The workspace of a command: the committed stack files offline; a local state directory when
    ``IDF_SCALE_LOCAL_STATE`` names one (the offline rehearsal); else the Pulumi Automation API
    (which fails with one clear error when the Pulumi CLI is absent)."""
    if offline:
        from idf_ops.scale.offline import StackFilesWorkspace

        return StackFilesWorkspace()
    from idf_ops.scale.local_state import LOCAL_STATE_ENV, LocalStateWorkspace

    if os.environ.get(LOCAL_STATE_ENV):
        # The offline rehearsal: a directory stands in for the state backend (local_state.py).
        return LocalStateWorkspace(Path(os.environ[LOCAL_STATE_ENV]))
    from idf_ops.scale.automation import AutomationWorkspace

    return AutomationWorkspace(verb)


def bring_up(ws: ScaleWorkspace, stack: str, *, on_event: Event) -> UpResult:
    """Bring the stack up (destroyed again on failure) and publish its outputs."""
    outputs = scale_up(ws, stack, on_event=on_event)
    return UpResult(outputs=outputs, published=publish_outputs(outputs))


def run_test(
    ws: ScaleWorkspace,
    stack: str,
    command: list[str],
    *,
    on_event: Event,
    on_published: Callable[[Published], None],
    ingest: IngestStep | None = None,
) -> int:
    """Up, publish the outputs (so `idf loadtest run ... --stack <stack>` finds the targets), run the
    ingest step when given (:func:`ingest_step`, :func:`cluster_ingest_step`), run `command`, and
    always tear down; returns the command's exit code."""

    def body(outputs: dict[str, Any]) -> int:
        on_published(publish_outputs(outputs))
        if ingest is not None:
            # The data first: the test command measures the catalog the ingest step loaded.
            ingest(stack, outputs)
        # The operator's own command line, run as given (no shell).
        return subprocess.run(command, check=False).returncode

    return run_scale_test(ws, stack, body, on_event=on_event)


def stack_status(info: StackInfo, now: datetime) -> StackStatus:
    """Where `info`'s stack stands against its expiry at `now`."""
    if info.expires_at is None:
        return StackStatus(info=info, state="no-expiry", hours_left=None)
    if info.expires_at <= now:
        return StackStatus(info=info, state="expired", hours_left=None)
    return StackStatus(info=info, state="expires", hours_left=(info.expires_at - now).total_seconds() / 3600)


def destroy_preview(stack: str) -> OfflinePlan:
    """What `down` would destroy: the committed stack file planned on the mock engine."""
    from idf_ops.scale.offline import offline_plan
    from infra.config import config_mapping_from_file, resolve_stack_file

    require_scale_stack(stack)
    return offline_plan(stack, config_mapping_from_file(resolve_stack_file(stack)))


def take_down(ws: ScaleWorkspace, stack: str, *, on_event: Event, keep_stack: bool) -> None:
    """Destroy every resource of the stack and remove it unless kept."""
    scale_down(ws, stack, on_event=on_event, keep_stack=keep_stack)


def reap(
    ws: ScaleWorkspace, now: datetime, *, dry_run: bool, on_event: Event, scale_stacks_only: bool = False
) -> ReapReport:
    """Destroy (or list) every temporary stack whose expiry has passed; never touch others.
    ``scale_stacks_only``: the unattended reaper's scope (only ``qserv-scale*`` stacks are read)."""
    decisions = reap_expired(ws, now, dry_run=dry_run, on_event=on_event, scale_stacks_only=scale_stacks_only)
    return ReapReport(decisions=decisions)


# Cloud Logging severities of the reaper's decisions (what the alert policy counts: infra/reaper.py).
_REAP_SEVERITY = {
    "kept": "INFO",
    "would-destroy": "NOTICE",
    "destroyed": "NOTICE",
    "needs-attention": "WARNING",
    "failed": "ERROR",
}


def reap_log_records(report: ReapReport, now: datetime) -> list[dict[str, Any]]:
    """The structured log lines of one unattended reap: one per decision, then the run's summary.

    Cloud Run sends a JSON line on stdout to Cloud Logging as ``jsonPayload`` with its ``severity``;
    the reaper's log-based metric counts ``jsonPayload.idf_reaper.action`` (a summary's action is
    ``run``, whose absence for an hour is the reaper-is-silent alert)."""
    records: list[dict[str, Any]] = [
        {
            "severity": _REAP_SEVERITY[d.action],
            "message": f"reaper: {d.stack} {d.action}: {d.reason}",
            "idf_reaper": {"stack": d.stack, "action": d.action, "reason": d.reason, "now": now.isoformat()},
        }
        for d in report.decisions
    ]
    counts = {action: sum(d.action == action for d in report.decisions) for action in _REAP_SEVERITY}
    records.append(
        {
            "severity": "WARNING" if report.needs_attention else "INFO",
            "message": f"reaper: run at {now.isoformat()}: "
            + ", ".join(f"{n} {a}" for a, n in counts.items() if n),
            "idf_reaper": {"stack": "", "action": "run", "counts": counts, "now": now.isoformat()},
        }
    )
    return records


# --- The scale-test catalog: generation and ingest (idf_ops/scale/generate.py, ingest.py) ---------


class Generated(BaseModel):
    """What `idf scale generate` wrote."""

    model_config = ConfigDict(extra="forbid")

    out: str = Field(title="Output", description="Directory or URI of the chunk files.")
    chunks_total: int = Field(title="Chunks in the layout", description="Chunks of the percent's footprint.")
    chunks: list[int] = Field(title="Chunks", description="Chunks this run was asked for.")
    objects_per_chunk: int = Field(title="Objects per chunk", description="Sizing-model share per chunk.")
    rows: dict[str, int] = Field(title="Rows", description="Table -> rows of the chunks of this run.")
    seconds: float = Field(title="Seconds", description="Generation wall time of this run.")
    skipped: int = Field(title="Skipped", description="Chunks already generated (markers found).")
    config_dir: str | None = Field(default=None, title="Config", description="Ingest configuration written.")


def generate_catalog(
    *,
    percent: float,
    seed: str,
    out: str,
    first_chunks: int | None,
    objects_per_chunk: int | None,
    index: int = 0,
    count: int = 1,
    on_chunk: Callable[[Any], None] | None = None,
) -> Generated:
    """Generate the chunks of ``percent`` % of DR1 (or only the first ``first_chunks`` of them, for a
    local run) from the seed, and, for a local directory, the ingest configuration of what exists."""
    import time

    from idf_ops.scale.generate import Seed, generate_chunks, scale_chunks, target_rows

    source = Seed.from_location(seed)
    layout = scale_chunks(percent)
    per_chunk = objects_per_chunk or max(1, round(target_rows(percent, source.rows)["object"] / len(layout)))
    chunks = layout[:first_chunks] if first_chunks else layout
    started = time.monotonic()
    results = generate_chunks(source, chunks, per_chunk, out, index=index, count=count, on_chunk=on_chunk)
    rows: dict[str, int] = {}
    for result in results:
        for table, n in result.rows.items():
            rows[table] = rows.get(table, 0) + n
    config_dir = None
    if "://" not in out or out.startswith("file://"):
        config_dir = str(write_generated_config(Path(out.removeprefix("file://"))))
    return Generated(
        out=out,
        chunks_total=len(layout),
        chunks=chunks[index::count],
        objects_per_chunk=per_chunk,
        rows=rows,
        seconds=round(time.monotonic() - started, 2),
        skipped=sum(r.skipped for r in results),
        config_dir=config_dir,
    )


def write_generated_config(data_dir: Path, *, target: str = "idf", database: str = "dp01_scale") -> Path:
    """Write the qserv-ingest configuration of the chunks generated in ``data_dir`` (into it)."""
    from idf_core.qserv_ingest import build_config
    from idf_ops.catalogs.schema import felis_yaml_path
    from idf_ops.qserv_local.load import instance, local_urls
    from idf_ops.scale.generate import data_locations, read_markers

    chunks = sorted(read_markers(str(data_dir)))
    config = build_config(
        database=database,
        data=data_locations(chunks),
        servers=["file://"],
        path=str(data_dir.resolve()),
        qserv=local_urls(instance(target), database),
        felis_path=felis_yaml_path(),
    )
    config.write(data_dir)
    return data_dir


def ingest_local(
    data_dir: Path,
    *,
    target: str = "idf",
    database: str | None = None,
    state_path: Path | None = None,
    on_progress: Callable[[Any], None] | None = None,
) -> Any:
    """Load the generated chunks of ``data_dir`` into a scratch database of the MariaDB stand-in (its
    tables created like the served catalog's), following the configuration written there; resumable."""
    from idf_core.facts import TAP_SCHEMA
    from idf_core.qserv_ingest import read_config
    from idf_ops.qserv_local.db import connect
    from idf_ops.qserv_local.load import instance
    from idf_ops.scale.ingest import MariaDbChunkLoader, ingest

    config = read_config(data_dir)
    name = database or config.database.database
    if name == TAP_SCHEMA:
        raise BadInput(
            f"--database {name}: that is the served catalog; the scale data loads into a scratch database."
        )
    where = instance(target)
    with connect(where.admin_socket, local_infile=True) as connection:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}`")
            for table in config.table_order():
                cursor.execute(f"CREATE TABLE IF NOT EXISTS `{name}`.`{table}` LIKE `{TAP_SCHEMA}`.`{table}`")
        if name != config.database.database:
            config = config.model_copy(
                update={"database": config.database.model_copy(update={"database": name})}
            )
        return ingest(
            config,
            data_dir,
            MariaDbChunkLoader(connection, name),
            state_path=state_path,
            on_progress=on_progress,
        )


def loaded_rows_of(state: Any) -> dict[str, int]:
    """Table -> rows the ingest state records as loaded."""
    from idf_ops.scale.ingest import loaded_rows

    return loaded_rows(state)


IngestStep = Callable[[str, dict[str, Any]], None]
"""The ingest step of `idf scale run`: (stack, the live stack's outputs) -> the data loaded and recorded."""


def ingest_step(
    data_dir: Path, *, target: str = "idf", on_progress: Callable[[Any], None] | None = None
) -> IngestStep:
    """The ingest step of `idf scale run --ingest-from DIR`: load the generated chunks (resumable:
    a rerun skips chunks already loaded) and record the loaded rows for the stack's gates.

    The loader is the local MariaDB stand-in's (the only one implemented; on GKE the ingest goes
    through qserv-ingest's workflow, infra/qserv_ingest.py)."""

    def step(stack: str, outputs: dict[str, Any]) -> None:
        from idf_ops.scale.ingest import write_record

        state = ingest_local(data_dir, target=target, on_progress=on_progress)
        write_record(stack, state, tables=len(state.loaded) or 1)

    return step


def cluster_ingest_step(
    *,
    until: datetime,
    on_progress: Callable[[Any], None] | None = None,
    poll_s: float = 30.0,
) -> IngestStep:
    """The ingest step of `idf scale run` on GKE: follow the stack's ingest Job (qserv-ingest's
    workflow, created by `pulumi up` and not awaited) by Qserv's own row counters until it ends or
    ``until`` (the stack's expiry) comes, with progress, and record the loaded rows for the gates
    whatever the end. OperationFailed unless the Job completed; BadInput when the stack has none."""

    def step(stack: str, outputs: dict[str, Any]) -> None:
        contract = _contract(stack, outputs)
        job = contract.qserv_ingest_job
        if job is None:
            raise BadInput(
                f"stack {stack}: its outputs name no qserv_ingest_job, so `pulumi up` created no ingest "
                "Job: record Rubin's ingest image as idf:images.qserv_ingest (runbooks/qserv-scale-test.md), "
                "or load a generated directory with --ingest-from DIR"
            )
        follow_cluster_job(contract, job, until=until, on_progress=on_progress, poll_s=poll_s)

    return step


def _contract(stack: str, outputs: dict[str, Any]) -> Any:
    from idf_core.contract import contract_of

    try:
        return contract_of(outputs, source=f"stack {stack}'s outputs")
    except ValidationError as exc:
        raise OperationFailed(
            f"stack {stack}: its outputs do not meet the stack outputs contract "
            f"({str(exc).splitlines()[0]}); is the deployed program older than this idf?"
        ) from None


def follow_stack_ingest(
    stack: str, *, until: datetime, on_progress: Callable[[Any], None] | None = None, poll_s: float = 30.0
) -> Path:
    """`idf scale ingest --follow STACK`: follow the ingest Job its outputs file names."""
    from idf_core.contract import load_outputs

    outputs = load_outputs(stack)
    if outputs.offline_plan:
        raise BadInput(
            f"stack {stack}: its outputs are an offline plan's (`idf plan`), not a live stack's: "
            f"`idf outputs pull {stack}` first"
        )
    if outputs.qserv_ingest_job is None:
        raise BadInput(
            f"stack {stack}: its outputs name no qserv_ingest_job (a local stack, a stack without "
            "Qserv ingest, or outputs older than this idf: `idf outputs pull`)"
        )
    return follow_cluster_job(
        outputs, outputs.qserv_ingest_job, until=until, on_progress=on_progress, poll_s=poll_s
    )


def follow_cluster_job(
    outputs: Any,
    job: Any,
    *,
    until: datetime,
    on_progress: Callable[[Any], None] | None = None,
    poll_s: float = 30.0,
) -> Path:
    """Follow ``job`` (a :class:`idf_core.contract.QservIngestJob`) in the cluster of ``outputs``
    and write the stack's ingest record; returns its path (OperationFailed, after writing it,
    unless the Job completed)."""
    from idf_clients.gcp import stack_credentials
    from idf_clients.kube import KubeClient
    from idf_clients.qserv import ingest_table_stats_in_cluster
    from idf_ops.scale.ingest import JobCondition, follow_cluster_ingest, write_record

    credentials, project = stack_credentials(outputs)
    kube = KubeClient.for_stack(outputs, credentials, project, timeout_s=30)

    def condition() -> JobCondition:
        state = kube.job(job.namespace, job.job)
        return JobCondition(state.condition, state.message)

    state, ended = follow_cluster_ingest(
        database=job.database,
        tables=job.tables,
        chunks_total=job.chunks_total,
        stats=lambda table: ingest_table_stats_in_cluster(kube, job.namespace, job.database, table),
        job=condition,
        on_progress=on_progress,
        poll_s=poll_s,
        deadline_s=max(0.0, (until - datetime.now(UTC)).total_seconds()),
    )
    path = write_record(outputs.stack, state, tables=len(job.tables))
    if ended.condition != "Complete":
        what = f"failed ({ended.message})" if ended.condition == "Failed" else ended.message
        raise OperationFailed(
            f"the ingest Job {job.namespace}/{job.job} {what}; what Qserv had loaded is recorded in "
            f"{path}; `kubectl -n {job.namespace} logs job/{job.job}` says why"
        )
    return path
