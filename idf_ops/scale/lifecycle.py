"""Scale-test lifecycle: up, run, down, reap, with teardown guaranteed on failure and interrupt.

This module owns the *decisions* (when to retry in fallback zones, when to destroy, which stacks
are expired) and talks to Pulumi only through the small :class:`ScaleWorkspace` protocol, so the
same code runs against Pulumi's Automation API (:mod:`idf_ops.scale.automation`) and against a
fake in tests.

Teardown guarantees:

- :func:`teardown_on_failure` destroys the stack when the body raises or the process receives
  SIGINT/SIGTERM (turned into :class:`ScaleInterrupted` so `finally` blocks run), and keeps
  destroying through further signals;
- :func:`run_scale_test` always destroys, success or not: up, body, down.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from idf_core.errors import BadInput, OperationFailed
from idf_core.facts import SCALE_STACK_PREFIX, is_scale_stack
from idf_core.paths import validate_stack_name

__all__ = [
    "MAX_EXPIRES_IN",
    "MIN_EXPIRES_IN",
    "ReapDecision",
    "ScaleInterrupted",
    "ScaleWorkspace",
    "StackInfo",
    "StockoutError",
    "expires_at_from",
    "parse_duration",
    "reap_expired",
    "require_scale_stack",
    "run_scale_test",
    "scale_down",
    "scale_up",
    "teardown_on_failure",
]

MIN_EXPIRES_IN = timedelta(hours=1)
# Bounded: a scale test that needs more than a week is a deployment, not a test.
MAX_EXPIRES_IN = timedelta(days=7)
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")

Event = Callable[[str], None]


class ScaleInterrupted(BaseException):
    """SIGINT or SIGTERM arrived; a BaseException so `except Exception` cannot swallow it."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum


class StockoutError(Exception):
    """The preferred zone has no capacity (ZONE_RESOURCE_POOL_EXHAUSTED)."""


class StackInfo(BaseModel):
    """What reap needs to know about a stack."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(title="Stack", description="Stack name.")
    temporary: bool = Field(title="Temporary", description="idf:meta.temporary of the stack's config.")
    expires_at: datetime | None = Field(
        title="Expires at", description="Earliest expires_at of its pools (or its expires-at tag)."
    )
    resource_count: int | None = Field(default=None, title="Resources", description="Resources in state.")


class ReapDecision(BaseModel):
    """What reap did (or would do) with one stack."""

    model_config = ConfigDict(extra="forbid")

    stack: str = Field(title="Stack", description="Stack name.")
    action: Literal["destroyed", "would-destroy", "kept", "needs-attention", "failed"] = Field(
        title="Action", description="Outcome."
    )
    reason: str = Field(title="Reason", description="Why.")


class ScaleWorkspace(Protocol):
    """The Pulumi operations the lifecycle needs (Automation API or a fake)."""

    def up(self, stack: str, *, use_zone_fallbacks: bool, on_event: Event) -> dict[str, Any]:
        """Create/update the stack from its stack file; return its outputs. StockoutError on stockout."""
        ...

    def destroy(self, stack: str, *, on_event: Event) -> None:
        """Destroy every resource of the stack."""
        ...

    def remove(self, stack: str) -> None:
        """Forget the (empty) stack."""
        ...

    def list_stacks(self) -> list[str]:
        """Names of the project's stacks."""
        ...

    def info(self, stack: str) -> StackInfo:
        """Temporary flag, expiry and resource count of a stack."""
        ...


def require_scale_stack(stack: str, option: str = "--stack") -> str:
    """Return ``stack`` if it names a temporary scale-test stack; BadInput otherwise.

    `idf scale` writes stack files, brings stacks up, destroys them on failure and tears them
    down: on dp01 that would destroy the data preview. Every entry point checks this before it
    writes or calls anything.
    """
    validate_stack_name(stack, option)
    if not is_scale_stack(stack):
        raise BadInput(
            f"{option} {stack}: not a temporary scale-test stack (those are named {SCALE_STACK_PREFIX}*); "
            "`idf scale` creates and destroys only those. Serving stacks change through Pulumi and "
            "review (runbooks/pulumi.md), never through `idf scale`."
        )
    return stack


def parse_duration(text: str, *, option: str = "--expires-in") -> timedelta:
    """'6h', '2d', '1d12h', '90m' -> timedelta, bounded by MIN/MAX_EXPIRES_IN."""
    match = _DURATION.match(text.strip().lower()) if text else None
    if not match or not any(match.groups()):
        raise BadInput(f"{option}: {text!r} is not a duration; write e.g. 6h, 2d, 1d12h or 90m")
    days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    delta = timedelta(days=days, hours=hours, minutes=minutes)
    if delta < MIN_EXPIRES_IN or delta > MAX_EXPIRES_IN:
        raise BadInput(
            f"{option}: {text} is outside 1h .. {MAX_EXPIRES_IN.days}d; a scale test's nodes must "
            "expire within a week (split longer campaigns into several runs)"
        )
    return delta


def expires_at_from(expires_in: str | None, now: datetime, *, option: str = "--expires-in") -> datetime:
    """The expiry of a run; refuses a missing --expires-in."""
    if not expires_in:
        raise BadInput(
            f"{option} is required: scale-test nodes must carry an expiry (e.g. {option} 48h; at most "
            f"{MAX_EXPIRES_IN.days}d). Run `idf scale plan` for the recommended value."
        )
    return (now + parse_duration(expires_in, option=option)).astimezone(UTC).replace(microsecond=0)


