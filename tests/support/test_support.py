"""The shared test helpers do what the suites rely on."""

from __future__ import annotations

from pathlib import Path

import pytest

from idf_core.paths import STACKS_DIR
from support.plans import OfflinePlans
from support.stacks import STACKS
from support.testdata import UPDATE_OPTION, compare_text


def test_every_stack_file_is_a_stack() -> None:
    assert len(STACKS) == len(list(STACKS_DIR.glob("Pulumi.*.yaml"))) > 0
    assert all((STACKS_DIR / f"Pulumi.{stack}.yaml").is_file() for stack in STACKS)


def test_plans_cover_every_stack_and_refuse_others() -> None:
    plans = OfflinePlans()
    assert list(plans) == list(STACKS)
    with pytest.raises(KeyError, match="not a stack of stacks/"):
        plans["no-such-stack"]


def test_compare_text_passes_equal_and_fails_different(tmp_path: Path) -> None:
    path = tmp_path / "expected.json"
    path.write_text("{}\n")
    compare_text(path, "{}\n", update=False)
    with pytest.raises(AssertionError, match=UPDATE_OPTION):
        compare_text(path, '{"a": 1}\n', update=False)


def test_compare_text_updates_and_names_the_option_for_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "expected.json"
    with pytest.raises(pytest.fail.Exception, match=UPDATE_OPTION):
        compare_text(path, "{}\n", update=False)
    compare_text(path, "{}\n", update=True)
    assert path.read_text() == "{}\n"
