"""The qserv-scale75 stack: generated from the sizing model, temporary, and free of stateful resources.

The committed `stacks/Pulumi.qserv-scale75.yaml` must equal what the model renders (except the
expiry of the run it was written for); the mock-engine run of the Pulumi program on it must hold
only temporary, labelled node pools and no Cloud SQL, bucket or disk.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from idf_core.errors import BadInput
from idf_core.paths import STACKS_DIR
from idf_ops.cost.prices import load_price_table
from idf_ops.scale.offline import offline_plan
from idf_ops.scale.plan import plan_scale_test, write_stack_file
from idf_ops.scale.sizing import SizingInputs
from idf_ops.scale.stackfile import normalized_config, stack_drift
from infra.config import validate_config_mapping

PRICES = load_price_table()
STACK = "qserv-scale75"
COMMITTED = STACKS_DIR / f"Pulumi.{STACK}.yaml"
EXPIRY = datetime(2026, 12, 15, tzinfo=UTC)


def _render(expires_at: datetime = EXPIRY) -> dict[str, Any]:
    _, doc = plan_scale_test(SizingInputs(percent_of_dr1=75), PRICES, expires_at=expires_at, stack=STACK)
    return doc


def _committed() -> dict[str, Any]:
    return yaml.safe_load(COMMITTED.read_text())


def _normalized(doc: dict[str, Any]) -> dict[str, Any]:
    return normalized_config(doc, stack=STACK, source="test")


def test_committed_stack_file_matches_the_sizing_model() -> None:
    committed = _normalized(_committed())
    when = datetime.fromisoformat(committed["config"]["idf:node_pools"]["qserv_worker"]["expires_at"])
    drift = stack_drift(committed, _normalized(_render(when)))
    assert drift == [], (
        "stacks/Pulumi.qserv-scale75.yaml drifted from the sizing model; regenerate it with "
        "`idf scale render-stack --percent 75 --expires-at <expiry> --write`:\n" + "\n".join(drift)
    )


def test_drift_is_detected() -> None:
    expected = _normalized(_render())
    mutated = copy.deepcopy(expected)
    mutated["config"]["idf:node_pools"]["qserv_worker"]["max_nodes"] = 69
    mutated["config"]["idf:cloudsql"] = {"instance_name": "x"}
    drift = stack_drift(mutated, expected)
    assert "config.idf:node_pools.qserv_worker.max_nodes: committed 69, model 38" in drift
    assert "config.idf:cloudsql: committed {'instance_name': 'x'}, model None" in drift
    # A different expiry alone is not drift.
    assert stack_drift(_normalized(_render(datetime(2027, 1, 1, tzinfo=UTC))), expected) == []


def test_written_stack_file_round_trips(tmp_path: Path) -> None:
    plan, doc = plan_scale_test(SizingInputs(percent_of_dr1=75), PRICES, expires_at=EXPIRY, stack=STACK)
    path = write_stack_file(plan, doc, "idf scale render-stack --write", tmp_path / f"Pulumi.{STACK}.yaml")
    text = path.read_text()
    assert text.startswith("# Stack qserv-scale75: the temporary Qserv scale test at 75% of DR1")
    assert stack_drift(_normalized(yaml.safe_load(text)), _normalized(doc)) == []


def test_rendered_stack_is_temporary_and_stateless() -> None:
    doc = _render()
    cfg = validate_config_mapping(doc, "rendered", STACK)
    assert cfg.meta.temporary
    assert cfg.cloudsql is None
    assert cfg.buckets == {}
    assert cfg.butler_reference is not None  # dp01's Butler, read-only
    for key, pool in cfg.node_pools.items():
        assert pool.temporary, key
        assert pool.expires_at == EXPIRY, key
        assert pool.zone_fallbacks and set(pool.zone_fallbacks).isdisjoint(pool.zones), key
        assert pool.min_nodes == pool.max_nodes, key
    assert cfg.qserv is not None
    assert cfg.qserv.worker_replicas == cfg.node_pools["qserv_worker"].max_nodes == 38


def test_the_config_model_refuses_stateful_resources_in_a_temporary_stack() -> None:
    doc = _render()
    doc["config"]["idf:cloudsql"] = {"instance_name": "scale-registry", "tier": "db-custom-4-26624"}
    with pytest.raises(BadInput, match="temporary stack must not declare Cloud SQL"):
        validate_config_mapping(doc, "mutated", STACK)
    doc = _render()
    doc["config"]["idf:node_pools"]["qserv_worker"]["temporary"] = False
    with pytest.raises(BadInput, match="only declare temporary pools"):
        validate_config_mapping(doc, "mutated", STACK)


def test_mock_engine_plan_has_no_stateful_resources_and_labelled_pools() -> None:
    plan = offline_plan(STACK, _render())
    assert plan.stateful_resources == []
    assert plan.resource_counts["gcp:container/nodePool:NodePool"] == 3
    for name, inputs in plan.node_pools.items():
        labels = inputs["nodeConfig"]["resourceLabels"]
        assert labels["purpose"] == "scale-test", name
        assert labels["owner"] == "dm-qserv", name
        assert labels["expires-at"].startswith("2026-12-15"), name
        assert inputs["nodeConfig"]["machineType"] in {"n2-standard-4", "n2-standard-32", "n2-standard-16"}


def test_mock_engine_plan_flags_stateful_resources() -> None:
    # The same check on dp01 (Cloud SQL + buckets) must find them: the guard can fail.
    dp01 = yaml.safe_load((STACKS_DIR / "Pulumi.dp01.yaml").read_text())
    plan = offline_plan("dp01", dp01)
    kinds = {urn.split("::")[2].split("$")[-1] for urn in plan.stateful_resources}
    assert "gcp:sql/databaseInstance:DatabaseInstance" in kinds
    assert "gcp:storage/bucket:Bucket" in kinds
