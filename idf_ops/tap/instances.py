"""Restart DaCHS instances that stopped answering ADQL (after a PostgreSQL restart, for example).

DaCHS 2.7 does not recover its database connection pool when PostgreSQL restarts: every query then
fails with ``connection pool is closed`` until the server process restarts. The `tap` role heals
this on every run; this module does the same on demand (``idf tap heal``), e.g. at the end of a test
that stopped PostgreSQL.

Async jobs of a DaCHS process that died (restart, PostgreSQL outage) stay ``EXECUTING`` in
``tap_schema.tapjobs`` forever and count against ``maxTAPRunning``: new jobs then stay ``QUEUED``.
:func:`abort_orphaned_jobs` aborts those (``dachs admin tapabort``) so the queue moves again.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from idf_core.errors import OperationFailed
from idf_ops.tap.health import INSTANCE_CONFIG_DIR, adql_ok

__all__ = ["abort_orphaned_jobs", "restart_unhealthy"]

# A job younger than this may still be starting its worker process: never called orphaned.
_ORPHAN_AGE_S = 60


def restart_unhealthy(config_dir: Path = INSTANCE_CONFIG_DIR, timeout_s: float = 60.0) -> list[str]:
    """Restart every instance whose ADQL query fails; return the restarted instances' config files."""
    restarted = []
    for rc in sorted(config_dir.glob("instance-*.rc")):
        port = rc.stem.removeprefix("instance-")
        url = f"http://127.0.0.1:{port}/tap"
        if adql_ok(url)[0]:
            continue
        subprocess.run(
            ["dachs", "serve", "restart"],
            env={**os.environ, "GAVOSETTINGS": str(rc)},
            capture_output=True,
            check=False,
            timeout=120,
        )
        deadline = time.monotonic() + timeout_s
        while not adql_ok(url)[0]:
            if time.monotonic() > deadline:
                raise OperationFailed(
                    f"tap: DaCHS instance {url} still fails ADQL after a restart; check PostgreSQL "
                    f"(`pg_lsclusters`) and the logs in /var/gavo/logs/instance-{port}/."
                )
            time.sleep(1)
        restarted.append(str(rc))
    return restarted


def _executing_jobs() -> list[tuple[str, int, float | None]]:
    """(job id, worker pid, age in seconds or None) of the jobs TAP_SCHEMA says are executing."""
    sql = (
        "SELECT jobid, coalesce(pid, -1), extract(epoch FROM now() - starttime) "
        "FROM tap_schema.tapjobs WHERE phase = 'EXECUTING'"
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
        job_id, pid, age = line.split("|")
        jobs.append((job_id, int(pid), float(age) if age else None))
    return jobs


def abort_orphaned_jobs() -> list[str]:
    """Abort executing jobs whose worker process is gone; return their ids."""
    aborted = []
    for job_id, pid, age_s in _executing_jobs():
        alive = pid > 0 and Path(f"/proc/{pid}").exists()
        if alive or (age_s is not None and age_s < _ORPHAN_AGE_S):
            continue
        subprocess.run(
            [
                "dachs",
                "admin",
                "tapabort",
                job_id,
                "Its DaCHS worker process died (server restart); run it again.",
            ],
            capture_output=True,
            check=False,
            timeout=120,
        )
        aborted.append(job_id)
    return aborted
