"""Interrupt `idf local up` midway (Ctrl-C or a CI cancel), rerun it, and the stack converges.

The interrupted run is started in its own session and, once the site playbook has been working
for a few seconds, the whole process group gets SIGINT (what a terminal's Ctrl-C sends) or SIGTERM
(what a CI cancel sends). The rerun must then finish with exit code 0 and zero failed tasks, and
`idf local status` must report every service healthy. The times are written to
``var/reports/faults/interrupted_playbook_<signal>.json``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time

import pytest

from idf_ops.paths import REPO_ROOT, state_dir

pytestmark = [pytest.mark.local_stack]

IDF = str(REPO_ROOT / ".venv" / "bin" / "idf")
INTERRUPT_AFTER_S = 8.0
RERUN_TIMEOUT_S = 1500
FAILED_COUNT = re.compile(r"(\d+) failed in")


def _interrupt_run(sig: signal.Signals) -> tuple[float, int, str]:
    """Start `idf local up`, signal its process group after it got going; return (at, rc, output)."""
    process = subprocess.Popen([IDF, "local", "up"], cwd=REPO_ROOT, start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(INTERRUPT_AFTER_S)
        assert process.poll() is None, "idf local up finished before it could be interrupted"
        os.killpg(process.pid, sig)
        interrupted_at = time.monotonic()
        output, _ = process.communicate(timeout=120)
        return interrupted_at, process.returncode, output
    finally:
        if process.poll() is None:  # never leave a half-dead playbook behind
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_site_playbook_converges(sig: signal.Signals) -> None:
    interrupted_at, interrupted_rc, interrupted_output = _interrupt_run(sig)
    assert interrupted_rc != 0, f"the interrupted run claimed success:\n{interrupted_output[-2000:]}"

    rerun = subprocess.run([IDF, "local", "up"], cwd=REPO_ROOT, capture_output=True, text=True,
                           timeout=RERUN_TIMEOUT_S, check=False)
    converged_at = time.monotonic()
    output = rerun.stdout + rerun.stderr
    assert rerun.returncode == 0, f"rerun after {sig.name} failed (rc {rerun.returncode}):\n{output[-3000:]}"
    failed = [int(n) for n in FAILED_COUNT.findall(output)]
    assert failed and sum(failed) == 0, f"rerun reported failed tasks {failed}:\n{output[-3000:]}"

    status = subprocess.run([IDF, "local", "status", "--json"], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=120, check=False)
    services = json.loads(status.stdout)["services"]
    unhealthy = [s for s in services if not s["healthy"]]
    assert status.returncode == 0 and not unhealthy, f"unhealthy after rerun: {unhealthy}"

    report = {
        "scenario": f"idf local up interrupted with {sig.name} after {INTERRUPT_AFTER_S:.0f} s, then rerun",
        "interrupted_rc": interrupted_rc,
        "rerun_rc": rerun.returncode,
        "rerun_failed_tasks": sum(failed),
        "recovery_s_from_interrupt_to_converged": round(converged_at - interrupted_at, 1),
        "services_healthy": [s["service"] for s in services],
    }
    (state_dir("reports", "faults") / f"interrupted_playbook_{sig.name}.json").write_text(
        json.dumps(report, indent=2) + "\n")
