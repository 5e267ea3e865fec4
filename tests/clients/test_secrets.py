"""idf_clients.secrets: the one place secrets are located and parsed; messages never hold a value."""

from __future__ import annotations

from pathlib import Path

import pytest

from idf_clients.qserv import reader_password
from idf_clients.secrets import (
    hub_token_file,
    parse_secret,
    qserv_password_file,
    read_hub_token,
    read_secret,
)
from idf_core.errors import BadInput
from idf_core.facts import HUB_TOKEN_ENV, HUB_TOKEN_SECRET, QSERV_PASSWORD_ENV


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HUB_TOKEN_ENV, raising=False)
    monkeypatch.delenv(QSERV_PASSWORD_ENV, raising=False)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("s3cret\n", "s3cret"),
        ("s3cret salt=abcdef\n", "s3cret"),
        ("  s3cret  \nsecond line\n", "s3cret"),
        ("", ""),
    ],
)
def test_parse_secret_takes_the_first_line_without_the_salt(text: str, value: str) -> None:
    assert parse_secret(text) == value


def test_the_hub_token_is_the_roles_file_in_secrets_dir(tmp_path: Path) -> None:
    (tmp_path / "jupyterhub_proxy_token").write_text("proxy\n")  # never the proxy token
    (tmp_path / HUB_TOKEN_SECRET).write_text("admin-token\n")
    assert hub_token_file(str(tmp_path)) == tmp_path / HUB_TOKEN_SECRET
    assert read_hub_token(str(tmp_path)) == "admin-token"


def test_another_hub_admin_token_name_is_found(tmp_path: Path) -> None:
    (tmp_path / "hub-admin-token").write_text("admin-token\n")
    assert hub_token_file(str(tmp_path)) == tmp_path / "hub-admin-token"


def test_the_environment_names_a_hub_token_file_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = tmp_path / "elsewhere"
    token.write_text("from-env\n")
    monkeypatch.setenv(HUB_TOKEN_ENV, str(token))
    assert read_hub_token(None) == "from-env"


def test_a_missing_env_file_is_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HUB_TOKEN_ENV, str(tmp_path / "nope"))
    with pytest.raises(BadInput, match=f"\\${HUB_TOKEN_ENV} names no existing file"):
        hub_token_file(str(tmp_path))


def test_no_hub_token_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=HUB_TOKEN_ENV):
        read_hub_token(str(tmp_path))


def test_an_unreadable_secret_names_the_file(tmp_path: Path) -> None:
    (tmp_path / HUB_TOKEN_SECRET).mkdir()  # a directory: reading it fails even as root
    with pytest.raises(BadInput, match=f"{HUB_TOKEN_SECRET}: cannot read the hub token"):
        read_secret(tmp_path / HUB_TOKEN_SECRET, "hub token")


def test_messages_never_hold_the_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HUB_TOKEN_ENV, "admin-token-value")  # a value where a path belongs
    with pytest.raises(BadInput) as caught:
        hub_token_file(str(tmp_path))
    assert "admin-token-value" not in str(caught.value)


def test_the_qserv_password_is_parsed_once(tmp_path: Path) -> None:
    (tmp_path / "mariadb_qsmaster.password").write_text("pw salt=xyz\n")
    assert qserv_password_file(str(tmp_path), "qsmaster") == tmp_path / "mariadb_qsmaster.password"
    assert reader_password(str(tmp_path), "qsmaster") == "pw"


def test_no_qserv_password_file_is_an_empty_password(tmp_path: Path) -> None:
    assert qserv_password_file(str(tmp_path), "qsmaster") is None
    assert reader_password(None, "qsmaster") == ""
