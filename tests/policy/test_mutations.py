"""Every policy catches a resource broken on purpose: one case per mutation, the policy in the id.

Each case starts from the compliant baseline (which has zero violations, checked first), applies
one mutation, and expects exactly the named policy to fire on the mutated resource (plus, where
stated, the other policies whose meaning the same change breaks too).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from infra.policy.rules import POLICIES, evaluate_inventory, parse_expires_at
from policy.baseline import baseline_inventory, urn
from support.stacks import STACKS

Inventory = list[dict[str, Any]]

BUCKET = "gcp:storage/bucket:Bucket"
SQL = "gcp:sql/databaseInstance:DatabaseInstance"
CLUSTER = "gcp:container/cluster:Cluster"
POOL = "gcp:container/nodePool:NodePool"
FIREWALL = "gcp:compute/firewall:Firewall"
DAEMONSET = "kubernetes:apps/v1:DaemonSet"
QSERV = "kubernetes:qserv.lsst.org/v1beta1:Qserv"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
RAID, PROVISIONER = 0, 1  # DaemonSets of the scale stack's baseline, in order
DYNAMIC = "pulumi-python:dynamic:Resource"
# What infra/qserv_operator.py's VerifiedOperatorManifest declares (a compliant pin, broken below).
OPERATOR_MANIFEST = {
    "version": "2024.5.1-rc7",
    "url": "https://raw.githubusercontent.com/lsst/qserv-operator/2024.5.1-rc7/manifests/operator-ns-scoped.yaml",
    "sha256": "0" * 64,
    "operator_namespace": "qserv-operator",
    "watch_namespace": "qserv",
}


@dataclass(frozen=True)
class Mutation:
    policy: str
    case: str
    mutate: Callable[[Inventory, str], str]  # returns the URN of the offending resource
    stack: str = "dp01"
    also: frozenset[str] = frozenset()  # other policies the same change rightly breaks


def _first(inventory: Inventory, resource_type: str, index: int = 0) -> dict[str, Any]:
    return [r for r in inventory if r["type"] == resource_type][index]


def _set(resource_type: str, path: str, value: Any, index: int = 0) -> Callable[[Inventory, str], str]:
    def mutate(inventory: Inventory, _stack: str) -> str:
        resource = _first(inventory, resource_type, index)
        node = resource["inputs"]
        *parents, leaf = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        if value is _DELETE:
            node.pop(leaf, None)
        else:
            node[leaf] = value
        return str(resource["urn"])

    return mutate


def _protect(resource_type: str, protect: bool) -> Callable[[Inventory, str], str]:
    def mutate(inventory: Inventory, _stack: str) -> str:
        resource = _first(inventory, resource_type)
        resource["protect"] = protect
        return str(resource["urn"])

    return mutate


def _ignore_changes(resource_type: str, paths: list[str]) -> Callable[[Inventory, str], str]:
    def mutate(inventory: Inventory, _stack: str) -> str:
        resource = _first(inventory, resource_type)
        resource["ignore_changes"] = paths
        return str(resource["urn"])

    return mutate


# A digest-pinned image (the digest is made up: the policy reads its shape).
PINNED_IMAGE = "python:3.11-slim-bookworm@sha256:" + "ab" * 32


# A placeholder of no entropy (the secret scan flags real-looking keys); its place is what the policy reads.
_FAKE_KEY = "not-a-key"


def _job(image: str, service_account: str | None, env: dict[str, str] | None = None) -> dict[str, Any]:
    """A Job in the butler namespace (batch/v1 wire format)."""
    container: dict[str, Any] = {"name": "main", "image": image}
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in env.items()]
    pod: dict[str, Any] = {"restartPolicy": "Never", "containers": [container]}
    if service_account is not None:
        pod["serviceAccountName"] = service_account
    return {
        "metadata": {"name": "bootstrap", "namespace": "butler"},
        "spec": {"template": {"spec": pod}},
    }


def _fuse_job() -> dict[str, Any]:
    """A compliant Job that mounts a bucket through the Cloud Storage FUSE CSI driver."""
    job = _job(image=PINNED_IMAGE, service_account="bootstrap")
    job["spec"]["template"]["spec"]["volumes"] = [
        {
            "name": "staging",
            "csi": {"driver": "gcsfuse.csi.storage.gke.io", "readOnly": True, "volumeAttributes": {}},
        }
    ]
    return job


def _add(
    resource_type: str, name: str, inputs: dict[str, Any], *, with_identity: bool = False
) -> Callable[[Inventory, str], str]:
    """Add one resource (and, ``with_identity``, the Workload Identity service account its pod names)."""

    def mutate(inventory: Inventory, stack: str) -> str:
        if with_identity:
            account = "kubernetes:core/v1:ServiceAccount"
            inventory.append(
                {
                    "type": account,
                    "name": f"{name}-ksa",
                    "urn": urn(stack, account, f"{name}-ksa"),
                    "inputs": {
                        "metadata": {
                            "name": "bootstrap",
                            "namespace": "butler",
                            "annotations": {"iam.gke.io/gcp-service-account": f"bootstrap@{stack}.example"},
                        }
                    },
                }
            )
        resource = {
            "type": resource_type,
            "name": name,
            "urn": urn(stack, resource_type, name),
            "inputs": json.loads(json.dumps(inputs).replace("STACK", stack)),
        }
        inventory.append(resource)
        return str(resource["urn"])

    return mutate


def _copy_as(resource_type: str, index: int, name: str, namespace: str) -> Callable[[Inventory, str], str]:
    """The same workload under another name/namespace: an allowance must not follow the spec."""

    def mutate(inventory: Inventory, stack: str) -> str:
        copy = json.loads(json.dumps(_first(inventory, resource_type, index)))
        copy["inputs"]["metadata"].update(name=name, namespace=namespace)
        copy["name"] = f"{stack}-{name}"
        copy["urn"] = urn(stack, resource_type, copy["name"])
        inventory.append(copy)
        return str(copy["urn"])

    return mutate


def _drop(resource_type: str, index: int, report_on: str) -> Callable[[Inventory, str], str]:
    """Remove a resource; the violation is expected on the first `report_on` resource."""

    def mutate(inventory: Inventory, _stack: str) -> str:
        inventory.remove(_first(inventory, resource_type, index))
        return str(_first(inventory, report_on)["urn"])

    return mutate


def _add_ssd_to_pool(inventory: Inventory, _stack: str) -> str:
    _first(inventory, POOL)["inputs"]["nodeConfig"]["localNvmeSsdBlockConfig"] = {"localSsdCount": 4.0}
    return str(_first(inventory, QSERV)["urn"])


def _add_protected_bucket(inventory: Inventory, stack: str) -> str:
    """A bucket compliant with every bucket policy (and protected): only its stack is wrong."""
    name = f"{stack}-ingest-scratch"
    resource = {
        "type": BUCKET,
        "name": name,
        "urn": urn(stack, BUCKET, name),
        "protect": True,
        "inputs": {
            "location": "US-CENTRAL1",
            "uniformBucketLevelAccess": True,
            "publicAccessPrevention": "enforced",
            "labels": {"stack": stack, "owner": "rubin-idf"},
            "versioning": {"enabled": True},
        },
    }
    inventory.append(resource)
    return str(resource["urn"])


def _scratch_bucket(change: Callable[[dict[str, Any]], None]) -> Callable[[Inventory, str], str]:
    """Change the scale stack's scratch staging bucket (the one bucket a scale stack may have)."""

    def mutate(inventory: Inventory, _stack: str) -> str:
        resource = next(r for r in inventory if r["inputs"].get("labels", {}).get("role") == "scale-staging")
        change(resource["inputs"])
        return str(resource["urn"])

    return mutate


