"""A service role facing a port another program holds stops before changing anything, naming the
service, the port and how to find the holder (one case per service role)."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator

import pytest

from idf_ops.local.settings import ANSIBLE_DIR, VENV_BIN

pytestmark = pytest.mark.local_stack

# (playbook, extra vars with {port}, the message the role must print)
CASES = {
    "tap": (
        "playbooks/tap.yml",
        ["tap_first_port={port}", "tap_instance_count=1"],
        "tap: port {port} on 127.0.0.1 (DaCHS instance) is taken by",
    ),
    "qserv_local": (
        "playbooks/qserv_local.yml",
        ["qserv_local_port={port}"],
        "qserv_local: port {port} on 127.0.0.1 (MariaDB, the Qserv stand-in) is taken by",
    ),
    "notebook": (
        "playbooks/notebook.yml",
        ["notebook_port={port}"],
        "notebook: port {port} on 127.0.0.1 (JupyterHub) is taken by",
    ),
}


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port held by this test process."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize("service", sorted(CASES))
def test_taken_port_stops_the_role_with_a_clear_message(service: str, taken_port: int) -> None:
    playbook, extra_vars, message = CASES[service]
    command = [str(VENV_BIN / "ansible-playbook"), playbook]
    for extra in extra_vars:
        command += ["-e", extra.format(port=taken_port)]
    result = subprocess.run(
        command,
        cwd=ANSIBLE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"},
    )
    assert result.returncode != 0
    assert message.format(port=taken_port) in result.stdout
    assert f"ss -ltnp 'sport = :{taken_port}'" in result.stdout
