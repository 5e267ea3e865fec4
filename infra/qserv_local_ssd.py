"""Qserv worker volumes on local NVMe SSD: the in-cluster objects that turn the worker pool's raw
local SSDs into PersistentVolumes of the `qserv-local-ssd` StorageClass.

This module owns, in the dedicated namespace :data:`NAMESPACE` (used when
`idf:qserv.worker_volume` is `local-nvme-ssd`):

1. the RAID DaemonSet: on every node of the Qserv worker pool, a privileged init container enters
   the host's mount namespace and assembles `/dev/disk/by-id/google-local-ssd-block*` into one
   RAID-0 md array, formats it ext4 once and mounts it at :data:`VOLUME_DIR`. Idempotent: an
   existing array is reused (assembled again after a reboot), an existing ext4 filesystem is never
   reformatted, and anything else on the array stops the script instead of being overwritten.
   A pause container then keeps the pod Ready, so "pod Ready" means "volume mounted";
2. the sig-storage local static provisioner (DaemonSet, ConfigMap, ServiceAccount, ClusterRole,
   ClusterRoleBinding): it discovers the mount under :data:`DISCOVERY_DIR` and publishes it as one
   PersistentVolume per node with node affinity;
3. the StorageClass :data:`STORAGE_CLASS` (`kubernetes.io/no-provisioner`, WaitForFirstConsumer,
   Retain) that the Qserv custom resource's workers claim.

The pattern follows GKE's "Provision and use Local SSD-backed raw block storage" (a RAID
DaemonSet plus the local static provisioner) and the provisioner's GKE RAID example; the script
and the manifests are ours. The policy pack allows the RAID DaemonSet's privileges by namespace and
name only (`infra/policy/rules.py`, `k8s-pod-host-access`). Not yet run against GCP: see
runbooks/qserv-scale-test.md for how a scale tester verifies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from infra.config import NodePoolConfig
from infra.node_pools import k8s_taint_effect

__all__ = [
    "DISCOVERY_DIR",
    "NAMESPACE",
    "PROVISIONER_IMAGE",
    "PROVISIONER_NAME",
    "RAID_DAEMONSET_NAME",
    "RAID_SCRIPT",
    "STORAGE_CLASS",
    "VOLUME_DIR",
    "QservLocalSsd",
    "QservLocalSsdArgs",
    "provisioner_config",
]

NAMESPACE = "qserv-local-ssd"
STORAGE_CLASS = "qserv-local-ssd"
RAID_DAEMONSET_NAME = "qserv-local-ssd-raid"
PROVISIONER_NAME = "qserv-local-ssd-provisioner"
# The provisioner publishes every mount point *below* its discovery directory as one PV.
DISCOVERY_DIR = "/mnt/disks/raid"
VOLUME_DIR = f"{DISCOVERY_DIR}/qserv-data"
ARRAY_NAME = "qserv-data"
# Pinned images. The provisioner version is the one of its Helm chart 2.9.0; busybox provides
# nsenter (the script itself runs the node's own bash, mdadm and mkfs.ext4 from the host's mount
# namespace, as GKE's documented DaemonSet does); pause keeps the pod alive after setup.
PROVISIONER_IMAGE = "registry.k8s.io/sig-storage/local-volume-provisioner:v2.9.0"
RAID_SETUP_IMAGE = "busybox:1.36.1"
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"

# Runs in the node's mount namespace (nsenter -t 1 -m). Never formats a device that carries any
# signature: blkid must positively answer "nothing here" (exit 2) before mkfs runs.
RAID_SCRIPT = f"""set -o errexit -o nounset -o pipefail
array_name={ARRAY_NAME}
mount_dir={VOLUME_DIR}
if mountpoint -q "$mount_dir"; then
  echo "$mount_dir already mounted from $(findmnt -n -o SOURCE "$mount_dir"); nothing to do"
  exit 0
fi
devices=(/dev/disk/by-id/google-local-ssd-block*)
if [ ! -e "${{devices[0]}}" ]; then
  echo "no local NVMe SSD (google-local-ssd-block*) on this node; the pool must declare them" >&2
  exit 1
fi
# An array of ours already running (auto-assembled at boot, possibly as /dev/md127)? No arrays
# at all (or no md driver loaded yet) may make the scan fail: that is "none", not an error.
array=$( (mdadm --detail --scan 2>/dev/null || true) \\
  | awk -v n="$array_name" '$0 ~ "name=([^ ]*:)?" n "( |$)" {{print $2; exit}}')
if [ -z "$array" ]; then
  array=/dev/md/$array_name
  if mdadm --examine "${{devices[0]}}" >/dev/null 2>&1; then
    echo "assembling the existing RAID-0 $array from ${{#devices[@]}} local SSDs"
    mdadm --assemble "$array" "${{devices[@]}}"
  else
    echo "creating RAID-0 $array from ${{#devices[@]}} local SSDs"
    mdadm --create "$array" --name="$array_name" --level=0 --run \\
      --raid-devices="${{#devices[@]}}" "${{devices[@]}}"
  fi
