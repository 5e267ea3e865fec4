"""The notebook hub on the running local stack: loopback ports, token API, a lab that runs Python.

Needs `idf local up` (marker ``local_stack``). JupyterHub is the STAND-IN for Nublado here.
"""

from __future__ import annotations

import pytest
import requests

from idf_ops.local.settings import HUB_URL
from idf_ops.notebook.health import check_notebook
from idf_ops.notebook.hub import HubClient, read_admin_token

pytestmark = pytest.mark.local_stack

HUB_PORTS = {"proxy (public)": 8000, "hub (internal)": 8081, "proxy API": 8001}
TEST_USER = "idf-test-user"


@pytest.mark.parametrize("port", HUB_PORTS.values(), ids=HUB_PORTS.keys())
def test_listens_on_loopback_only(host, port: int) -> None:  # type: ignore[no-untyped-def]
    assert host.socket(f"tcp://127.0.0.1:{port}").is_listening
    assert not host.socket(f"tcp://0.0.0.0:{port}").is_listening


def test_hub_and_proxy_processes(host) -> None:  # type: ignore[no-untyped-def]
    # Neither runs as root (issue 12 item 5): both are the unprivileged account idfhub.
    hubs = [p for p in host.process.filter(user="idfhub") if "jupyterhub_config.py" in p.args]
    proxies = [p for p in host.process.filter(comm="node") if "configurable-http-proxy" in p.args]
    assert len(hubs) == 1 and len(proxies) == 1
    assert {p.user for p in proxies} == {"idfhub"}
    assert not [p for p in host.process.filter(user="root") if "jupyterhub_config.py" in p.args]


def test_api_refuses_requests_without_a_token() -> None:
    assert requests.get(f"{HUB_URL}/hub/api/users", timeout=10).status_code == 403


def test_api_refuses_a_wrong_token() -> None:
    headers = {"Authorization": "token not-the-token"}
    assert requests.get(f"{HUB_URL}/hub/api/users", headers=headers, timeout=10).status_code == 403


def test_health_check_uses_the_admin_token() -> None:
    health = check_notebook()
    assert health.healthy and "STAND-IN" in health.detail


def test_a_user_spawns_a_lab_through_the_api_and_runs_python() -> None:
    client = HubClient(HUB_URL, read_admin_token())
    client.ensure_user(TEST_USER)
    try:
        server_path = client.start_server(TEST_USER, timeout_s=120)
        assert server_path == f"/user/{TEST_USER}/"
        lab = requests.get(
            f"{HUB_URL}{server_path}lab", headers={"Authorization": f"token {read_admin_token()}"}, timeout=30
        )
        assert lab.status_code == 200 and "JupyterLab" in lab.text
        output = client.execute(server_path, "import numpy\nprint(numpy.arange(7).sum() * 2)")
        assert output.strip() == "42"
    finally:
        client.stop_server(TEST_USER)
        client.delete_user(TEST_USER)
