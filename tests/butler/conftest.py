"""Fixtures of the Butler bootstrap suites: a scratch registry database on the local PostgreSQL,
owned by the local writer role, with the writer's credentials in the environment only."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from idf_clients.secrets import read_secret
from idf_core.facts import PG_PASSWORD_SECRET

SECRETS_DIR = Path("/var/lib/idf/secrets")
WRITER, READER = "butler_writer", "butler_reader"


def psql(database: str, sql: str) -> list[list[str]]:
    """One statement as the cluster's superuser (peer authentication: no password involved)."""
    done = subprocess.run(
        ["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-A", "-t", "-F", "\t",
         "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql],
        check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return [line.split("\t") for line in done.stdout.splitlines() if line]


@dataclass(frozen=True)
class ScratchRegistry:
    """A registry database of its own, and the URLs of its two roles."""

    database: str
    writer_url: str
    reader_url: str


@pytest.fixture
def scratch_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScratchRegistry]:
    """A fresh database owned by the writer role (no btree_gist, no grants); dropped afterwards."""
    if not (SECRETS_DIR / PG_PASSWORD_SECRET.format(role=WRITER)).is_file():
        pytest.fail("the local Butler roles are missing: run `idf local up --only butler` first")
    database = f"idf_bootstrap_check_{os.getpid()}"
    psql("postgres", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    psql("postgres", f'CREATE DATABASE "{database}" OWNER {WRITER}')
    writer_password = read_secret(
        SECRETS_DIR / PG_PASSWORD_SECRET.format(role=WRITER), "Butler writer password"
    )
    # The writer's entry only, in the environment (never a file): what the cloud Job gets too.
    entries = [{"url": f"postgresql://{WRITER}@127.0.0.1:5432/{database}", "username": WRITER,
                "password": writer_password}]  # fmt: skip
    monkeypatch.setenv("LSST_DB_AUTH_CREDENTIALS", json.dumps(entries))
    try:
        yield ScratchRegistry(
            database=database,
            writer_url=f"postgresql+psycopg2://{WRITER}@127.0.0.1:5432/{database}",
            reader_url=f"postgresql+psycopg2://{READER}@127.0.0.1:5432/{database}",
        )
    finally:
        psql("postgres", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
