"""Fixtures of the Pulumi program tests: one offline plan per stack, run once per session.

`set_mocks` is process-global, so the four stacks plan one after the other here, and the tests
only read the recorded plans.
"""

from __future__ import annotations

import pytest

from idf_ops.plan.engine import OfflinePlan, run_offline

STACKS = ("dev", "dp01", "dp02", "qserv-scale75")


@pytest.fixture(scope="session")
def plans() -> dict[str, OfflinePlan]:
    """Stack name -> its offline plan."""
    return {stack: run_offline(stack) for stack in STACKS}