fi
rc=0
fstype=$(blkid -p -o value -s TYPE "$array") || rc=$?
if [ "$rc" -eq 2 ]; then
  echo "formatting $array as ext4 (first use)"
  mkfs.ext4 -m 0 -L "$array_name" "$array"
elif [ "$rc" -ne 0 ]; then
  echo "blkid failed on $array (exit $rc); refusing to format" >&2
  exit 1
elif [ "$fstype" != ext4 ]; then
  echo "$array holds a $fstype filesystem, not ext4; refusing to reformat it" >&2
  exit 1
fi
mkdir -p "$mount_dir"
# The bare mount point on the boot disk is made immutable: should a worker ever start before this
# mount (after a reboot), its writes fail loudly instead of filling the boot disk.
chattr +i "$mount_dir" || echo "chattr +i $mount_dir failed; the bare mount point stays writable" >&2
mount -o defaults,discard,noatime "$array" "$mount_dir"
echo "mounted $array at $mount_dir"
"""


def provisioner_config() -> dict[str, str]:
    """The provisioner's ConfigMap data: our class, discovered under DISCOVERY_DIR, as filesystems."""
    storage_class_map = {
        STORAGE_CLASS: {
            "hostDir": DISCOVERY_DIR,
            "mountDir": DISCOVERY_DIR,
            "volumeMode": "Filesystem",
            "fsType": "ext4",
        }
    }
    return {
        "useNodeNameOnly": "true",  # PV names from the node name: one PV per node, readable
        "storageClassMap": yaml.safe_dump(storage_class_map, sort_keys=False),
    }


@dataclass(frozen=True)
class QservLocalSsdArgs:
    """Inputs of :class:`QservLocalSsd`."""

    worker_pool: NodePoolConfig
    """The Qserv worker pool (`idf:qserv.worker_pool`): its taints are tolerated."""
    worker_pool_name: str
    """GKE name of the Qserv worker node pool (the `cloud.google.com/gke-nodepool` label)."""
    provider: k8s.Provider
    depends_on: list[pulumi.Resource]
    labels: dict[str, str]


