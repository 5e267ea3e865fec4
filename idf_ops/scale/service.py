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
    """The workspace of a command: the committed stack files offline, else the Pulumi Automation API
    (which fails with one clear error when the Pulumi CLI is absent)."""
    if offline:
        from idf_ops.scale.offline import StackFilesWorkspace

        return StackFilesWorkspace()
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
) -> int:
    """Up, publish the outputs (so `idf loadtest run ... --stack <stack>` finds the targets), run
    `command`, and always tear down; returns the command's exit code."""

    def body(outputs: dict[str, Any]) -> int:
        on_published(publish_outputs(outputs))
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


def reap(ws: ScaleWorkspace, now: datetime, *, dry_run: bool, on_event: Event) -> ReapReport:
    """Destroy (or list) every temporary stack whose expiry has passed; never touch others."""
    return ReapReport(decisions=reap_expired(ws, now, dry_run=dry_run, on_event=on_event))
