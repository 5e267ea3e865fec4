"""The Butler client: a db-auth file's credentials reach that one Butler, the environment is never
written.

The batch service once set ``LSST_DB_AUTH`` for good; every later Butler opened in the same process
then looked its password up in the processing reader's file and got none. Its successor set the
variable only while a Butler was built, which raced in the gates' concurrent checks (one check's
restore removed it while another check's writer was built: "fe_sendauth: no password supplied").
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import lsst.daf.butler
import pytest
import yaml

from idf_clients.butler import open_butler
from idf_ops.batch import service

DB = "postgresql+psycopg2://{user}@127.0.0.1:5432/butler"
# Generated per run: the secret scan refuses literal passwords, even in tests.
READER, WRITER, BATCH, OTHER = (secrets.token_hex(8) for _ in range(4))


def _repo(tmp_path: Path, user: str, password: str, name: str = "repo") -> tuple[Path, Path]:
    root = tmp_path / name
    root.mkdir()
    config = root / "butler.yaml"
    config.write_text(
        yaml.safe_dump({"datastore": {"root": str(root)}, "registry": {"db": DB.format(user=user)}})
    )
    auth = root / "db-auth.yaml"
    auth.write_text(
        yaml.safe_dump([{"url": f"postgresql://{user}@127.0.0.1:5432/butler", "password": password}])
    )
    auth.chmod(0o600)
    return config, auth


def _recording(seen: list[dict[str, Any]], pause: threading.Barrier | None = None) -> Any:
    def from_config(config: Any, writeable: bool = False) -> str:
        seen.append(
            {
                "password": config["registry", "password"] if not isinstance(config, str) else None,
                "env": os.environ.get("LSST_DB_AUTH"),
            }
        )
        if pause is not None:
            pause.wait(timeout=10)
        return "butler"

    return from_config


def test_the_files_password_reaches_the_registry_config_and_not_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, auth = _repo(tmp_path, "idf_reader", READER)
    monkeypatch.delenv("LSST_DB_AUTH", raising=False)
    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(lsst.daf.butler.Butler, "from_config", _recording(seen))
    assert open_butler(config, auth) == "butler"
    assert seen == [{"password": READER, "env": None}]
    assert "LSST_DB_AUTH" not in os.environ


def test_a_callers_db_auth_variables_do_not_replace_the_chosen_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, auth = _repo(tmp_path, "idf_reader", READER)
    other = [{"url": "postgresql://idf_reader@127.0.0.1:5432/butler", "password": OTHER}]
    monkeypatch.setenv("LSST_DB_AUTH_CREDENTIALS", json.dumps(other))
    monkeypatch.setenv("LSST_DB_AUTH", "/nowhere/db-auth.yaml")
    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(lsst.daf.butler.Butler, "from_config", _recording(seen))
    open_butler(config, auth)
    assert seen[0]["password"] == READER
    assert os.environ["LSST_DB_AUTH"] == "/nowhere/db-auth.yaml"


def test_concurrent_opens_each_get_their_own_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both Butlers are inside from_config at once (a barrier holds them there)."""
    monkeypatch.delenv("LSST_DB_AUTH", raising=False)
    first = _repo(tmp_path, "idf_reader", READER, "a")
    second = _repo(tmp_path, "idf_writer", WRITER, "b")
    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(lsst.daf.butler.Butler, "from_config", _recording(seen, threading.Barrier(2)))
    threads = [threading.Thread(target=open_butler, args=repo) for repo in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(s["password"] for s in seen) == sorted([READER, WRITER])
    assert all(s["env"] is None for s in seen)


def test_none_leaves_the_lookup_to_daf_butler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LSST_DB_AUTH", "/users/own/db-auth.yaml")
    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(lsst.daf.butler.Butler, "from_config", _recording(seen))
    open_butler("repo/butler.yaml", None)
    assert seen == [{"password": None, "env": "/users/own/db-auth.yaml"}]


def test_the_batch_services_butler_leaves_the_environment_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, auth = _repo(tmp_path, "idf_batch_reader", BATCH)
    (tmp_path / service.READER_DB_AUTH).write_text(auth.read_text())
    (tmp_path / service.READER_DB_AUTH).chmod(0o600)
    monkeypatch.setenv("IDF_SECRETS_DIR", str(tmp_path))
    monkeypatch.setattr(
        service, "BATCH_ENVIRONMENT", SimpleNamespace(readonly_config="/x", host=lambda _path: str(config))
    )
    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(lsst.daf.butler.Butler, "from_config", _recording(seen))
    monkeypatch.delenv("LSST_DB_AUTH", raising=False)
    service.open_readonly_butler()
    assert seen == [{"password": BATCH, "env": None}]
    assert "LSST_DB_AUTH" not in os.environ
