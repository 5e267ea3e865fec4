"""Notebook users are unix accounts of their own: servers run as them, logins are theirs and throttled.

Needs `idf local up` (marker ``local_stack``); runs as root (reads the root-only password files,
resets pam_faillock tallies and deletes the accounts it creates). Issue 12 item 5, finding 16.2.
"""

from __future__ import annotations

import grp
import pwd
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from idf_ops.local.settings import HUB_URL
from idf_ops.notebook.hub import HubClient, read_admin_token

pytestmark = pytest.mark.local_stack

HELPER = "/usr/local/sbin/idf-notebook-account"
PASSWORDS = Path("/var/lib/idf/secrets/notebook-users")
FAILLOCK_DIR = "/var/lib/idf/notebook/hub/faillock"
SPAWN_USER = "idf-spawn-test"
LOGIN_USER = "idf-login-test"


def _delete_account(name: str) -> None:
    subprocess.run(["userdel", "--remove", name], capture_output=True, check=False)
    (PASSWORDS / name).unlink(missing_ok=True)
    subprocess.run(["faillock", "--dir", FAILLOCK_DIR, "--user", name, "--reset"], check=False)


@pytest.fixture
def client() -> HubClient:
    return HubClient(HUB_URL, read_admin_token())


@pytest.fixture
def login_user(client: HubClient) -> Iterator[str]:
    _delete_account(LOGIN_USER)
    subprocess.run([HELPER, LOGIN_USER], capture_output=True, text=True, check=True)
    yield LOGIN_USER
    client.delete_user(LOGIN_USER)
    _delete_account(LOGIN_USER)


def _login(name: str, password: str) -> int:
    """POST the hub's login form (with its _xsrf cookie and field); the status without redirects."""
    session = requests.Session()
    form = session.get(f"{HUB_URL}/hub/login", timeout=30)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text)
    assert xsrf, "the login page has no _xsrf field"
    answer = session.post(
        f"{HUB_URL}/hub/login",
        data={"username": name, "password": password, "_xsrf": xsrf.group(1)},
        allow_redirects=False,
        timeout=60,
    )
    return answer.status_code


def test_a_spawned_server_runs_as_the_users_own_account(client: HubClient) -> None:
    client.ensure_user(SPAWN_USER)
    try:
        server_path = client.start_server(SPAWN_USER, timeout_s=180)
        account = pwd.getpwnam(SPAWN_USER)
        hub = pwd.getpwnam("idfhub")
        assert account.pw_uid not in {0, hub.pw_uid}
        assert account.pw_gid == grp.getgrnam("idfnb").gr_gid
        servers = subprocess.run(
            ["ps", "-ww", "-o", "uid=,gid=,args=", "-u", SPAWN_USER],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        assert "jupyterhub-singleuser" in servers, servers
        uid, gid = servers.split()[:2]
        assert (int(uid), int(gid)) == (account.pw_uid, account.pw_gid)
        output = client.execute(server_path, "import os\nprint(os.getuid())")
        assert output.strip() == str(account.pw_uid)
    finally:
        client.stop_server(SPAWN_USER)
        client.delete_user(SPAWN_USER)
        _delete_account(SPAWN_USER)


def test_the_generated_password_logs_in(login_user: str) -> None:
    password = (PASSWORDS / login_user).read_text().strip()
    assert _login(login_user, password) == 302


def test_three_failed_logins_lock_out_the_right_password(login_user: str) -> None:
    password = (PASSWORDS / login_user).read_text().strip()
    for _ in range(3):
        assert _login(login_user, "not-the-password") == 403
    assert _login(login_user, password) == 403


def test_root_cannot_log_in_through_the_hub() -> None:
    assert _login("root", "whatever") == 403


@pytest.mark.parametrize("name", ["root", "../x", "a" * 33, "Upper", "postgres", "idfhub", "-x", ""])
def test_the_account_helper_refuses_bad_names(name: str) -> None:
    result = subprocess.run([HELPER, "--check", name], capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert result.stderr.startswith("idf-notebook-account: ") and "Traceback" not in result.stderr


def test_the_hub_may_run_only_the_helper_and_the_mediator_through_sudo() -> None:
    listing = subprocess.run(
        ["sudo", "-l", "-U", "idfhub"], capture_output=True, text=True, check=True
    ).stdout
    commands = [line.strip() for line in listing.splitlines() if "NOPASSWD" in line]
    assert commands == [
        "(%idfnb) NOPASSWD: /opt/idf-notebook/venv/bin/sudospawner",
        "(root) NOPASSWD: /usr/local/sbin/idf-notebook-account",
    ]
