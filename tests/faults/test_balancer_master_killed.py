"""The TAP balancer's nginx master killed with SIGKILL, its workers left running: the tap role
must not take the workers' open port for a running balancer. It stops the orphaned workers,
starts a new master, and every nginx process again belongs to a live master."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psutil
import pytest

from idf_ops.local.settings import ANSIBLE_DIR, VENV_BIN

pytestmark = pytest.mark.local_stack

PID_FILE = Path("/run/idf-nginx-tap.pid")
QUERY = "SELECT TOP 1 ra FROM dp01_dc2_catalogs.object"


def _alive(process: psutil.Process) -> bool:
    """Running and not a zombie (this container's PID 1 reaps orphans late)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _nginx() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name", "username", "ppid"]) if p.info["name"] == "nginx"]


def test_tap_role_replaces_orphaned_balancer_workers(tap_url: str) -> None:
    master = psutil.Process(int(PID_FILE.read_text().strip()))
    workers = master.children()
    assert workers, "the balancer has no workers to orphan"
    master.send_signal(signal.SIGKILL)
    master.wait(timeout=30)
    time.sleep(0.5)
    assert all(_alive(w) for w in workers), "the workers did not outlive their master"

    result = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "playbooks/tap.yml"],
        cwd=ANSIBLE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]

    new_master = psutil.Process(int(PID_FILE.read_text().strip()))
    assert new_master.name() == "nginx" and new_master.username() == "root"
    assert not any(_alive(w) for w in workers), "orphaned workers still run"
    orphans = [
        p.pid for p in _nginx() if _alive(p) and p.pid != new_master.pid and p.info["ppid"] != new_master.pid
    ]
    assert orphans == [], f"nginx processes without our master: {orphans}"
    query = urllib.parse.urlencode({"LANG": "ADQL", "REQUEST": "doQuery", "QUERY": QUERY})
    with urllib.request.urlopen(f"{tap_url}/sync?{query}", timeout=60) as response:  # noqa: S310 (loopback)
        assert 'value="OK"' in response.read().decode()
