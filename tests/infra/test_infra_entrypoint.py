"""`infra/__main__.py`, what `pulumi up -s <stack>` runs, under the mock engine: it reads the stack
through `pulumi.Config`, declares the stack, and stops with exit 2 on a bad config."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.runtime import config as runtime_config

from infra.config import pulumi_config_from_mapping
from support.mocks import Mocks, use_mocks

REPO = Path(__file__).resolve().parents[2]
# The language host runs the program directory, as runpy.run_path("infra/") does.
ENTRY = REPO / "infra"


def _configure(stack: str, mutate: Any = None) -> Mocks:
    mocks = use_mocks(stack, preview=True)
    doc = yaml.safe_load((REPO / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    if mutate:
        mutate(doc)
    runtime_config.set_all_config(pulumi_config_from_mapping(json.loads(json.dumps(doc, default=str))), [])
    return mocks


def test_entrypoint_declares_the_stack() -> None:
    mocks = _configure("dev")

    @pulumi.runtime.test
    def run() -> Any:
        runpy.run_path(str(ENTRY), run_name="__main__")
        return pulumi.Output.from_input(None)

    run()
    assert mocks.types.count("gcp:container/nodePool:NodePool") == 4
    assert "gcp:sql/databaseInstance:DatabaseInstance" in mocks.types


def test_entrypoint_bad_config_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    _configure("dev", lambda d: d["config"]["idf:node_pools"]["core"].update(max_nodes=0))
    with pytest.raises(SystemExit) as stop:
        runpy.run_path(str(ENTRY), run_name="__main__")
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "config.idf:node_pools.core.max_nodes" in err and "Traceback" not in err
