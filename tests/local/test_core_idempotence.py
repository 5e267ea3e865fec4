"""Idempotence of the local stack: the second `idf local up` (CI runs one before pytest) changes nothing."""

from __future__ import annotations

import pytest

from idf_ops.local.ansible import RoleStats
from idf_ops.local.stack import run_up

pytestmark = pytest.mark.local_stack


def test_second_up_reports_zero_changed_tasks() -> None:
    ended: list[RoleStats] = []
    run = run_up(lambda _role: None, ended.append)
    changed = {stats.role: stats.changed for stats in run.roles.values() if stats.changed}
    assert changed == {}, f"roles that changed on a second run: {changed}"
    assert {stats.role for stats in ended} >= {"postgresql", "catalogs", "dataload", "butler"}
