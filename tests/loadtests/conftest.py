"""Fixtures of the load-test suites' tests: fake TAP and hub services on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
from loadtest_helpers import FAKES


@pytest.fixture
def fake_service() -> Iterator[Callable[[str, str], int]]:
    """Start a fake TAP or hub on 127.0.0.1 in its own process; returns its port."""
    started: list[subprocess.Popen[str]] = []

    def start(kind: str, mode: str) -> int:
        process = subprocess.Popen(
            [sys.executable, str(FAKES), kind, mode], stdout=subprocess.PIPE, text=True
        )
        started.append(process)
        assert process.stdout is not None
        return int(process.stdout.readline())

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)
