"""Inventory tests (cloud-foundation-fabric style): the offline plan of each stack against
`tests/inventories/<stack>.yaml` (`values` of chosen resources, `counts` per type, `outputs`).

The diff of an inventory is the review of an infrastructure change. Regenerate after an intended
change with `.venv/bin/pytest tests/infra/test_infra_inventory.py --update-test-data`; a failure
prints the actual YAML to paste.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from idf_ops.plan.engine import OfflinePlan
from support.stacks import STACKS
from support.testdata import UPDATE_OPTION

INVENTORIES = Path(__file__).resolve().parent.parent / "inventories"
# The first line of a new inventory file; an existing file keeps its own header when rewritten.
HEADER = "# Inventory of stack {stack} (offline plan). Regenerate: pytest {option}\n"

# Resource types whose whole inputs are pinned (the sizing and security surface of a stack).
VALUE_TYPES = (
    "gcp:container/cluster:Cluster",
    "gcp:container/nodePool:NodePool",
    "gcp:sql/databaseInstance:DatabaseInstance",
    "gcp:storage/bucket:Bucket",
    "gcp:compute/firewall:Firewall",
    "gcp:billing/budget:Budget",
    "kubernetes:qserv.lsst.org/v1beta1:Qserv",
    "kubernetes:storage.k8s.io/v1:StorageClass",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
)


def inventory_of(plan: OfflinePlan) -> dict[str, Any]:
    """The inventory document of a plan."""
    values = {
        r.name: {"type": r.type, "protect": r.protect, "ignore_changes": r.ignore_changes, "inputs": r.inputs}
        for r in plan.resources
        if r.type in VALUE_TYPES
    }
    # A copy: the plans are shared by the whole session.
    document = {"values": dict(sorted(values.items())), "counts": plan.counts(), "outputs": plan.outputs}
    return copy.deepcopy(document)


def _yaml(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=True, width=110)


def _header(path: Path, stack: str) -> str:
    """The comment lines heading ``path`` (kept byte for byte), or the header of a new file."""
    if path.exists():
        lines = path.read_text().splitlines(keepends=True)
        kept = "".join(itertools.takewhile(lambda line: line.startswith("#"), lines))
        if kept:
            return kept
    return HEADER.format(stack=stack, option=UPDATE_OPTION)


def write_inventory(path: Path, stack: str, inventory: dict[str, Any]) -> None:
    """What ``--update-test-data`` writes: the file's own header, then the inventory."""
    path.write_text(_header(path, stack) + _yaml(inventory))


@pytest.mark.parametrize("stack", STACKS)
def test_inventory_matches(plans: Mapping[str, OfflinePlan], stack: str, update_test_data: bool) -> None:
    actual = inventory_of(plans[stack])
    path = INVENTORIES / f"{stack}.yaml"
    if update_test_data:
        write_inventory(path, stack, actual)
    if not path.exists():
        pytest.fail(f"stack {stack} has no inventory {path}: create it with {UPDATE_OPTION}, then review it")
    expected = yaml.safe_load(path.read_text())
    for section in ("counts", "outputs", "values"):
        paste = _yaml({section: actual[section]})
        assert actual[section] == expected[section], (
            f"{path}: section {section!r} differs from the offline plan. If the change is intended, "
            f"paste this (or rerun with {UPDATE_OPTION}):\n{paste}"
        )


def test_inventory_catches_a_changed_size(plans: Mapping[str, OfflinePlan]) -> None:
    """The comparison is not vacuous: a one-field change in a pool is a difference."""
    expected = yaml.safe_load((INVENTORIES / "dp01.yaml").read_text())
    actual = inventory_of(plans["dp01"])
    pool = actual["values"]["idf-dp01-qserv-worker"]["inputs"]
    pool["autoscaling"]["totalMaxNodeCount"] += 1
    assert actual["values"] != expected["values"]


@pytest.mark.parametrize("stack", STACKS)
def test_update_rewrites_an_unchanged_inventory_byte_for_byte(
    plans: Mapping[str, OfflinePlan], stack: str, tmp_path: Path
) -> None:
    """``--update-test-data`` on an unchanged stack leaves its file as committed (header included), so
    the diff after an update shows the infrastructure change and nothing else."""
    committed = INVENTORIES / f"{stack}.yaml"
    rewritten = tmp_path / committed.name
    rewritten.write_bytes(committed.read_bytes())
    write_inventory(rewritten, stack, inventory_of(plans[stack]))
    assert rewritten.read_bytes() == committed.read_bytes()


def test_a_new_inventory_names_the_update_option(plans: Mapping[str, OfflinePlan], tmp_path: Path) -> None:
    path = tmp_path / "new-stack.yaml"
    write_inventory(path, "new-stack", inventory_of(plans["dev"]))
    first_line = path.read_text().splitlines()[0]
    assert first_line == f"# Inventory of stack new-stack (offline plan). Regenerate: pytest {UPDATE_OPTION}"
