"""Qserv worker volumes: local NVMe SSD (RAID DaemonSet + local static provisioner + no-provisioner
class) exactly when `idf:qserv.worker_volume` is `local-nvme-ssd`, placed on the worker pool; the
persistent-disk stacks keep the PD class.

The component tests are `@pulumi.runtime.test` program runs (a failing `apply` fails them); the
stack tests read the offline plans of the real stack files (the same mock engine, `conftest.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from idf_core.facts import pool_name
from idf_ops.plan.engine import OfflinePlan
from infra import qserv_local_ssd
from infra.config import StackConfig, load_stack_file, resolve_stack_file, validate_config_mapping
from infra.kubernetes import PD_STORAGE_CLASS, qserv_spec, worker_storage_class
from infra.node_pools import k8s_taint_effect
from infra.qserv_local_ssd import QservLocalSsd, QservLocalSsdArgs
from support.mocks import use_mocks
from support.stacks import STACKS

DAEMONSET = "kubernetes:apps/v1:DaemonSet"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
QSERV = "kubernetes:qserv.lsst.org/v1beta1:Qserv"
NODE_POOL = "gcp:container/nodePool:NodePool"
# (ConfigMaps are not among them: the Butler bootstrap Job ships its code in one on every stack.)
LOCAL_SSD_ONLY_TYPES = (
    DAEMONSET,
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
)
# stack -> workers on local SSD? (dp01/dp02 serve data from persistent disk: see their stack files)
BACKENDS = {"dev": True, "qserv-scale75": True, "dp01": False, "dp02": False}


def _on_local_ssd(stack: str) -> bool:
    """What the stack file asks for (BACKENDS pins it for the stacks above)."""
    qserv = load_stack_file(resolve_stack_file(stack)).qserv
    return qserv is not None and qserv.worker_volume == "local-nvme-ssd"


def test_known_stacks_keep_their_backend() -> None:
    assert {stack: _on_local_ssd(stack) for stack in BACKENDS} == BACKENDS


@pytest.fixture
def scale_config() -> StackConfig:
    use_mocks("qserv-scale75")
    return load_stack_file(resolve_stack_file("qserv-scale75"))


def _component(cfg: StackConfig) -> QservLocalSsd:
    provider = k8s.Provider("t-provider", kubeconfig="{}")
    assert cfg.qserv is not None
    return QservLocalSsd(
        "t",
        QservLocalSsdArgs(
            worker_pool=cfg.node_pools[cfg.qserv.worker_pool],
            worker_pool_name=pool_name(f"idf-{cfg.stack}", cfg.qserv.worker_pool),
            provider=provider,
            depends_on=[],
            labels={"idf.lsst.io/stack": cfg.stack},
        ),
    )


@pulumi.runtime.test
def test_raid_daemonset_runs_only_on_the_worker_pool(scale_config: StackConfig) -> Any:
    component = _component(scale_config)
    taints = scale_config.node_pools["qserv_worker"].taints

    def check(spec: Any) -> None:
        pod = spec["template"]["spec"]
        assert pod["node_selector"] == {
            "cloud.google.com/gke-nodepool": "idf-qserv-scale75-qserv-worker",
            "cloud.google.com/gke-local-nvme-ssd": "true",
        }
        assert [(t["key"], t["value"], t["effect"]) for t in pod["tolerations"]] == [
            (t.key, t.value, k8s_taint_effect(t.effect)) for t in taints
        ]
        assert pod["host_pid"] is True
        (setup,) = pod["init_containers"]
        assert setup["security_context"]["privileged"] is True
        assert setup["command"][:5] == ["nsenter", "-t", "1", "-m", "--"]
        assert setup["command"][-1] == qserv_local_ssd.RAID_SCRIPT
        # The long-running container has no privilege at all.
        (pause,) = pod["containers"]
        assert pause["security_context"]["privileged"] is False

    return component.raid.spec.apply(check)


@pulumi.runtime.test
def test_provisioner_reads_the_discovery_dir_on_the_same_nodes(scale_config: StackConfig) -> Any:
    component = _component(scale_config)

    def check(specs: list[Any]) -> None:
        raid, provisioner = (s["template"]["spec"] for s in specs)
        assert provisioner["node_selector"] == raid["node_selector"]
        assert provisioner["tolerations"] == raid["tolerations"]
        (container,) = provisioner["containers"]
        assert container["image"] == qserv_local_ssd.PROVISIONER_IMAGE
        assert container["security_context"]["privileged"] is False
        discovery = next(m for m in container["volume_mounts"] if m["name"] == "discovery")
        assert discovery["mount_path"] == qserv_local_ssd.DISCOVERY_DIR
        assert discovery["read_only"] is True
        assert discovery["mount_propagation"] == "HostToContainer"
        assert qserv_local_ssd.VOLUME_DIR.startswith(qserv_local_ssd.DISCOVERY_DIR + "/")

    return pulumi.Output.all(component.raid.spec, component.provisioner.spec).apply(check)


@pulumi.runtime.test
def test_local_storage_class_is_static_and_waits_for_the_consumer(scale_config: StackConfig) -> Any:
    component = _component(scale_config)
    sc = component.storage_class

    def check(values: list[Any]) -> None:
        name, provisioner, binding, reclaim = values
        assert name == qserv_local_ssd.STORAGE_CLASS
        assert provisioner == "kubernetes.io/no-provisioner"
        assert binding == "WaitForFirstConsumer"
        assert reclaim == "Retain"

    return pulumi.Output.all(
        sc.metadata.apply(lambda m: m["name"]), sc.provisioner, sc.volume_binding_mode, sc.reclaim_policy
    ).apply(check)


def test_provisioner_config_maps_our_class_to_the_discovery_dir() -> None:
    data = qserv_local_ssd.provisioner_config()
    assert yaml.safe_load(data["storageClassMap"]) == {
        "qserv-local-ssd": {
            "hostDir": "/mnt/disks/raid",
            "mountDir": "/mnt/disks/raid",
            "volumeMode": "Filesystem",
            "fsType": "ext4",
        }
    }


@pytest.mark.parametrize("stack", STACKS)
def test_local_ssd_objects_exist_only_with_the_local_backend(
    plans: Mapping[str, OfflinePlan], stack: str
) -> None:
    plan = plans[stack]
    present = {t for t in LOCAL_SSD_ONLY_TYPES if plan.of_type(t)}
    classes = {r.inputs["metadata"]["name"] for r in plan.of_type(STORAGE_CLASS)}
    if _on_local_ssd(stack):
        assert present == set(LOCAL_SSD_ONLY_TYPES)
        assert classes == {PD_STORAGE_CLASS, qserv_local_ssd.STORAGE_CLASS}
    else:
        assert present == set()
        assert classes == {PD_STORAGE_CLASS}


@pytest.mark.parametrize("stack", STACKS)
def test_qserv_cr_workers_claim_the_backend_class(plans: Mapping[str, OfflinePlan], stack: str) -> None:
    (cr,) = plans[stack].of_type(QSERV)
    expected = qserv_local_ssd.STORAGE_CLASS if _on_local_ssd(stack) else PD_STORAGE_CLASS
    assert cr.inputs["spec"]["worker"]["storageClassName"] == expected, cr.urn
    assert cr.inputs["spec"]["czar"]["storageClassName"] == PD_STORAGE_CLASS, cr.urn


@pytest.mark.parametrize("stack", [s for s in STACKS if _on_local_ssd(s)])
def test_daemonsets_select_the_real_worker_pool(plans: Mapping[str, OfflinePlan], stack: str) -> None:
    """The nodeSelector names the NodePool the program creates for the Qserv workers (by its GKE
    name), and that pool has local SSDs."""
    plan = plans[stack]
    cfg = load_stack_file(resolve_stack_file(stack))
    assert cfg.qserv is not None
    worker_pools = [
        p for p in plan.of_type(NODE_POOL) if p.inputs["nodeConfig"]["labels"]["idf-role"] == "qserv-worker"
    ]
    (pool,) = worker_pools
    assert pool.inputs["nodeConfig"]["localNvmeSsdBlockConfig"]["localSsdCount"] > 0
    for ds in plan.of_type(DAEMONSET):
        pod = ds.inputs["spec"]["template"]["spec"]
        assert pod["nodeSelector"]["cloud.google.com/gke-nodepool"] == pool.inputs["name"], ds.urn
        assert pod["nodeSelector"]["cloud.google.com/gke-local-nvme-ssd"] == "true", ds.urn
        taints = {(t["key"], t["value"]) for t in pool.inputs["nodeConfig"]["taints"]}
        assert {(t["key"], t["value"]) for t in pod["tolerations"]} == taints, ds.urn


def test_switching_the_backend_switches_the_worker_class() -> None:
    """The same config on persistent disk (its pool stripped of SSDs, as validation demands) gets the
    PD class: the choice comes from worker_volume, not from the stack's name."""
    doc = {"config": dict(load_stack_file(resolve_stack_file("dev")).model_dump(by_alias=True, mode="json"))}
    local = validate_config_mapping(doc, "dev", "dev").qserv
    assert local is not None
    assert worker_storage_class(local) == qserv_local_ssd.STORAGE_CLASS
    doc["config"]["idf:qserv"]["worker_volume"] = "persistent-disk"
    doc["config"]["idf:node_pools"]["qserv_worker"]["local_nvme_ssd_count"] = 0
    cfg = validate_config_mapping(doc, "dev", "dev")
    assert cfg.qserv is not None
    names = {key: pool_name("idf-dev", key) for key in cfg.node_pools}
    spec = qserv_spec(cfg.qserv, cfg.node_pools, names, None)
    assert spec["worker"]["storageClassName"] == PD_STORAGE_CLASS
    assert spec["worker"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ][0]["matchExpressions"][0]["values"] == ["idf-dev-qserv-worker"]
