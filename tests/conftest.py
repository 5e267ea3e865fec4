"""Session-wide test options and fixtures (the helpers behind them live in ``tests/support/``).

- ``--update-test-data``: rewrite the committed expected files (stack inventories, golden files)
  from what the code produces now, instead of comparing; review the diff before committing;
- ``plans``: stack name -> offline plan, one plan per stack per session.
"""

from __future__ import annotations

import pytest

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