def _dp01_bucket_called_scratch(inventory: Inventory, stack: str) -> str:
    """A serving stack's bucket labelled and shaped like a scratch bucket: the exception is for scale
    stacks only, so force_destroy and no protect are still refused."""
    resource = _first(inventory, BUCKET)
    resource["inputs"]["labels"]["role"] = "scale-staging"
    resource["inputs"]["forceDestroy"] = True
    resource["inputs"]["versioning"] = {"enabled": False}
    resource["inputs"]["lifecycleRules"] = [{"action": {"type": "Delete"}, "condition": {"age": 7}}]
    return str(resource["urn"])


_DELETE = object()
SA = "serviceAccount:ci@rubin-idf-STACK.iam.gserviceaccount.com"
LABELS = {"stack": "STACK", "owner": "rubin-idf"}

RAID_SPEC = "spec.template.spec"


def _tap_namespace_without_egress_policy(inventory: Inventory, stack: str) -> str:
    """A `tap` namespace whose pods' egress nothing limits (tests/policy/test_tap_egress.py has more)."""
    name = "ns-tap"
    inventory.append(
        {
            "type": "kubernetes:core/v1:Namespace",
            "name": name,
            "urn": urn(stack, "kubernetes:core/v1:Namespace", name),
            "inputs": {"metadata": {"name": "tap"}},
            "protect": False,
            "ignore_changes": [],
        }
    )
    return urn(stack, "kubernetes:core/v1:Namespace", name)


