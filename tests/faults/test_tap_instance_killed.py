"""A DaCHS instance killed with SIGKILL comes back with no manual step: supervisord (program
``idf-tap-<port>``, autorestart) starts it again. The balancer keeps answering meanwhile through the
other instance(s). Times go to
``var/reports/faults/tap_instance_killed.json``."""

from __future__ import annotations

import json
import signal
import time

import psutil
import pytest

from idf_core.paths import state_dir
from idf_ops.tap.health import adql_ok, instance_urls

pytestmark = pytest.mark.local_stack

# supervisord restarts at once; a DaCHS start takes 5-20 s on 2 busy cores.
RECOVERY_BUDGET_S = 90.0


def _instance_server(port: int) -> psutil.Process:
    for process in psutil.process_iter(["username", "cmdline"]):
        if process.info["username"] != "gavo" or "serve" not in " ".join(process.info["cmdline"] or []):
            continue
        with_port = [c for c in process.net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN]
        if any(c.laddr.port == port for c in with_port):
            return process
    raise AssertionError(f"no DaCHS server listens on {port}")


def test_supervisord_restarts_a_killed_instance(tap_url: str) -> None:
    urls = instance_urls()
    assert len(urls) >= 1 and all(adql_ok(url)[0] for url in urls), "TAP is not healthy before the test"
    victim_url = urls[0]
    port = int(victim_url.split(":")[2].split("/")[0])
    _instance_server(port).send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    time.sleep(1.0)
    assert not adql_ok(victim_url)[0], "the killed instance still answered"

    balancer_ok = []
    while not adql_ok(victim_url)[0]:
        assert time.monotonic() - killed_at < RECOVERY_BUDGET_S, (
            f"{victim_url} still down {RECOVERY_BUDGET_S:.0f} s after SIGKILL: does supervisord run it "
            f"(`supervisorctl status idf-tap-{port}`, /var/log/idf/tap-{port}.log)?"
        )
        if len(urls) > 1:
            balancer_ok.append(adql_ok(f"{tap_url}")[0])
        time.sleep(2.0)
    recovered_s = time.monotonic() - killed_at
    report = {
        "scenario": f"DaCHS instance on port {port} killed with SIGKILL",
        "instances": len(urls),
        "recovered_s": round(recovered_s, 1),
        "balancer_ok_while_down": f"{sum(balancer_ok)}/{len(balancer_ok)}",
    }
    report_file = state_dir("reports", "faults") / "tap_instance_killed.json"
    report_file.write_text(json.dumps(report, indent=2) + "\n")
    assert all(balancer_ok), f"the balancer failed requests while one instance was down: {report}"
