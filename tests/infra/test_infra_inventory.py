"""Inventory tests (cloud-foundation-fabric style): the offline plan of each stack against
`tests/inventories/<stack>.yaml` (`values` of chosen resources, `counts` per type, `outputs`).

The diff of an inventory is the review of an infrastructure change. Regenerate after an intended
change with `IDF_REGENERATE_INVENTORIES=1 .venv/bin/pytest tests/infra/test_infra_inventory.py`;
a failure prints the actual YAML to paste.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from idf_ops.plan.engine import OfflinePlan

INVENTORIES = Path(__file__).resolve().parent.parent / "inventories"
REGENERATE = os.environ.get("IDF_REGENERATE_INVENTORIES") == "1"

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
    return {"values": dict(sorted(values.items())), "counts": plan.counts(), "outputs": plan.outputs}


def _yaml(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=True, width=110)


@pytest.mark.parametrize("stack", ["dev", "dp01", "dp02", "qserv-scale75"])
def test_inventory_matches(plans: dict[str, OfflinePlan], stack: str) -> None:
    actual = inventory_of(plans[stack])
    path = INVENTORIES / f"{stack}.yaml"
    if REGENERATE:
        path.write_text(
            f"# Inventory of stack {stack} (offline plan). Regenerate: IDF_REGENERATE_INVENTORIES=1\n"
            + _yaml(actual)
        )
    expected = yaml.safe_load(path.read_text())
    for section in ("counts", "outputs", "values"):
        paste = _yaml({section: actual[section]})
        assert actual[section] == expected[section], (
            f"{path}: section {section!r} differs from the offline plan. If the change is intended, "
            f"paste this (or regenerate with IDF_REGENERATE_INVENTORIES=1):\n{paste}"
        )


def test_inventory_catches_a_changed_size(plans: dict[str, OfflinePlan]) -> None:
    """The comparison is not vacuous: a one-field change in a pool is a difference."""
    expected = yaml.safe_load((INVENTORIES / "dp01.yaml").read_text())
    actual = inventory_of(plans["dp01"])
    pool = actual["values"]["idf-dp01-qserv-worker"]["inputs"]
    pool["autoscaling"]["totalMaxNodeCount"] += 1
    assert actual["values"] != expected["values"]
