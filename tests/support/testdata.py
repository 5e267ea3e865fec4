"""Committed expected files (inventories, golden files): compared, or rewritten on request.

``pytest --update-test-data`` (``tests/conftest.py``) rewrites every such file from what the code
produces now; review the diff before committing it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

__all__ = ["UPDATE_OPTION", "compare_text"]

UPDATE_OPTION = "--update-test-data"


def compare_text(path: Path, actual: str, update: bool) -> None:
    """Fail unless ``path`` holds ``actual``; with ``update``, write it first."""
    if update:
        path.write_text(actual)
    if not path.exists():
        pytest.fail(f"{path} missing: run pytest with {UPDATE_OPTION} to create it, then review it")
    assert path.read_text() == actual, (
        f"{path} differs; if the change is intended, rerun with {UPDATE_OPTION} and review the diff:\n"
        f"{actual}"
    )
