"""The exported JSON Schema (`stacks/stack.schema.json`), the stack files against it, and the
`pulumi.Config` path the program reads (same keys, same checks as the file)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pulumi.runtime import config as runtime_config

from idf_core.errors import BadInput
from idf_core.paths import STACKS_DIR
from infra.config import (
    SCHEMA_PATH,
    dump_stack_file,
    load_from_pulumi_config,
    load_stack_file,
    pulumi_config_from_mapping,
    stack_file_schema,
    write_schema,
)
from support.mocks import Mocks, use_mocks
from support.stacks import STACKS

STACK_FILES = sorted(STACKS_DIR.glob("Pulumi.*.yaml"))


def _as_json(path: Path) -> Any:
    # YAML timestamps (expires_at) are strings in JSON, as in the Pulumi CLI's config.
    return json.loads(json.dumps(yaml.safe_load(path.read_text()), default=lambda v: v.isoformat()))


def test_schema_is_current(update_test_data: bool) -> None:
    if update_test_data:
        write_schema()
    assert json.loads(SCHEMA_PATH.read_text()) == stack_file_schema(), (
        f"{SCHEMA_PATH} is stale: run `.venv/bin/idf config schema` (or pytest --update-test-data)"
    )


def test_the_release_stacks_exist() -> None:
    # The stacks the milestones are gated on; the rest of the suite takes its list from stacks/.
    assert {"dev", "dp01", "dp02", "qserv-scale75"} <= set(STACKS)


@pytest.mark.parametrize("path", STACK_FILES, ids=[p.name for p in STACK_FILES])
def test_stack_file_matches_json_schema(path: Path) -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    errors = [
        f"{path.name}: {'.'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft202012Validator(schema).iter_errors(_as_json(path))
    ]
    assert errors == []


def test_json_schema_catches_a_misspelt_key() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    doc = _as_json(STACKS_DIR / "Pulumi.dp01.yaml")
    doc["config"]["idf:node_pools"]["core"]["max_nodse"] = 3
    assert not jsonschema.Draft202012Validator(schema).is_valid(doc)


def _feed(path: Path, stack: str, extra: dict[str, str] | None = None) -> Mocks:
    mocks = use_mocks(stack)
    flat = pulumi_config_from_mapping(yaml.safe_load(path.read_text()))
    runtime_config.set_all_config({**flat, **(extra or {})}, [])
    return mocks


@pytest.mark.parametrize("path", STACK_FILES, ids=[p.name for p in STACK_FILES])
def test_pulumi_config_path_equals_file(path: Path) -> None:
    from_file = load_stack_file(path)
    mocks = _feed(path, from_file.stack)
    assert load_from_pulumi_config().model_dump() == from_file.model_dump()
    assert mocks.registered == [], "reading the config must not declare resources"


def test_pulumi_config_rejects_unknown_idf_key() -> None:
    _feed(STACKS_DIR / "Pulumi.dp01.yaml", "dp01", {"idf:node_pool": "{}"})
    with pytest.raises(BadInput, match=r"config\.idf:node_pool: unknown key; did you mean 'idf:node_pools'"):
        load_from_pulumi_config()


def test_pulumi_config_reports_bad_values_with_key_path() -> None:
    _feed(
        STACKS_DIR / "Pulumi.dp01.yaml",
        "dp01",
        {
            "idf:cloudsql": json.dumps(
                {"instance_name": "x1", "tier": "db-custom-4-26624", "max_connections": 5}
            )
        },
    )
    with pytest.raises(BadInput, match=r"config\.idf:cloudsql\.max_connections"):
        load_from_pulumi_config()


def test_pulumi_config_reports_every_problem_together() -> None:
    _feed(
        STACKS_DIR / "Pulumi.dp01.yaml",
        "dp01",
        {
            "idf:node_pool": "{}",
            "idf:cloudsql": json.dumps(
                {"instance_name": "x1", "tier": "db-custom-4-26624", "max_connections": 5}
            ),
            "idf:network": json.dumps(
                {
                    "subnet_cidr": "10.128.0.0/20",
                    "pods_cidr": "10.128.0.0/14",  # overlaps the subnet
                    "services_cidr": "10.136.0.0/20",
                }
            ),
        },
    )
    with pytest.raises(BadInput) as caught:
        load_from_pulumi_config()
    lines = str(caught.value).splitlines()
    assert len(lines) == 3, lines
    expected = [
        "config.idf:node_pool: unknown key",
        "config.idf:cloudsql.max_connections:",
        "config.idf:network.pods_cidr:",
    ]
    for line, key in zip(lines, expected, strict=True):
        assert line.startswith("stacks/Pulumi.dp01.yaml (via pulumi.Config): " + key), line


def test_dump_stack_file_round_trips(tmp_path: Path) -> None:
    cfg = load_stack_file(STACKS_DIR / "Pulumi.qserv-scale75.yaml")
    out = dump_stack_file(cfg, tmp_path / "Pulumi.qserv-scale75.yaml", header="regenerated\nby the test")
    assert out.read_text().startswith("# regenerated\n# by the test\n")
    assert load_stack_file(out).model_dump() == cfg.model_dump()
