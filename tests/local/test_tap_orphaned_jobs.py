"""Issue 16, finding 6: the orphaned-job cleanup never aborts a live synchronous query.

DaCHS records a sync query's job with ``pid = -1`` (it runs inside the server process). The old
watchdog called every such job older than 60 s orphaned and aborted a legitimate 91 s query. Here a
sync job row 90 s old, started after the running instances, is written into TAP_SCHEMA (a faked
row: ADQL has no pg_sleep), and the real cleanup (`abort_orphaned_jobs`, what `idf tap heal` and the
`tap` role run) must leave it EXECUTING; a sync job older than every instance's current process is
still found orphaned (so the rule is not simply "never").
"""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator

import pytest

from idf_ops.tap.instances import _executing_jobs, abort_orphaned_jobs, instance_start_times, orphaned_jobs

pytestmark = [pytest.mark.local_stack]


def _sql(statement: str) -> str:
    result = subprocess.run(
        ["runuser", "-u", "postgres", "--", "psql", "-d", "gavo", "-Atc", statement],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip()


def _insert_sync_job(job_id: str, started_epoch: float) -> None:
    # DaCHS writes naive UTC timestamps; pid -1 is how it records a sync query.
    # Test-generated ids and numbers only (no outside input): plain SQL text is fine here.
    started = f"to_timestamp({started_epoch}) AT TIME ZONE 'UTC'"
    columns = "jobid, phase, executionduration, starttime, creationtime, pid"
    values = f"'{job_id}', 'EXECUTING', 3600, {started}, {started}, -1"
    _sql(f"INSERT INTO tap_schema.tapjobs ({columns}) VALUES ({values})")  # noqa: S608


@pytest.fixture
def job_ids() -> Iterator[list[str]]:
    ids: list[str] = []
    yield ids
    for job_id in ids:
        _sql(f"DELETE FROM tap_schema.tapjobs WHERE jobid = '{job_id}'")  # noqa: S608 - a generated id


def _settled_instance_starts(age_s: float, timeout_s: float = 150) -> list[float]:
    """Instance start times once every instance has run longer than ``age_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        starts = instance_start_times()
        if starts and time.time() - max(starts) > age_s:
            return starts
        time.sleep(2)
    pytest.fail(f"the DaCHS instances did not stay up {age_s:.0f} s in a row (supervisorctl status)")


def test_a_90_s_sync_query_of_a_live_instance_is_not_aborted(job_ids: list[str]) -> None:
    _settled_instance_starts(95)
    live = f"idftest{secrets.token_hex(6)}"
    job_ids.append(live)
    _insert_sync_job(live, time.time() - 90)

    [row] = [job for job in _executing_jobs() if job.job_id == live]
    assert row.pid == -1 and row.age_s is not None and 85 <= row.age_s <= 120, row

    aborted = abort_orphaned_jobs()
    assert live not in aborted
    phase = _sql(f"SELECT phase FROM tap_schema.tapjobs WHERE jobid = '{live}'")  # noqa: S608 - a generated id
    assert phase == "EXECUTING"


def test_a_sync_job_older_than_every_instance_is_orphaned(job_ids: list[str]) -> None:
    starts = _settled_instance_starts(0)
    dead = f"idftest{secrets.token_hex(6)}"
    job_ids.append(dead)
    _insert_sync_job(dead, min(starts) - 120)
    jobs = [job for job in _executing_jobs() if job.job_id == dead]
    assert [job.job_id for job in orphaned_jobs(jobs, starts)] == [dead]
