"""A cron orphaned by a killed supervisord does not keep the supervised one from starting.

SIGKILL on supervisord leaves its children running; an orphaned `cron -f` then holds cron's pid-file
lock and a new `cron -f` exits at once ("can't lock /var/run/crond.pid"), so `idf-cron` went FATAL
and `idf local status` reported the stack unhealthy (seen in a CI rehearsal). The program now ends
the cron that pid file names before it starts its own (ansible/roles/supervisor/templates/idf-cron.conf.j2).
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator

import psutil
import pytest

from idf_clients.supervisor import SupervisorClient

pytestmark = [pytest.mark.local_stack]

PROGRAM = "idf-cron"
SETTLE_S = 30.0


@pytest.fixture
def orphan_cron() -> Iterator[subprocess.Popen[bytes]]:
    """`idf-cron` stopped, and a cron of nobody's supervision holding the pid-file lock."""
    client = SupervisorClient()
    client.stop(PROGRAM)
    orphan = subprocess.Popen(
        ["/usr/sbin/cron", "-f"], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(1.0)
    assert orphan.poll() is None, "the stand-in orphan cron did not start"
    try:
        yield orphan
    finally:
        with contextlib.suppress(ProcessLookupError):
            orphan.kill()
        orphan.wait(timeout=10)
        if client.process(PROGRAM).state != "RUNNING":
            client.restart(PROGRAM)


def test_idf_cron_starts_although_an_orphaned_cron_holds_the_lock(
    orphan_cron: subprocess.Popen[bytes],
) -> None:
    client = SupervisorClient()
    client.start(PROGRAM, wait=False)
    deadline = time.monotonic() + SETTLE_S
    info = client.process(PROGRAM)
    while time.monotonic() < deadline:
        info = client.process(PROGRAM)
        # RUNNING for longer than startsecs (1 s): a cron that cannot lock exits within it.
        if info.running and info.uptime_s >= 3:
            break
        time.sleep(0.5)
    assert info.running and info.uptime_s >= 3, f"{PROGRAM} is {info.state}: {info.spawn_error}"
    assert orphan_cron.wait(timeout=10) is not None, "the orphaned cron still runs beside ours"
    crons = [p for p in psutil.process_iter(["name"]) if p.info["name"] == "cron"]
    assert len(crons) == 1, f"expected one cron, found {[p.pid for p in crons]}"