@contextmanager
def _signals_raise() -> Iterator[None]:
    """Turn SIGINT/SIGTERM into ScaleInterrupted inside the block (main thread only)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise ScaleInterrupted(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def _signals_deferred(on_event: Event) -> Iterator[None]:
    """While tearing down, a signal must not abort the teardown: note it and carry on."""

    def handler(signum: int, frame: FrameType | None) -> None:
        on_event(f"{signal.Signals(signum).name} received during teardown: finishing the destroy first")

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _destroy(ws: ScaleWorkspace, stack: str, on_event: Event, why: str) -> None:
    on_event(f"tearing down {stack}: {why}")
    with _signals_deferred(on_event):
        try:
            ws.destroy(stack, on_event=on_event)
        except Exception as exc:
            raise OperationFailed(
                f"{stack}: teardown FAILED ({exc}); resources may be left running and billing. "
                f"Retry `idf scale down --stack {stack}` now, then `idf scale status --stack {stack}`."
            ) from exc
    on_event(f"{stack} destroyed")


@contextmanager
def teardown_on_failure(ws: ScaleWorkspace, stack: str, on_event: Event) -> Iterator[None]:
    """Destroy `stack` if the block raises or a SIGINT/SIGTERM arrives; re-raise afterwards."""
    try:
        with _signals_raise():
            yield
    except ScaleInterrupted as exc:
        _destroy(ws, stack, on_event, str(exc))
        raise
    except BaseException as exc:
        _destroy(ws, stack, on_event, f"failed: {exc}")
        raise


def _up_with_fallback(ws: ScaleWorkspace, stack: str, on_event: Event) -> dict[str, Any]:
    try:
        return ws.up(stack, use_zone_fallbacks=False, on_event=on_event)
    except StockoutError as exc:
        on_event(f"preferred zone out of capacity ({exc}); retrying in the fallback zones")
        return ws.up(stack, use_zone_fallbacks=True, on_event=on_event)


def scale_up(ws: ScaleWorkspace, stack: str, *, on_event: Event) -> dict[str, Any]:
    """Bring the stack up; retry once in the fallback zones on a stockout; destroy on failure."""
    require_scale_stack(stack)
    with teardown_on_failure(ws, stack, on_event):
        return _up_with_fallback(ws, stack, on_event)


def run_scale_test(
    ws: ScaleWorkspace, stack: str, body: Callable[[dict[str, Any]], int], *, on_event: Event
) -> int:
    """Up, run `body(outputs)`, and always down (success, failure or interrupt).

    The signal handlers cover the whole run, up to the end of the final destroy, so no SIGINT
    can fall between "up" and "body" or between "body" and "down".
    """
    require_scale_stack(stack)
    with _signals_raise():
        try:
            outputs = _up_with_fallback(ws, stack, on_event)
            result = body(outputs)
        except ScaleInterrupted as exc:
            _destroy(ws, stack, on_event, str(exc))
            raise
        except BaseException as exc:
            _destroy(ws, stack, on_event, f"the run failed: {exc}")
            raise
        _destroy(ws, stack, on_event, f"the test finished (exit {result})")
    return result


def scale_down(ws: ScaleWorkspace, stack: str, *, on_event: Event, keep_stack: bool = False) -> None:
    """Destroy the stack's resources, then forget the stack unless asked to keep it."""
    require_scale_stack(stack)
    _destroy(ws, stack, on_event, "requested")
    if not keep_stack:
        ws.remove(stack)
        on_event(f"stack {stack} removed")


def reap_expired(
    ws: ScaleWorkspace, now: datetime, *, dry_run: bool, on_event: Event, scale_stacks_only: bool = False
) -> list[ReapDecision]:
    """Destroy every temporary stack whose expiry has passed; never touch a non-temporary stack.

    ``scale_stacks_only`` is the unattended reaper's scope (infra/reaper.py): a stack whose name is
    not ``qserv-scale*`` is kept without being read, since the reaper's identity may not read its
    state (and must not need to, to leave it alone)."""
    decisions: list[ReapDecision] = []
    for name in ws.list_stacks():
        if scale_stacks_only and not is_scale_stack(name):
            decisions.append(
                ReapDecision(
                    stack=name,
                    action="kept",
                    reason=f"not a {SCALE_STACK_PREFIX}* stack: outside the reaper's reach, not read",
                )
            )
            continue
        try:
            info = ws.info(name)
        except Exception as exc:  # noqa: BLE001 -- one unreadable stack must not stop the reaping of the others
            decisions.append(
                ReapDecision(stack=name, action="needs-attention", reason=f"cannot read its config: {exc}")
            )
            continue
        if not info.temporary:
            decisions.append(ReapDecision(stack=name, action="kept", reason="not a temporary stack"))
            continue
        if info.expires_at is None:
            decisions.append(
                ReapDecision(
                    stack=name,
                    action="needs-attention",
                    reason="temporary but without expires_at: not reaped; check it and `idf scale down` it",
                )
            )
            continue
        if info.expires_at > now:
            decisions.append(
                ReapDecision(stack=name, action="kept", reason=f"expires {info.expires_at.isoformat()}")
            )
            continue
        reason = f"expired {info.expires_at.isoformat()}"
        try:  # scale_down would refuse it: say so instead of stopping the reap
            require_scale_stack(name)
        except BadInput:
            decisions.append(
                ReapDecision(
                    stack=name,
                    action="needs-attention",
                    reason=f"temporary and expired but not a {SCALE_STACK_PREFIX}* stack name: not reaped",
                )
            )
            continue
        if dry_run:
            decisions.append(ReapDecision(stack=name, action="would-destroy", reason=reason))
            continue
        try:
            scale_down(ws, name, on_event=on_event)
        except OperationFailed as exc:
            decisions.append(ReapDecision(stack=name, action="failed", reason=str(exc)))
        else:
            decisions.append(ReapDecision(stack=name, action="destroyed", reason=reason))
    return decisions
