"""Issue 16 finding 12: what users are given to reach the Butler (the reader-only LSST_DB_AUTH
file the gates and the README point at) cannot open the world-readable butler.yaml writeable."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from lsst.daf.butler import Butler

from idf_core.contract import load_outputs
from idf_ops.gates.checks._common import db_auth_path

pytestmark = pytest.mark.local_stack


@pytest.fixture
def users_auth(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("LSST_DB_AUTH", raising=False)
    monkeypatch.delenv("LSST_DB_AUTH_CREDENTIALS", raising=False)
    path = db_auth_path(load_outputs("local"))
    assert path is not None, "the local stack publishes no Butler credentials for users"
    monkeypatch.setenv("LSST_DB_AUTH", str(path))
    return path


def test_users_auth_file_names_the_reader_only(users_auth: Path) -> None:
    entries = yaml.safe_load(users_auth.read_text())
    roles = {entry["username"] for entry in entries}
    assert roles == {"butler_reader"}, f"{users_auth} holds credentials of {sorted(roles)}"


def test_world_readable_butler_yaml_does_not_open_writeable(users_auth: Path) -> None:
    repo = Path(load_outputs("local").butler.repo_uri)
    assert (repo / "butler.yaml").stat().st_mode & 0o004, "precondition: butler.yaml is world-readable"
    # The writer's URL finds no password in the users' file: the connection is never made.
    with pytest.raises(Exception, match=r"no password supplied"):
        Butler.from_config(str(repo), writeable=True)


def test_readonly_config_still_reads_with_it(users_auth: Path) -> None:
    butler = Butler.from_config(load_outputs("local").butler.readonly_config, writeable=False)
    try:
        assert butler.find_dataset("packages", collections="2.2i/runs/DP0.1") is not None
    finally:
        butler.close()
