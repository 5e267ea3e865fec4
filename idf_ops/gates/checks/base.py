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
import importlib
import threading
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
    "import_within",
]

StackKind = Literal["local", "gcp"]
# Which gate model of the registry carries a check's parameters: `plain` (none), `table` (a DP0.1
# `table`), `loadtest` (a load-test `profile` and `max_age_hours`).
GateShape = Literal["plain", "table", "loadtest"]
# No gate may wait longer than this for one check (the registry's bound on every `timeout_s`).
MAX_TIMEOUT_S = 300


# Gates run in threads, and two threads importing the same package tree at once can deadlock on
# Python's module locks (seen: `_DeadlockError ... _ModuleLock('pyvo.io.vosi')`), so client
# libraries are imported one at a time, under one lock, inside the gate's own budget: the runner
# loads a check's `requires` this way, and cloud sides load their clients once credentials exist.
_IMPORT_LOCK = threading.Lock()


def import_within(modules: tuple[str, ...], budget: Budget) -> None:
    """Import `modules` under the one import lock, or CheckFailedError when the budget runs out."""
    if not modules:
        return
    if not _IMPORT_LOCK.acquire(timeout=budget.remaining()):
        raise CheckFailedError("timed out waiting to load the check's client libraries")
    try:
        for module in modules:
            importlib.import_module(module)
    finally:
        _IMPORT_LOCK.release()


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
) -> Callable[[CheckFunction], CheckFunction]:
    """Declare a check function and register its record in :data:`CHECKS`.

    - ``id``: the name registry gates use (``check: <id>`` in ``milestones/registry.yaml``);
    - ``live``: it talks to live endpoints, so an offline plan's mock outputs never run it (the
      gate reports ``offline``); offline checks read only the outputs document or local files;
    - ``stack_kinds``: the stack kinds (``local``, ``gcp``) it runs on; on another kind the runner
      fails the gate without calling it. ``gcp`` is required: releases are made from cloud stacks,
      so every check has a cloud side (through :mod:`idf_clients.gcp` / :mod:`idf_clients.kube`,
      see :mod:`._gcp`) that fails with its own reason, never a blanket refusal of the stack kind;
    - ``timeout_s``: the longest budget a registry gate may give it (each gate sets its own);
    - ``requires``: client libraries the check imports, loaded by the runner one at a time before
      the check runs (two threads importing one package tree at once can deadlock);
    - ``gate``: which registry gate model carries its parameters (:data:`GateShape`). A cloud
      side loads its Google and Kubernetes clients itself (:func:`import_within`), once
      credentials exist: they take seconds to import, and local stacks never load them.
    """
    kinds = frozenset(stack_kinds)
    problems = []
    if id in CHECKS:
        problems.append(f"id {id!r} is already declared in {CHECKS[id].function.__module__}")
    if not kinds or not kinds <= set(get_args(StackKind)):
        problems.append(f"stack_kinds {sorted(kinds)} must be a non-empty subset of {get_args(StackKind)}")
    if "gcp" not in kinds:
        problems.append(
            "stack_kinds must include 'gcp': every check needs a cloud implementation "
            "(the gcp side of the check, idf_ops/gates/checks/_gcp.py)"
        )
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
        )
        return function

    return register
