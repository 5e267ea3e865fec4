"""What a gate check is: its one record (:class:`CheckSpec`), and what it is given and returns.

A check is a function ``(CheckContext, Gate, Budget) -> Outcome`` declared once, in its area
module, under the :func:`check` decorator, which records everything the rest of the gates need to
know about it in :data:`CHECKS`: the milestone registry takes its allowed check ids from there, and
the runner decides from the record whether the check runs at all (offline plan, stack kind) and
which client libraries to load first. Nothing here imports the registry at run time: the registry
imports the checks.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from idf_core.contract import StackOutputs

if TYPE_CHECKING:
    from idf_ops.gates.registry import Gate

__all__ = [
    "CHECKS",
    "MAX_TIMEOUT_S",
    "Budget",
    "CheckContext",
    "CheckFailedError",
    "CheckFunction",
    "CheckSpec",
    "GateShape",
    "Outcome",
    "StackKind",
    "check",
]

StackKind = Literal["local", "gcp"]
# Which gate model of the registry carries a check's parameters: `plain` (none), `table` (a DP0.1
# `table`), `loadtest` (a load-test `profile` and `max_age_hours`).
GateShape = Literal["plain", "table", "loadtest"]
# No gate may wait longer than this for one check (the registry's bound on every `timeout_s`).
MAX_TIMEOUT_S = 300


class CheckFailedError(Exception):
    """Raised by a check: the gate fails with this reason (and the evidence gathered so far)."""

    def __init__(self, reason: str, evidence: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.evidence = evidence or []


@dataclass
class Outcome:
    """What a check returns when it passes (or, with status offline, when it could not run)."""

    reason: str
    evidence: list[str] = field(default_factory=list)
    status: str = "pass"


@dataclass(frozen=True)
class Budget:
    """A gate's deadline: checks ask how many seconds are left for their next client call."""

    deadline: float

    def remaining(self, floor_s: float = 0.1) -> float:
        """Seconds left (at least `floor_s`, so a client timeout is never zero)."""
        return max(floor_s, self.deadline - time.monotonic())

    def expired(self) -> bool:
        """True once the deadline has passed."""
        return time.monotonic() >= self.deadline


@dataclass(frozen=True)
class CheckContext:
    """What a check may know: the stack outputs and the run's settings (nothing global)."""

    outputs: StackOutputs
    now: dt.datetime
    loadtests_dir: Path
    max_loadtest_age_hours: float | None = None


CheckFunction = Callable[[CheckContext, "Gate", Budget], Outcome]


@dataclass(frozen=True)
class CheckSpec:
    """The one record of a check, built by :func:`check` where the check is declared."""

    id: str
    function: CheckFunction
    live: bool
    stack_kinds: frozenset[StackKind]
    timeout_s: float
    requires: tuple[str, ...]
    gate: GateShape
    gcp_api: str | None

    @property
    def area(self) -> str:
        """The area module the check is declared in (``qserv``, ``tap``, ...)."""
        return self.function.__module__.rsplit(".", 1)[-1]


#: Every check, by id, in declaration order (the order of the areas in the package, then of the
#: functions in each area module).
CHECKS: dict[str, CheckSpec] = {}


def check(
    *,
    id: str,  # noqa: A002 -- the record field is called id, as in the registry YAML
    live: bool,
    stack_kinds: Collection[StackKind],
    timeout_s: float,
    requires: tuple[str, ...] = (),
    gate: GateShape = "plain",
    gcp_api: str | None = None,
) -> Callable[[CheckFunction], CheckFunction]:
    """Declare a check function and register its record in :data:`CHECKS`.

    - ``id``: the name registry gates use (``check: <id>`` in ``milestones/registry.yaml``);
    - ``live``: it talks to live endpoints, so an offline plan's mock outputs never run it (the
      gate reports ``offline``); offline checks read only the outputs document or local files;
    - ``stack_kinds``: the stack kinds (``local``, ``gcp``) it can run on from this machine; on
      another kind the runner fails the gate without calling it;
    - ``gcp_api``: when ``gcp`` is not among them, the live GCP API the check would need, as a
      template formatted with the stack outputs (``"Cloud SQL {outputs.cloudsql_connection_name}"``);
    - ``timeout_s``: the longest budget a registry gate may give it (each gate sets its own);
    - ``requires``: client libraries the check imports, loaded by the runner one at a time before
      the check runs (two threads importing one package tree at once can deadlock);
    - ``gate``: which registry gate model carries its parameters (:data:`GateShape`).
    """
    kinds = frozenset(stack_kinds)
    problems = []
    if id in CHECKS:
        problems.append(f"id {id!r} is already declared in {CHECKS[id].function.__module__}")
    if not kinds or not kinds <= set(get_args(StackKind)):
        problems.append(f"stack_kinds {sorted(kinds)} must be a non-empty subset of {get_args(StackKind)}")
    if ("gcp" in kinds) == (gcp_api is not None):
        problems.append("gcp_api is required exactly when the check cannot run on gcp stacks")
    if not 0 < timeout_s <= MAX_TIMEOUT_S:
        problems.append(f"timeout_s {timeout_s:g} must be in (0, {MAX_TIMEOUT_S:g}]")
    if gate not in get_args(GateShape):
        problems.append(f"gate {gate!r} must be one of {get_args(GateShape)}")

    def register(function: CheckFunction) -> CheckFunction:
        if problems:
            raise ValueError(f"check {function.__module__}.{function.__name__}: {'; '.join(problems)}")
        CHECKS[id] = CheckSpec(
            id=id,
            function=function,
            live=live,
            stack_kinds=kinds,
            timeout_s=timeout_s,
            requires=requires,
            gate=gate,
            gcp_api=gcp_api,
        )
        return function

    return register
