"""The hub configuration template renders and loads as a JupyterHub config, locally and for GitHub OAuth;
the account helper refuses bad names and honours its cap.

Rendering goes through Ansible's own template engine (the notebook role's template and defaults);
loading goes through traitlets, and the GitHub authenticator is instantiated from it. No GitHub contact.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from oauthenticator.github import GitHubOAuthenticator
from traitlets.config.loader import PyFileConfigLoader

from idf_ops.local.settings import VENV_BIN

PLAYBOOK = Path(__file__).with_name("notebook_render.yml")
SECRET_ENV = "GITHUB_CLIENT_SECRET"  # noqa: S105 - the variable's name, not a secret


def render(tmp_path: Path, **values: object) -> Path:
    secrets = tmp_path / "secrets"
    secrets.mkdir(exist_ok=True)
    for name in ("jupyterhub_api_token", "jupyterhub_proxy_token", "jupyterhub_cookie_secret"):
        (secrets / name).write_text("0123456789abcdef" * 2)
    target = tmp_path / str(values.pop("render_name", "jupyterhub_config.py"))
    extra = {
        "render_dest": str(target),
        "notebook_secrets_dir": str(secrets),
        "notebook_hub_secrets_dir": str(secrets),
        **values,
    }
    result = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), str(PLAYBOOK), "-e", json.dumps(extra)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}", "ANSIBLE_LOCALHOST_WARNING": "False"},
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return target


def load(path: Path):  # type: ignore[no-untyped-def]
    return PyFileConfigLoader(path.name, str(path.parent)).load_config()


GITHUB = {
    "notebook_authenticator": "github",
    "notebook_github_client_id": "Iv1.idfexample",
    "notebook_github_allowed_organizations": ["lsst-sqre", "rubin-dp0"],
    "notebook_public_url": "https://data.lsst.cloud",
}


@pytest.fixture(scope="module")
def github_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("github"), **GITHUB)


def test_github_config_builds_the_oauthenticator(
    github_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, "not-a-real-secret")
    config = load(github_config)
    assert config.JupyterHub.authenticator_class == "github"
    authenticator = GitHubOAuthenticator(config=config)
    assert authenticator.client_id == "Iv1.idfexample"
    assert authenticator.client_secret == "not-a-real-secret"  # noqa: S105 - a dummy set above
    assert authenticator.oauth_callback_url == "https://data.lsst.cloud/hub/oauth_callback"
    assert authenticator.allowed_organizations == {"lsst-sqre", "rubin-dp0"}


def test_github_config_holds_no_secret(github_config: Path) -> None:
    text = github_config.read_text()
    assert "0123456789abcdef" not in text and "not-a-real-secret" not in text


def test_github_config_refuses_to_start_without_the_secret(
    github_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    with pytest.raises(SystemExit, match=SECRET_ENV):
        load(github_config)


def test_local_config_uses_pam_sudospawner_and_loopback(tmp_path: Path) -> None:
    path = render(tmp_path)
    config = load(path)
    assert config.JupyterHub.authenticator_class == "pam"
    assert config.PAMAuthenticator.service == "idf-jupyterhub"
    assert config.PAMAuthenticator.allowed_groups == {"idfnb"}
    assert config.PAMAuthenticator.add_user_cmd == ["sudo", "-n", "/usr/local/sbin/idf-notebook-account"]
    assert "SharedPasswordAuthenticator" not in config
    assert config.JupyterHub.spawner_class == "sudospawner.SudoSpawner"
    assert config.SudoSpawner.sudospawner_path == "/opt/idf-notebook/venv/bin/sudospawner"
    assert config.Spawner.cmd == ["/opt/idf-notebook/venv/bin/jupyterhub-singleuser"]
    assert "args" not in config.Spawner and "allow-root" not in path.read_text()
    assert config.JupyterHub.bind_url == "http://127.0.0.1:8000"
    assert config.JupyterHub.hub_bind_url == "http://127.0.0.1:8081"


def test_the_hub_program_runs_as_its_own_account(tmp_path: Path) -> None:
    for program in ("supervisor-notebook.conf.j2", "supervisor-notebook-proxy.conf.j2"):
        text = render(tmp_path, render_template=program, render_name=program).read_text()
        assert "\nuser=idfhub\n" in text, program


def test_local_config_without_generated_secrets_exits_with_a_message(tmp_path: Path) -> None:
    path = render(tmp_path)
    (tmp_path / "secrets" / "jupyterhub_api_token").unlink()
    with pytest.raises(SystemExit, match="idf local up"):
        load(path)


@pytest.fixture(scope="module")
def account_helper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The account helper with a cap of 1 over group root (it has one member: root)."""
    return render(
        tmp_path_factory.mktemp("helper"),
        render_template="idf-notebook-account.py.j2",
        render_name="idf-notebook-account",
        notebook_max_accounts=1,
        notebook_users_group="root",
    )


def run_helper(helper: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/usr/bin/python3", str(helper), *args], capture_output=True, text=True, timeout=30, check=False
    )


@pytest.mark.parametrize(
    "name", ["root", "../x", "a" * 33, "Upper", "x y", "-x", "1abc", "postgres", "", "a\n"]
)
def test_the_account_helper_refuses_bad_names(account_helper: Path, name: str) -> None:
    result = run_helper(account_helper, "--check", name)
    assert result.returncode != 0
    assert result.stderr.startswith("idf-notebook-account: refused") and "Traceback" not in result.stderr


def test_the_account_helper_refuses_an_account_past_the_cap(account_helper: Path) -> None:
    result = run_helper(account_helper, "--check", "idf-new-user")
    assert result.returncode != 0 and "the cap is 1" in result.stderr


def test_the_account_helper_accepts_a_good_name_under_the_cap(tmp_path: Path) -> None:
    helper = render(
        tmp_path,
        render_template="idf-notebook-account.py.j2",
        render_name="idf-notebook-account",
        notebook_users_group="root",
    )
    assert run_helper(helper, "--check", "loadtest-0-12").returncode == 0
