"""Fixtures of the local-stack suites: the testinfra host and a PostgreSQL outage that always ends."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import testinfra

from local.helpers import pg_online


@pytest.fixture(scope="session")
def host() -> Any:
    """This machine through testinfra's local backend."""
    return testinfra.get_host("local://")


@pytest.fixture
def postgresql_stopped() -> Iterator[None]:
    """Stop PostgreSQL for one test and start it again afterwards, whatever happens."""
    # PostgreSQL is supervisord's program: stopped through it, or supervisord would restart it.
    subprocess.run(["supervisorctl", "stop", "idf-postgresql"], check=True, timeout=120)
    try:
        yield
    finally:
        if not pg_online():
            subprocess.run(["supervisorctl", "start", "idf-postgresql"], check=True, timeout=120)
