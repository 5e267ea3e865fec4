"""Idempotence of the local stack: a second `idf local up` right after a first one changes nothing.

The test runs both: earlier suites (PostgreSQL outages, fault injection) may legitimately leave
something for a first run to repair, so only the second run is held to zero changes.
"""

from __future__ import annotations

import pytest

from idf_ops.local.ansible import RoleStats
from idf_ops.local.stack import run_up

pytestmark = pytest.mark.local_stack


def test_second_up_reports_zero_changed_tasks() -> None:
    run_up(lambda _role: None, lambda _stats: None)
    ended: list[RoleStats] = []
    run = run_up(lambda _role: None, ended.append)
    changed = {stats.role: stats.changed for stats in run.roles.values() if stats.changed}
    assert changed == {}, f"roles that changed on a second run: {changed}"
    assert {stats.role for stats in ended} >= {"postgresql", "catalogs", "dataload", "butler"}
