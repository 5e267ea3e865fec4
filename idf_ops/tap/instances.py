"""Restart DaCHS instances that stopped answering ADQL (after a PostgreSQL restart, for example).

DaCHS 2.7 does not recover its database connection pool when PostgreSQL restarts: every query then
fails with ``connection pool is closed`` until the server process restarts. The `tap` role heals
this on every run; this module does the same on demand (``idf tap heal``), e.g. at the end of a test
that stopped PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from idf_ops.errors import OperationFailed
from idf_ops.tap.health import INSTANCE_CONFIG_DIR, adql_ok

__all__ = ["restart_unhealthy"]


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
