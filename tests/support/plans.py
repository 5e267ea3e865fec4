"""One offline plan per stack per test session.

Planning a stack runs the Pulumi program under the mock engine (``idf_ops.plan.run_offline``, what
``idf plan`` runs); every test that reads a stack's plan shares the one made on first use. Tests
read plans and never change them: copy a resource (``copy.deepcopy``) before mutating it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping

from idf_ops.plan.engine import OfflinePlan, run_offline
from support.stacks import STACKS

__all__ = ["OfflinePlans", "offline_plan"]


@functools.cache
def offline_plan(stack: str) -> OfflinePlan:
    """The offline plan of a declared stack, planned once per process."""
    if stack not in STACKS:
        raise KeyError(f"{stack!r} is not a stack of stacks/ (declared: {', '.join(STACKS)})")
    return run_offline(stack)


class OfflinePlans(Mapping[str, OfflinePlan]):
    """Stack name -> its offline plan, for every declared stack; each planned when first read."""

    def __getitem__(self, stack: str) -> OfflinePlan:
        return offline_plan(stack)

    def __iter__(self) -> Iterator[str]:
        return iter(STACKS)

    def __len__(self) -> int:
        return len(STACKS)
