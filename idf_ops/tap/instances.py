"""Repairs of the local TAP service on demand (``idf tap heal``, the `tap` role, tests).

supervisord runs every DaCHS instance (program ``idf-tap-<port>``) and its health listener restarts
one that keeps failing ADQL (DaCHS 2.7 does not recover its database connection pool when
PostgreSQL restarts); :func:`restart_unhealthy` does the same at once, through supervisord, e.g. at
the end of a test that stopped PostgreSQL.

Async jobs of a DaCHS process that died (restart, PostgreSQL outage) stay ``EXECUTING`` in
``tap_schema.tapjobs`` forever and count against ``maxTAPRunning``: new jobs then stay ``QUEUED``.
:func:`abort_orphaned_jobs` aborts those (``dachs admin tapabort``) so the queue moves again. DaCHS
records a *sync* query's job with ``pid = -1`` (it runs inside the server process, not in a worker):
such a job is orphaned only when every instance was (re)started after the job began, i.e. no
process that could be running it is left (issue 16, finding 6). An async job is orphaned when its
worker pid is gone.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from idf_clients.supervisor import SupervisorClient
from idf_core.errors import OperationFailed
from idf_ops.tap.health import INSTANCE_CONFIG_DIR, adql_ok

__all__ = [
    "ExecutingJob",
    "abort_orphaned_jobs",
    "instance_start_times",
    "orphaned_jobs",
    "restart_unhealthy",
]

# A job younger than this may still be starting its worker process: never called orphaned.
_ORPHAN_AGE_S = 60


def _program(rc: Path) -> str:
    return f"idf-tap-{rc.stem.removeprefix('instance-')}"


def restart_unhealthy(
    config_dir: Path = INSTANCE_CONFIG_DIR, timeout_s: float = 60.0, client: SupervisorClient | None = None
) -> list[str]:
    """Restart (supervisorctl) every instance whose ADQL query fails; return the restarted programs."""
    supervisor = client or SupervisorClient()
    restarted = []
    for rc in sorted(config_dir.glob("instance-*.rc")):
        port = rc.stem.removeprefix("instance-")
        url = f"http://127.0.0.1:{port}/tap"
        if adql_ok(url)[0]:
            continue
        supervisor.restart(_program(rc))
        deadline = time.monotonic() + timeout_s
        while not adql_ok(url)[0]:
            if time.monotonic() > deadline:
                raise OperationFailed(
                    f"tap: DaCHS instance {url} still fails ADQL after a restart; check PostgreSQL "
                    f"(`supervisorctl status idf-postgresql`) and /var/log/idf/tap-{port}.log."
                )
            time.sleep(1)
        restarted.append(_program(rc))
    return restarted


@dataclass(frozen=True)
class ExecutingJob:
    """A row of tap_schema.tapjobs in phase EXECUTING."""

    job_id: str
    pid: int  # the async worker's pid; -1 for a sync query (run inside the server process)
    started_at: float | None  # epoch seconds
    age_s: float | None


def instance_start_times(
    config_dir: Path = INSTANCE_CONFIG_DIR, client: SupervisorClient | None = None
) -> list[float] | None:
    """Epoch start of every configured instance's current process (None: unknown, e.g. one is down)."""
    supervisor = client or SupervisorClient()
    starts = []
    try:
        for rc in sorted(config_dir.glob("instance-*.rc")):
            info = supervisor.process(_program(rc))
            if not info.running:
                return None
            starts.append(float(info.started_at))
    except OperationFailed:
        return None
    return starts or None


def orphaned_jobs(jobs: list[ExecutingJob], instance_starts: list[float] | None) -> list[ExecutingJob]:
    """The executing jobs no live process can be running (see the module docstring)."""
    orphaned = []
    for job in jobs:
        if job.age_s is None or job.age_s < _ORPHAN_AGE_S:
            continue
        if job.pid > 0:
            if not Path(f"/proc/{job.pid}").exists():
                orphaned.append(job)
            continue
        # A sync query: only when every instance started after the job did (none can hold it).
        if instance_starts and job.started_at is not None and min(instance_starts) > job.started_at:
            orphaned.append(job)
    return orphaned


def _executing_jobs() -> list[ExecutingJob]:
    """The jobs TAP_SCHEMA says are executing."""
    sql = (
        "SELECT jobid, coalesce(pid, -1), extract(epoch FROM starttime), "
        "extract(epoch FROM now() - starttime) FROM tap_schema.tapjobs WHERE phase = 'EXECUTING'"
    )
    result = subprocess.run(
        ["runuser", "-u", "postgres", "--", "psql", "-d", "gavo", "-AtF", "|", "-c", sql],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if result.returncode != 0:
        raise OperationFailed(
            f"tap: cannot read tap_schema.tapjobs ({result.stderr.strip()}); is PostgreSQL up?"
        )
    jobs = []
    for line in result.stdout.splitlines():
        job_id, pid, started, age = line.split("|")
        jobs.append(
            ExecutingJob(job_id, int(pid), float(started) if started else None, float(age) if age else None)
        )
    return jobs


def abort_orphaned_jobs(
    read_jobs: Callable[[], list[ExecutingJob]] = _executing_jobs,
    read_starts: Callable[[], list[float] | None] = instance_start_times,
) -> list[str]:
    """Abort the executing jobs no live process can be running; return their ids."""
    aborted = []
    for job in orphaned_jobs(read_jobs(), read_starts()):
        subprocess.run(
            [
                "dachs",
                "admin",
                "tapabort",
                job.job_id,
                "Its DaCHS worker process died (server restart); run it again.",
            ],
            capture_output=True,
            check=False,
            timeout=120,
        )
        aborted.append(job.job_id)
    return aborted