class QservLocalSsd(pulumi.ComponentResource):
    """RAID-0 of the worker pool's local SSDs, published as the `qserv-local-ssd` StorageClass."""

    storage_class: k8s.storage.v1.StorageClass
    raid: k8s.apps.v1.DaemonSet
    provisioner: k8s.apps.v1.DaemonSet

    def __init__(
        self, name: str, args: QservLocalSsdArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("idf:qserv_local_ssd:QservLocalSsd", name, None, opts)
        labels = {**args.labels, "app.kubernetes.io/part-of": "qserv-local-ssd"}
        opts_k8s = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=args.depends_on)

        namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=NAMESPACE,
                # Say it out loud: this namespace runs the one privileged pod of the stack.
                labels={**labels, "pod-security.kubernetes.io/enforce": "privileged"},
            ),
            opts=opts_k8s,
        )
        in_ns = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[namespace])

        self.storage_class = k8s.storage.v1.StorageClass(
            f"{name}-storage-class",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=STORAGE_CLASS, labels=labels),
            provisioner="kubernetes.io/no-provisioner",
            volume_binding_mode="WaitForFirstConsumer",
            # Retain: deleting a claim never wipes a worker's chunks; the provisioner then needs no
            # cleanup rights (no root file deletion) and an operator frees a PV by hand.
            reclaim_policy="Retain",
            opts=opts_k8s,
        )

        placement: dict[str, Any] = {
            "node_selector": {
                "cloud.google.com/gke-nodepool": args.worker_pool_name,
                "cloud.google.com/gke-local-nvme-ssd": "true",
            },
            "tolerations": [
                k8s.core.v1.TolerationArgs(
                    key=t.key, operator="Equal", value=t.value, effect=k8s_taint_effect(t.effect)
                )
                for t in args.worker_pool.taints
            ],
        }

        self.raid = _daemon_set(
            f"{name}-raid",
            RAID_DAEMONSET_NAME,
            labels,
            k8s.core.v1.PodSpecArgs(
                # hostPID + privileged: nsenter into PID 1's mount namespace, so mdadm sees
                # the node's devices and the mount lands on the node, where the provisioner
                # and kubelet see it. The only privileged pod of the stack.
                host_pid=True,
                automount_service_account_token=False,
                init_containers=[
                    k8s.core.v1.ContainerArgs(
                        name="raid-setup",
                        image=RAID_SETUP_IMAGE,
                        command=["nsenter", "-t", "1", "-m", "--", "bash", "-c", RAID_SCRIPT],
                        security_context=k8s.core.v1.SecurityContextArgs(privileged=True),
                        resources=_resources("100m", "64Mi", "128Mi"),
                    )
                ],
                containers=[
                    k8s.core.v1.ContainerArgs(
                        name="pause",
                        image=PAUSE_IMAGE,
                        security_context=_restricted(run_as_user=65535),
                        resources=_resources("10m", "16Mi", "32Mi"),
                    )
                ],
                **placement,
            ),
            in_ns,
        )

        service_account = k8s.core.v1.ServiceAccount(
            f"{name}-provisioner-sa",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=PROVISIONER_NAME, namespace=NAMESPACE, labels=labels),
            opts=in_ns,
        )
        # Least privilege for a Retain-only, filesystem-only provisioner: publish and withdraw PVs,
        # read the classes it serves and the node it runs on (for PV node affinity), record events.
        # Not granted (the upstream chart's extras): nodes/update (the startup-taint removal feature)
        # and batch/jobs (cleanup by jobs), which this setup does not use.
        cluster_role = k8s.rbac.v1.ClusterRole(
            f"{name}-provisioner-role",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=PROVISIONER_NAME, labels=labels),
            rules=[
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=[""],
                    resources=["persistentvolumes"],
                    verbs=["get", "list", "watch", "create", "delete"],
                ),
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=["storage.k8s.io"],
                    resources=["storageclasses"],
                    verbs=["get", "list", "watch"],
                ),
                k8s.rbac.v1.PolicyRuleArgs(api_groups=[""], resources=["nodes"], verbs=["get"]),
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=["", "events.k8s.io"],
                    resources=["events"],
                    verbs=["create", "update", "patch"],
                ),
            ],
            opts=opts_k8s,
        )
        k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-provisioner-binding",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=PROVISIONER_NAME, labels=labels),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=PROVISIONER_NAME
            ),
            subjects=[
                k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=PROVISIONER_NAME, namespace=NAMESPACE)
            ],
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=[cluster_role, service_account]
            ),
        )
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-provisioner-config",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=PROVISIONER_NAME, namespace=NAMESPACE, labels=labels),
            data=provisioner_config(),
            opts=in_ns,
        )
        self.provisioner = _daemon_set(
            f"{name}-provisioner",
            PROVISIONER_NAME,
            labels,
            k8s.core.v1.PodSpecArgs(
                service_account_name=PROVISIONER_NAME,
                containers=[
                    k8s.core.v1.ContainerArgs(
                        name="provisioner",
                        image=PROVISIONER_IMAGE,
                        env=[
                            k8s.core.v1.EnvVarArgs(
                                name="MY_NODE_NAME",
                                value_from=k8s.core.v1.EnvVarSourceArgs(
                                    field_ref=k8s.core.v1.ObjectFieldSelectorArgs(field_path="spec.nodeName")
                                ),
                            ),
                            k8s.core.v1.EnvVarArgs(
                                name="MY_NAMESPACE",
                                value_from=k8s.core.v1.EnvVarSourceArgs(
                                    field_ref=k8s.core.v1.ObjectFieldSelectorArgs(
                                        field_path="metadata.namespace"
                                    )
                                ),
                            ),
                        ],
                        # Not privileged (the upstream chart is): filesystem discovery with a
                        # Retain class reads mounts and statfs only. Root stays (the image's
                        # user) for reading any mount below the discovery directory.
                        security_context=_restricted(run_as_user=0),
                        resources=_resources("50m", "64Mi", "128Mi"),
                        volume_mounts=[
                            k8s.core.v1.VolumeMountArgs(
                                name="config", mount_path="/etc/provisioner/config", read_only=True
                            ),
                            k8s.core.v1.VolumeMountArgs(
                                name="discovery",
                                mount_path=DISCOVERY_DIR,
                                read_only=True,
                                # The RAID pod mounts after this pod may have started.
                                mount_propagation="HostToContainer",
                            ),
                        ],
                    )
                ],
                volumes=[
                    k8s.core.v1.VolumeArgs(
                        name="config",
                        config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=PROVISIONER_NAME),
                    ),
                    k8s.core.v1.VolumeArgs(
                        name="discovery",
                        host_path=k8s.core.v1.HostPathVolumeSourceArgs(
                            path=DISCOVERY_DIR, type="DirectoryOrCreate"
                        ),
                    ),
                ],
                **placement,
            ),
            pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                depends_on=[namespace, config_map, service_account, self.storage_class],
            ),
        )
        self.register_outputs({"storage_class": STORAGE_CLASS, "namespace": NAMESPACE})


def _daemon_set(
    resource_name: str,
    app_name: str,
    labels: dict[str, str],
    pod_spec: k8s.core.v1.PodSpecArgs,
    opts: pulumi.ResourceOptions,
) -> k8s.apps.v1.DaemonSet:
    """A DaemonSet named ``app_name`` in :data:`NAMESPACE`, selecting its pods by that name."""
    selector = {"app.kubernetes.io/name": app_name}
    return k8s.apps.v1.DaemonSet(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=app_name, namespace=NAMESPACE, labels=labels),
        spec=k8s.apps.v1.DaemonSetSpecArgs(
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels={**labels, **selector}), spec=pod_spec
            ),
        ),
        opts=opts,
    )


def _resources(cpu: str, memory: str, memory_limit: str) -> k8s.core.v1.ResourceRequirementsArgs:
    return k8s.core.v1.ResourceRequirementsArgs(
        requests={"cpu": cpu, "memory": memory}, limits={"memory": memory_limit}
    )


def _restricted(run_as_user: int) -> k8s.core.v1.SecurityContextArgs:
    return k8s.core.v1.SecurityContextArgs(
        privileged=False,
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        run_as_user=run_as_user,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
    )