MUTATIONS = [
    Mutation("tap-egress-denies-internal", "no-policy", _tap_namespace_without_egress_policy),
    Mutation(
        "bucket-no-public-members",
        "iam-member-allUsers",
        _add(
            "gcp:storage/bucketIAMMember:BucketIAMMember",
            "public-read",
            {"bucket": "b", "role": "roles/storage.objectViewer", "member": "allUsers"},
        ),
    ),
    Mutation(
        "bucket-no-public-members",
        "iam-binding-allAuthenticatedUsers",
        _add(
            "gcp:storage/bucketIAMBinding:BucketIAMBinding",
            "public-binding",
            {
                "bucket": "b",
                "role": "roles/storage.objectViewer",
                "members": ["group:dp0@lsst.cloud", "allAuthenticatedUsers"],
            },
        ),
    ),
    Mutation(
        "bucket-no-public-members",
        "iam-policy-allUsers",
        _add(
            "gcp:storage/bucketIAMPolicy:BucketIAMPolicy",
            "public-policy",
            {
                "bucket": "b",
                "policyData": json.dumps(
                    {"bindings": [{"role": "roles/storage.objectViewer", "members": ["allUsers"]}]}
                ),
            },
        ),
    ),
    Mutation(
        "bucket-no-public-members",
        "acl-allUsers",
        _add(
            "gcp:storage/bucketAccessControl:BucketAccessControl",
            "public-acl",
            {"bucket": "b", "role": "READER", "entity": "allUsers"},
        ),
    ),
    Mutation(
        "bucket-no-public-members", "predefined-acl-publicRead", _set(BUCKET, "predefinedAcl", "publicRead")
    ),
    Mutation(
        "bucket-public-access-prevention", "inherited", _set(BUCKET, "publicAccessPrevention", "inherited")
    ),
    Mutation("bucket-public-access-prevention", "unset", _set(BUCKET, "publicAccessPrevention", _DELETE)),
    Mutation("bucket-uniform-access", "false", _set(BUCKET, "uniformBucketLevelAccess", False)),
    Mutation(
        "cloudsql-no-public-ip", "ipv4-enabled", _set(SQL, "settings.ipConfiguration.ipv4Enabled", True)
    ),
    Mutation(
        "cloudsql-no-public-ip", "ipv4-unset", _set(SQL, "settings.ipConfiguration.ipv4Enabled", _DELETE)
    ),
    Mutation(
        "cloudsql-no-public-ip",
        "no-private-network",
        _set(SQL, "settings.ipConfiguration.privateNetwork", _DELETE),
    ),
    Mutation(
        "cloudsql-no-public-ip",
        "authorized-anywhere",
        _set(SQL, "settings.ipConfiguration.authorizedNetworks", [{"value": "0.0.0.0/0"}]),
    ),
    Mutation(
        "cloudsql-ssl-required",
        "allow-unencrypted",
        _set(SQL, "settings.ipConfiguration.sslMode", "ALLOW_UNENCRYPTED_AND_ENCRYPTED"),
    ),
    Mutation("cloudsql-ssl-required", "unset", _set(SQL, "settings.ipConfiguration.sslMode", _DELETE)),
    Mutation(
        "cloudsql-backups-pitr", "backups-off", _set(SQL, "settings.backupConfiguration.enabled", False)
    ),
    Mutation(
        "cloudsql-backups-pitr",
        "pitr-off",
        _set(SQL, "settings.backupConfiguration.pointInTimeRecoveryEnabled", False),
    ),
    Mutation("cloudsql-deletion-protection", "dp01-off", _set(SQL, "deletionProtection", False)),
    Mutation("cloudsql-deletion-protection", "dp02-unset", _set(SQL, "deletionProtection", _DELETE), "dp02"),
    Mutation(
        "cloudsql-deletion-protection",
        "gcp-side-off",
        _set(SQL, "settings.deletionProtectionEnabled", False),
    ),
    Mutation("bucket-no-force-destroy", "on", _set(BUCKET, "forceDestroy", True)),
    Mutation("bucket-no-force-destroy", "on-dp02", _set(BUCKET, "forceDestroy", True), "dp02"),
    Mutation(
        "gke-private-nodes", "public-nodes", _set(CLUSTER, "privateClusterConfig.enablePrivateNodes", False)
    ),
    Mutation("stateful-resources-protected", "registry-unprotected", _protect(SQL, False)),
    Mutation("stateful-resources-protected", "bucket-unprotected-dp02", _protect(BUCKET, False), "dp02"),
    Mutation("gke-private-nodes", "no-private-config", _set(CLUSTER, "privateClusterConfig", _DELETE)),
    Mutation("gke-workload-identity", "no-pool", _set(CLUSTER, "workloadIdentityConfig", _DELETE)),
    Mutation("gke-workload-identity", "bad-pool", _set(CLUSTER, "workloadIdentityConfig.workloadPool", "x")),
    Mutation("gke-shielded-nodes", "off", _set(CLUSTER, "enableShieldedNodes", False)),
    Mutation("gke-no-legacy-abac", "on", _set(CLUSTER, "enableLegacyAbac", True)),
    Mutation("gke-no-legacy-abac", "unset", _set(CLUSTER, "enableLegacyAbac", _DELETE)),
    Mutation(
        "gke-no-client-certificate",
        "issued",
        _set(CLUSTER, "masterAuth.clientCertificateConfig.issueClientCertificate", True),
    ),
    Mutation("gke-no-client-certificate", "unset", _set(CLUSTER, "masterAuth", _DELETE)),
    Mutation("gke-no-default-node-pool", "kept", _set(CLUSTER, "removeDefaultNodePool", False)),
    Mutation("gke-release-channel", "none", _set(CLUSTER, "releaseChannel", _DELETE)),
    Mutation("gke-release-channel", "unspecified", _set(CLUSTER, "releaseChannel.channel", "UNSPECIFIED")),
    Mutation(
        "serving-stacks-highly-available", "zonal-control-plane", _set(CLUSTER, "location", "us-central1-b")
    ),
    Mutation(
        "serving-stacks-highly-available",
        "zonal-registry-dp02",
        _set(SQL, "settings.availabilityType", "ZONAL"),
        "dp02",
    ),
    Mutation(
        "gke-master-authorized-networks", "none", _set(CLUSTER, "masterAuthorizedNetworksConfig", _DELETE)
    ),
    Mutation(
        "gke-master-authorized-networks",
        "anywhere",
        _set(CLUSTER, "masterAuthorizedNetworksConfig.cidrBlocks", [{"cidrBlock": "0.0.0.0/0"}]),
    ),
    Mutation("nodepool-auto-repair-upgrade", "no-repair", _set(POOL, "management.autoRepair", False)),
    Mutation("nodepool-auto-repair-upgrade", "no-upgrade", _set(POOL, "management.autoUpgrade", _DELETE)),
    Mutation(
        "nodepool-secure-boot", "off", _set(POOL, "nodeConfig.shieldedInstanceConfig.enableSecureBoot", False)
    ),
    Mutation("nodepool-secure-boot", "unset", _set(POOL, "nodeConfig.shieldedInstanceConfig", _DELETE)),
    Mutation(
        "nodepool-metadata-concealed",
        "gce-metadata",
        _set(POOL, "nodeConfig.workloadMetadataConfig.mode", "GCE_METADATA"),
    ),
    Mutation(
        "nodepool-metadata-concealed",
        "legacy-endpoints-on",
        _set(POOL, "nodeConfig.metadata.disable-legacy-endpoints", "false"),
    ),
    Mutation(
        "nodepool-dedicated-service-account",
        "compute-default",
        _set(POOL, "nodeConfig.serviceAccount", "123456789012-compute@developer.gserviceaccount.com"),
    ),
    Mutation("nodepool-dedicated-service-account", "unset", _set(POOL, "nodeConfig.serviceAccount", _DELETE)),
    Mutation("nodepool-resize-in-place", "not-ignored", _ignore_changes(POOL, ["nodeCount"])),
    Mutation(
        "node-service-account-least-privilege",
        "storage-admin-on-nodes",
        _add(
            "gcp:projects/iAMMember:IAMMember",
            "nodes-storage-admin",
            {
                "project": "p",
                "role": "roles/storage.admin",
                "member": "serviceAccount:gke-nodes-STACK@rubin-idf-STACK.iam.gserviceaccount.com",
            },
        ),
    ),
    Mutation(
        "node-service-account-least-privilege",
        "bucket-binding-to-nodes",
        _add(
            "gcp:storage/bucketIAMBinding:BucketIAMBinding",
            "nodes-read-datastore",
            {
                "bucket": "b",
                "role": "roles/storage.objectViewer",
                "members": ["serviceAccount:gke-nodes-STACK@rubin-idf-STACK.iam.gserviceaccount.com"],
            },
        ),
        "dp02",
    ),
    Mutation(
        "scale-pool-expires-at",
        "scale-stack-no-expiry",
        _set(POOL, "nodeConfig.resourceLabels.expires-at", _DELETE),
        "qserv-scale75",
    ),
    Mutation(
        "scale-pool-expires-at",
        "bad-date",
        _set(POOL, "nodeConfig.resourceLabels.expires-at", "next-week"),
        "qserv-scale75",
    ),
    Mutation(
        "scale-pool-expires-at",
        "impossible-date",
        _set(POOL, "nodeConfig.resourceLabels.expires-at", "2026-02-30t00-00z"),
        "qserv-scale75",
    ),
    Mutation(
        "scale-stack-no-stateful-resources",
        "bucket-on-scale-stack",
        _add_protected_bucket,
        "qserv-scale75",
    ),
    Mutation(
        "scale-stack-no-stateful-resources",
        "scratch-bucket-never-emptied",
        _scratch_bucket(lambda inputs: inputs.pop("lifecycleRules")),
        "qserv-scale75",
        also=frozenset({"bucket-no-force-destroy", "stateful-resources-protected"}),
    ),
    Mutation(
        "scale-stack-no-stateful-resources",
        "scratch-bucket-kept-a-month",
        _scratch_bucket(lambda inputs: inputs["lifecycleRules"][0]["condition"].update(age=30)),
        "qserv-scale75",
        also=frozenset({"bucket-no-force-destroy", "stateful-resources-protected"}),
    ),
    Mutation(
        "scale-stack-no-stateful-resources",
        "scratch-bucket-versioned",
        _scratch_bucket(lambda inputs: inputs.update(versioning={"enabled": True})),
        "qserv-scale75",
        also=frozenset({"bucket-no-force-destroy", "stateful-resources-protected"}),
    ),
    Mutation(
        "bucket-no-force-destroy",
        "dp01-bucket-shaped-like-scratch",
        _dp01_bucket_called_scratch,
    ),
    Mutation(
        "scale-pool-expires-at",
        "purpose-label-on-dp01",
        _set(POOL, "nodeConfig.resourceLabels.purpose", "scale-test"),
    ),
    Mutation(
        "scale-pool-expires-at",
        "temporary-label-on-dp01",
        _set(POOL, "nodeConfig.resourceLabels.temporary", "true"),
    ),
    Mutation(
        "no-primitive-roles-for-service-accounts",
        "project-owner",
        _add(
            "gcp:projects/iAMMember:IAMMember",
            "ci-owner",
            {"project": "p", "role": "roles/owner", "member": SA},
        ),
    ),
    Mutation(
        "no-primitive-roles-for-service-accounts",
        "project-editor-binding",
        _add(
            "gcp:projects/iAMBinding:IAMBinding",
            "ci-editor",
            {"project": "p", "role": "roles/editor", "members": ["user:a@lsst.org", SA]},
        ),
    ),
    Mutation(
        "no-primitive-roles-for-service-accounts",
        "project-viewer",
        _add(
            "gcp:projects/iAMMember:IAMMember",
            "ci-viewer",
            {"project": "p", "role": "roles/viewer", "member": SA},
        ),
    ),
    Mutation(
        "no-primitive-roles-for-service-accounts",
        "bucket-owner",
        _add(
            "gcp:storage/bucketIAMMember:BucketIAMMember",
            "ci-bucket-owner",
            {"bucket": "b", "role": "roles/owner", "member": SA},
        ),
    ),
    Mutation(
        "firewall-https-only-from-internet",
        "ssh-anywhere",
        _add(
            FIREWALL,
            "allow-ssh",
            {
                "network": "idf",
                "sourceRanges": ["0.0.0.0/0"],
                "allows": [{"protocol": "tcp", "ports": ["22"]}],
            },
        ),
    ),
    Mutation(
        "firewall-https-only-from-internet",
        "qserv-4040-anywhere",
        _set(FIREWALL, "allows", [{"protocol": "tcp", "ports": ["443", "4040"]}]),
        also=frozenset({"firewall-qserv-private-only"}),
    ),
    Mutation(
        "firewall-https-only-from-internet",
        "all-protocols-ipv6",
        _add(
            FIREWALL,
            "allow-all-v6",
            {
                "network": "idf",
                "direction": "INGRESS",
                "sourceRanges": ["::/0"],
                "allows": [{"protocol": "all"}],
            },
        ),
        also=frozenset({"firewall-qserv-private-only"}),
    ),
    Mutation(
        "firewall-https-only-from-internet",
        "widened-internal-rule",
        _set(FIREWALL, "sourceRanges", ["10.0.0.0/8", "0.0.0.0/0"], index=1),
        # All ports from anywhere: the webhook ports from more than the control plane, too.
        also=frozenset({"firewall-qserv-private-only", "firewall-webhooks-from-control-plane-only"}),
    ),
    Mutation(
        "firewall-qserv-private-only",
        "frontend-from-admin-network",
        _set(FIREWALL, "sourceRanges", ["10.132.0.0/14", "140.252.0.0/16"], index=2),
    ),
    Mutation(
        "firewall-qserv-private-only",
        "port-range-from-iap",
        _add(
            FIREWALL,
            "allow-iap-range",
            {
                "network": "idf",
                "sourceRanges": ["35.235.240.0/20"],
                "allows": [{"protocol": "tcp", "ports": ["22", "4000-4100"]}],
            },
        ),
    ),
    Mutation(
        "firewall-webhooks-from-control-plane-only",
        "webhooks-from-anywhere",
        _set(FIREWALL, "sourceRanges", ["0.0.0.0/0"], index=3),
        also=frozenset({"firewall-https-only-from-internet"}),
    ),
    Mutation(
        "firewall-webhooks-from-control-plane-only",
        "webhooks-widened-to-the-vpc",
        _set(FIREWALL, "sourceRanges", ["172.16.0.0/28", "10.0.0.0/8"], index=3),
    ),
    Mutation("labels-stack-owner", "bucket-no-owner", _set(BUCKET, "labels.owner", _DELETE)),
    Mutation("labels-stack-owner", "sql-no-labels", _set(SQL, "settings.userLabels", _DELETE)),
    Mutation("labels-stack-owner", "cluster-wrong-stack", _set(CLUSTER, "resourceLabels.stack", "dp02")),
    Mutation("labels-stack-owner", "pool-no-stack", _set(POOL, "nodeConfig.resourceLabels.stack", _DELETE)),
    Mutation(
        "labels-stack-owner",
        "new-address-unlabelled",
        _add("gcp:compute/address:Address", "hub-ip", {"region": "us-central1"}),
    ),
    Mutation(
        "k8s-pod-host-access",
        "provisioner-made-privileged",
        _set(
            DAEMONSET,
            f"{RAID_SPEC}.containers",
            [{"name": "provisioner", "image": "x/p:v1", "securityContext": {"privileged": True}}],
            PROVISIONER,
        ),
        "qserv-scale75",
    ),
    Mutation(
        "k8s-pod-host-access",
        "raid-pod-adds-host-network",
        _set(DAEMONSET, f"{RAID_SPEC}.hostNetwork", True, RAID),
        "qserv-scale75",
    ),
    Mutation(
        "k8s-pod-host-access",
        "raid-pod-adds-host-root",
        _set(DAEMONSET, f"{RAID_SPEC}.volumes", [{"name": "root", "hostPath": {"path": "/"}}], RAID),
        "qserv-scale75",
    ),
    Mutation(
        "k8s-pod-host-access",
        "provisioner-host-path-writable",
        _set(
            DAEMONSET,
            f"{RAID_SPEC}.containers",
            [
                {
                    "name": "provisioner",
                    "image": "x/p:v1",
                    "volumeMounts": [{"name": "discovery", "mountPath": "/mnt/disks/raid"}],
                }
            ],
            PROVISIONER,
        ),
        "qserv-scale75",
    ),
    Mutation(
        "k8s-pod-host-access",
        "raid-spec-in-another-namespace",
        _copy_as(DAEMONSET, RAID, "qserv-local-ssd-raid", "qserv"),
        "qserv-scale75",
    ),
    Mutation(
        "k8s-pod-host-access",
        # A DaemonSet: Deployments must also pin images and use Workload Identity (another policy).
        "new-privileged-daemonset",
        _add(
            "kubernetes:apps/v1:DaemonSet",
            "debug",
            {
                "metadata": {"name": "debug", "namespace": "qserv"},
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "shell",
                                    "image": "busybox:1.36.1",
                                    "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}},
                                }
                            ]
                        }
                    }
                },
            },
        ),
    ),
    Mutation(
        "k8s-images-pinned",
        "latest-tag",
        _set(
            DAEMONSET,
            f"{RAID_SPEC}.initContainers",
            [{"name": "raid-setup", "image": "busybox:latest", "securityContext": {"privileged": True}}],
            RAID,
        ),
        "qserv-scale75",
    ),
    Mutation(
        "k8s-images-pinned",
        "no-tag-behind-registry-port",
        _add(
            "kubernetes:core/v1:Pod",
            "untagged",
            {
                "metadata": {"name": "untagged", "namespace": "qserv"},
                "spec": {"containers": [{"name": "c", "image": "registry.local:5000/tools"}]},
            },
        ),
        # A bare pod: no digest and the namespace's default service account break that rule too.
        also=frozenset({"k8s-batch-pods-pinned-workload-identity"}),
    ),
    Mutation(
        "qserv-workers-on-local-ssd",
        "scale-workers-on-pd-class",
        _set(QSERV, "spec.worker.storageClassName", "qserv"),
        "qserv-scale75",
    ),
    Mutation(
        "qserv-workers-on-local-ssd",
        "local-class-missing",
        _drop(STORAGE_CLASS, 1, QSERV),
        "qserv-scale75",
    ),
    Mutation("qserv-workers-on-local-ssd", "dp01-pool-gains-unused-ssds", _add_ssd_to_pool),
    Mutation(
        "gke-gcs-fuse-addon",
        "job-mounts-a-bucket-without-the-addon",
        _add(
            "kubernetes:batch/v1:Job",
            "ingest-over-fuse",
            _fuse_job(),
            with_identity=True,
        ),
    ),
    Mutation(
        "reaper-least-privilege",
        "destroy-role-may-delete-cloudsql",
        _add(
            "gcp:projects/iAMCustomRole:IAMCustomRole",
            "reaper-destroy-role",
            {
                "project": "rubin-idf-scale-test",
                "roleId": "idfScaleReaperDestroy",
                "permissions": ["container.clusters.delete", "cloudsql.instances.delete"],
            },
        ),
    ),
    Mutation(
        "upstream-manifests-pinned",
        "operator-manifest-without-digest",
        _add(DYNAMIC, "operator-manifest", {**OPERATOR_MANIFEST, "sha256": ""}),
    ),
    Mutation(
        "s3-keys-not-plain-text",
        "job-env-literal-s3-key",
        _add(
            "kubernetes:batch/v1:Job",
            "copy-to-ncsa",
            _job(image=PINNED_IMAGE, service_account="bootstrap", env={"AWS_SECRET_ACCESS_KEY": _FAKE_KEY}),
            with_identity=True,
        ),
    ),
    Mutation(
        "s3-keys-not-plain-text",
        "configmap-profile-url-with-keys",
        _add(
            "kubernetes:core/v1:ConfigMap",
            "butler-env",
            {
                "metadata": {"name": "butler-env", "namespace": "butler"},
                "data": {"LSST_RESOURCES_S3_PROFILE_ncsa": f"https://idf:{_FAKE_KEY}@s3.example.org"},
            },
        ),
    ),
    Mutation(
        "k8s-batch-pods-pinned-workload-identity",
        "job-image-by-tag",
        _add(
            "kubernetes:batch/v1:Job",
            "bootstrap-by-tag",
            _job(image="python:3.11-slim-bookworm", service_account="bootstrap"),
            with_identity=True,
        ),
    ),
    Mutation(
        "k8s-images-pinned",
        "job-image-all-zero-placeholder-digest",
        _add(
            "kubernetes:batch/v1:Job",
            "ingest-placeholder-digest",
            _job(image="qserv/ingest:2023.1.1-rc2@sha256:" + "0" * 64, service_account="bootstrap"),
            with_identity=True,
        ),
    ),
    Mutation(
        "k8s-batch-pods-pinned-workload-identity",
        "job-as-default-service-account",
        _add(
            "kubernetes:batch/v1:Job", "bootstrap-default-sa", _job(image=PINNED_IMAGE, service_account=None)
        ),
    ),
    Mutation(
        "k8s-batch-pods-pinned-workload-identity",
        "job-service-account-without-workload-identity",
        _add(
            "kubernetes:batch/v1:Job",
            "bootstrap-no-wi",
            _job(image=PINNED_IMAGE, service_account="bootstrap"),
        ),
    ),
    Mutation(
        "upstream-manifests-pinned",
        "operator-manifest-from-a-branch",
        _add(
            DYNAMIC,
            "operator-manifest",
            {
                **OPERATOR_MANIFEST,
                "version": "main",
                "url": "https://raw.githubusercontent.com/lsst/qserv-operator/main/manifests/operator.yaml",
            },
        ),
    ),
    Mutation(
        "upstream-manifests-pinned",
        "config-group-applies-a-url",
        _add(
            "kubernetes:yaml/v2:ConfigGroup",
            "operator-unverified",
            {
                "files": [
                    "https://raw.githubusercontent.com/lsst/qserv-operator/2024.5.1-rc7/manifests/operator.yaml"
                ]
            },
        ),
    ),
    Mutation(
        "upstream-manifests-pinned",
        "helm-chart-version-range",
        _add(
            "kubernetes:helm.sh/v3:Release",
            "argocd",
            {
                "chart": "argo-cd",
                "version": "^7.0.0",
                "repositoryOpts": {"repo": "https://argoproj.github.io/argo-helm"},
            },
        ),
    ),
]


