"""The one Pulumi mock of the tests.

Resource state comes from the offline planner's mock (``idf_ops.plan.engine``: the placeholders
``idf plan`` uses for IDs, IPs, endpoints, emails and secret passwords), so a component test sees
the values a planned stack sees. On top, the mock records every registration, and it can hand out
generated secrets as plain, traceable markers (the secret-leak tests need to see where they go).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

from idf_ops.plan.engine import PROJECT, _mock_classes

__all__ = ["Mocks", "use_mocks", "use_recording_monitor"]


class Mocks(pulumi.runtime.Mocks):
    """The planner's placeholder values; ``registered`` keeps each resource registration."""

    def __init__(self, generated_secret: Callable[[str], str] | None = None) -> None:
        """``generated_secret(name)``, when given, is the plain value of every ``random:*`` result."""
        planner_mocks, _monitor = _mock_classes()
        self._planner: pulumi.runtime.Mocks = planner_mocks()
        self._generated_secret = generated_secret
        self.registered: list[pulumi.runtime.MockResourceArgs] = []

    @property
    def types(self) -> list[str]:
        """Type tokens of the registered resources, in registration order."""
        return [args.typ for args in self.registered]

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        self.registered.append(args)
        resource_id, state = self._planner.new_resource(args)
        if self._generated_secret is not None and args.typ.startswith("random:"):
            state["result"] = self._generated_secret(args.name)
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> Any:
        return self._planner.call(args)


def use_mocks(stack: str, *, preview: bool = False, mocks: Mocks | None = None) -> Mocks:
    """Install ``mocks`` (a fresh :class:`Mocks` by default) for ``stack`` of the idf project."""
    mocks = mocks or Mocks()
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview)
    return mocks


def use_recording_monitor(stack: str) -> Any:
    """Install the offline planner's own mocks and recording monitor for ``stack``; the monitor's
    ``recorded`` lists each registration as a ``PlannedResource`` (with its dependencies and options)."""
    mocks_cls, monitor_cls = _mock_classes()
    mocks = mocks_cls()
    monitor = monitor_cls(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    return monitor
