"""idf_clients.postgres.connect_within: the reason and the time limit of a failed connection (offline)."""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from idf_clients.postgres import PostgresUnavailable, connect_within, db_auth_params


@pytest.fixture
def closed_port() -> int:
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        yield int(server.getsockname()[1])
    finally:
        server.close()


def test_a_refused_connection_names_the_place_and_libpq_reason(closed_port: int) -> None:
    where = f"127.0.0.1:{closed_port}"
    with (
        pytest.raises(PostgresUnavailable) as caught,
        connect_within(host="127.0.0.1", port=closed_port, dbname="x", user="x", timeout_s=2, where=where),
    ):
        pass
    message = str(caught.value)
    assert message.startswith(f"PostgreSQL {where}: connection to server at"), message
    assert "Connection refused" in message
    assert "\n" not in message
    assert caught.value.detail == message.removeprefix(f"PostgreSQL {where}: ")


def test_a_silent_server_fails_within_the_timeout(silent_port: int) -> None:
    started = time.monotonic()
    with (
        pytest.raises(PostgresUnavailable, match="timeout expired"),
        connect_within(host="127.0.0.1", port=silent_port, dbname="x", user="x", timeout_s=1, where="silent"),
    ):
        pass
    assert time.monotonic() - started < 5


def test_db_auth_params_take_the_password_from_the_db_auth_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LSST_DB_AUTH", raising=False)
    monkeypatch.delenv("LSST_DB_AUTH_CREDENTIALS", raising=False)
    generated = secrets.token_hex(8)  # generated, so no literal password sits in the repository
    auth = tmp_path / "db-auth.yaml"
    auth.write_text(
        yaml.safe_dump([{"url": "postgresql://reader@db.example:6543/registry", "password": generated}])
    )
    auth.chmod(0o600)
    params = db_auth_params("postgresql+psycopg2://reader@db.example:6543/registry", auth)
    assert params == {
        "host": "db.example", "port": 6543, "dbname": "registry", "user": "reader", "password": generated,
    }  # fmt: skip
