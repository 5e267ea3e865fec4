"""`idf plan`: the plan JSON, the stack outputs it writes, the manifest validation, and the
node-pool resize guarantee (pulumi-gcp #412)."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from idf_core.contract import load_outputs
from idf_core.errors import BadInput
from idf_core.paths import STACKS_DIR
from idf_ops.cli.main import main
from idf_ops.plan.engine import OfflinePlan, run_offline
from idf_ops.plan.manifests import manifests_of, validate_manifests
from support.stacks import STACKS


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IDF_STATE_DIR", str(tmp_path / "var"))
    return tmp_path


def test_plan_dp01_json(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = state / "dp01-plan.json"
    assert main(["plan", "dp01", "--json", str(out), "--quiet"]) == 0
    doc = json.loads(out.read_text())
    resources = doc["resources"]
    types = [r["type"] for r in resources]
    assert len(resources) >= 25
    assert all({"type", "name", "inputs"} <= set(r) for r in resources)
    assert types.count("gcp:container/cluster:Cluster") == 1
    assert types.count("gcp:container/nodePool:NodePool") >= 5
    assert types.count("gcp:storage/bucket:Bucket") >= 3
    (sql,) = [r for r in resources if r["type"] == "gcp:sql/databaseInstance:DatabaseInstance"]
    assert sql["inputs"]["settings"]["backupConfiguration"]["pointInTimeRecoveryEnabled"] is True
    (qserv,) = [r for r in resources if r["inputs"].get("kind") == "Qserv"]
    assert qserv["inputs"]["spec"]["worker"]["replicas"] == 5
    assert qserv["inputs"]["spec"]["czar"]["storage"] == "4096Gi"
    assert doc["outputs"]["cluster_name"] == "idf-dp01"
    # no secret value leaks into the plan
    assert "mock-password" not in out.read_text()
    # the stack outputs contract, as consumers read it
    outputs = load_outputs("dp01")
    assert outputs.offline_plan is True
    assert outputs.qserv.port == 4040 and outputs.qserv.expected_workers == 5
    assert outputs.cloudsql_connection_name == "rubin-idf-dp01:us-central1:butler-registry-dp01"
    assert set(outputs.buckets) == {"butler_datastore", "qserv_ingest", "backups"}
    assert (state / "var" / "stacks" / "dp01" / "manifests.yaml").exists()
    assert "Kubernetes objects valid" in capsys.readouterr().out


def test_plan_all_stacks(state: Path) -> None:
    assert main(["plan", "--all", "--quiet"]) == 0
    for stack in STACKS:
        assert load_outputs(stack).offline_plan is True


def test_plan_bad_stack_is_exit_2(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "dp1"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'dp01'" in err and "Traceback" not in err


def test_plan_bad_config_is_exit_2(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = yaml.safe_load((STACKS_DIR / "Pulumi.dp01.yaml").read_text())
    doc["config"]["idf:node_pools"]["core"]["min_nodes"] = 20
    path = state / "Pulumi.dp01.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["plan", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "config.idf:node_pools.core.max_nodes" in err


def test_manifests_are_valid_and_validation_can_fail(plans: Mapping[str, OfflinePlan]) -> None:
    manifests = manifests_of(plans["dp01"])
    kinds = {m["kind"] for m in manifests}
    assert {"Namespace", "ResourceQuota", "ServiceAccount", "StorageClass", "Qserv"} <= kinds
    assert validate_manifests(manifests) == []
    broken = copy.deepcopy(manifests)
    quota = next(m for m in broken if m["kind"] == "ResourceQuota")
    quota["spec"]["hardd"] = quota["spec"].pop("hard")
    qserv = next(m for m in broken if m["kind"] == "Qserv")
    qserv["spec"]["worker"]["replica"] = qserv["spec"]["worker"].pop("replicas")
    qserv["spec"]["tolerations"][0]["effect"] = 7
    qserv["spec"]["worker"]["tolerations"] = []  # not a field of the CRD's worker: would be pruned
    del qserv["spec"]["dbImage"]  # required by the CRD
    problems = [str(p) for p in validate_manifests(broken)]
    assert any("ResourceQuota" in p and "hardd" in p for p in problems), problems
    assert any("Qserv" in p and "replica" in p for p in problems), problems
    assert any("spec.czar" in p and "tolerations" in p for p in problems), problems
    assert any("spec.worker:" in p and "'tolerations'" in p and "unexpected" in p for p in problems), problems
    assert any("'dbImage' is a required property" in p for p in problems), problems


def test_pool_resize_does_not_replace_the_pool(plans: Mapping[str, OfflinePlan]) -> None:
    """Changing node counts changes only autoscaling bounds: same URN, same immutable inputs,
    and initialNodeCount (ForceNew in GKE) is ignored by the engine after creation."""
    before = plans["dp01"]
    doc = yaml.safe_load((STACKS_DIR / "Pulumi.dp01.yaml").read_text())
    worker = doc["config"]["idf:node_pools"]["qserv_worker"]
    worker["min_nodes"], worker["max_nodes"] = 6, 8
    after = run_offline("dp01", document=json.loads(json.dumps(doc, default=str)))
    old = before.by_name("idf-dp01-qserv-worker")
    new = after.by_name("idf-dp01-qserv-worker")
    assert old.urn == new.urn
    assert "initialNodeCount" in new.ignore_changes
    changed = {k for k in set(old.inputs) | set(new.inputs) if old.inputs.get(k) != new.inputs.get(k)}
    assert changed <= {"autoscaling", "initialNodeCount"}, changed
    assert new.inputs["autoscaling"]["totalMaxNodeCount"] == 8
    # and the cluster is untouched
    assert before.by_name("idf-dp01").inputs == after.by_name("idf-dp01").inputs


def test_outputs_as_pulumi_prints_them_are_read(state: Path) -> None:
    """`pulumi stack output --json > var/stacks/<stack>/outputs.json` (runbooks/pulumi.md §3) has the
    program-only keys too: the reader drops those, and still refuses any other unknown key."""
    assert main(["plan", "dp01", "--quiet"]) == 0
    plan = json.loads((state / "var" / "stacks" / "dp01" / "plan.json").read_text())
    exported = plan["outputs"]
    assert {"registry_required_extensions", "gcp_project", "region"} <= set(exported)
    outputs_file = state / "var" / "stacks" / "dp01" / "outputs.json"
    outputs_file.write_text(json.dumps(exported))
    assert load_outputs("dp01").cluster_name == "idf-dp01"
    outputs_file.write_text(json.dumps({**exported, "clustr_name": "typo"}))
    with pytest.raises(BadInput, match="clustr_name"):
        load_outputs("dp01")


def test_plan_keeps_live_outputs(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A live stack's outputs (no `offline_plan: true`) are never replaced by the plan's mock values."""
    assert main(["plan", "dp01", "--quiet"]) == 0
    stack_dir = state / "var" / "stacks" / "dp01"
    live = json.loads((stack_dir / "outputs.json").read_text())
    live.update(offline_plan=False, tap_url="https://data.lsst.cloud/api/tap")
    (stack_dir / "outputs.json").write_text(json.dumps(live))
    assert main(["plan", "dp01", "--quiet"]) == 0
    assert load_outputs("dp01").tap_url == "https://data.lsst.cloud/api/tap"
    assert json.loads((stack_dir / "outputs.offline.json").read_text())["offline_plan"] is True
    assert "was kept" in capsys.readouterr().out