@pytest.mark.parametrize("stack", STACKS)
def test_baseline_is_compliant(stack: str) -> None:
    violations = evaluate_inventory(baseline_inventory(stack))
    assert violations == [], "\n".join(map(str, violations))


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[f"{m.policy}::{m.case}" for m in MUTATIONS])
def test_mutation_is_caught(mutation: Mutation) -> None:
    inventory = baseline_inventory(mutation.stack)
    offender = mutation.mutate(inventory, mutation.stack)
    violations = evaluate_inventory(inventory)
    assert violations, f"{mutation.policy} missed the mutation {mutation.case}"
    fired = {v.policy for v in violations}
    assert fired == {mutation.policy, *mutation.also}, "\n".join(map(str, violations))
    assert {v.urn for v in violations} == {offender}
    # The failure message names the resource, so a person can find it.
    assert all(offender in str(v) for v in violations)


def test_every_policy_has_a_mutation() -> None:
    assert {p.name for p in POLICIES} == {m.policy for m in MUTATIONS}


def test_dev_may_drop_its_registry() -> None:
    inventory = baseline_inventory("dev")
    _set(SQL, "deletionProtection", False)(inventory, "dev")
    _set(SQL, "settings.deletionProtectionEnabled", False)(inventory, "dev")
    _protect(SQL, False)(inventory, "dev")
    _set(BUCKET, "forceDestroy", True)(inventory, "dev")
    assert evaluate_inventory(inventory) == []


@pytest.mark.parametrize("stack", ["dev", "qserv-scale75"])
def test_dev_and_scale_stacks_may_be_zonal(stack: str) -> None:
    inventory = baseline_inventory(stack)
    _set(CLUSTER, "location", "us-central1-b")(inventory, stack)
    if stack == "dev":
        _set(SQL, "settings.availabilityType", "ZONAL")(inventory, stack)
    assert evaluate_inventory(inventory) == []


def test_provider_default_labels_count() -> None:
    inventory = baseline_inventory("dp01")
    del _first(inventory, BUCKET)["inputs"]["labels"]
    assert {v.policy for v in evaluate_inventory(inventory)} == {"labels-stack-owner"}
    assert (
        evaluate_inventory(inventory, provider_props={"defaultLabels": {"stack": "dp01", "owner": "x"}}) == []
    )


@pytest.mark.parametrize(
    ("label", "parsed"),
    [
        ("2026-12-15", "2026-12-15T00:00:00+00:00"),
        ("2026-12-15t06-30z", "2026-12-15T06:30:00+00:00"),
        ("2026-12-15T06:30:00Z", None),
        ("2026-13-01", None),
        ("tomorrow", None),
    ],
)
def test_expires_at_label_format(label: str, parsed: str | None) -> None:
    result = parse_expires_at(label)
    assert (result.isoformat() if result else None) == parsed


def test_a_pinned_operator_manifest_and_exact_chart_pass() -> None:
    inventory = baseline_inventory("dp01")
    _add(DYNAMIC, "operator-manifest", OPERATOR_MANIFEST)(inventory, "dp01")
    _add("kubernetes:helm.sh/v3:Release", "argocd", {"chart": "argo-cd", "version": "7.7.10"})(
        inventory, "dp01"
    )
    _add("kubernetes:yaml/v2:ConfigGroup", "operator", {"yaml": "kind: Namespace"})(inventory, "dp01")
    assert evaluate_inventory(inventory) == []
