"""A hand-written, compliant inventory in the mock engine's shape (pulumi-gcp type tokens, camelCase
inputs), one per stack: the base that the mutation tests break one setting at a time.

It mirrors what the IDF program declares (bucket, registry, cluster, pools, firewall, IAM); the
zero-violation tests on the real program use ``idf_ops.plan`` instead (test_stacks.py).
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["baseline_inventory", "urn"]

PROJECT = "idf"


def urn(stack: str, resource_type: str, name: str) -> str:
    """A Pulumi URN for a top-level resource."""
    return f"urn:pulumi:{stack}::{PROJECT}::{resource_type}::{name}"


STATEFUL = {"gcp:storage/bucket:Bucket", "gcp:sql/databaseInstance:DatabaseInstance"}


def _resource(
    stack: str, resource_type: str, name: str, inputs: dict[str, Any], ignore_changes: list[str] | None = None
) -> dict[str, Any]:
    return {
        "type": resource_type,
        "name": name,
        "urn": urn(stack, resource_type, name),
        "inputs": inputs,
        "protect": resource_type in STATEFUL,
        "ignore_changes": ignore_changes or [],
    }


def _pod_template(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}}, "spec": spec},
    }


def _kubernetes(stack: str, local_ssd: bool) -> list[dict[str, Any]]:
    """The Qserv CR and its classes; with local SSD, the two DaemonSets of infra/qserv_local_ssd.py."""
    worker_pool = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {
                                "key": "cloud.google.com/gke-nodepool",
                                "operator": "In",
                                "values": [f"{stack}-qserv-workers"],
                            }
                        ]
                    }
                ]
            }
        }
    }
    worker_class = "qserv-local-ssd" if local_ssd else "qserv"
    resources = [
        _resource(
            stack,
            "kubernetes:storage.k8s.io/v1:StorageClass",
            f"{stack}-qserv-storage",
            {"metadata": {"name": "qserv"}, "provisioner": "pd.csi.storage.gke.io"},
        ),
        _resource(
            stack,
            "kubernetes:qserv.lsst.org/v1beta1:Qserv",
            f"{stack}-qserv",
            {
                "metadata": {"name": "qserv", "namespace": "qserv"},
                "spec": {
                    "image": "qserv/lite-qserv:2024.1.1-rc1",
                    "storageClassName": "qserv",
                    "czar": {"replicas": 1, "storage": "4096Gi", "storageClassName": "qserv"},
                    "worker": {
                        "replicas": 5,
                        "storage": "6158Gi",
                        "storageClassName": worker_class,
                        "affinity": worker_pool,
                    },
                },
            },
        ),
    ]
    if not local_ssd:
        return resources
    ssd_nodes = {
        "nodeSelector": {
            "cloud.google.com/gke-nodepool": f"{stack}-qserv-workers",
            "cloud.google.com/gke-local-nvme-ssd": "true",
        }
    }
    return [
        *resources,
        _resource(
            stack,
            "kubernetes:storage.k8s.io/v1:StorageClass",
            f"{stack}-local-ssd",
            {
                "metadata": {"name": "qserv-local-ssd"},
                "provisioner": "kubernetes.io/no-provisioner",
                "volumeBindingMode": "WaitForFirstConsumer",
            },
        ),
        _resource(
            stack,
            "kubernetes:apps/v1:DaemonSet",
            f"{stack}-raid",
            {
                "metadata": {"name": "qserv-local-ssd-raid", "namespace": "qserv-local-ssd"},
                "spec": _pod_template(
                    "raid",
                    {
                        **ssd_nodes,
                        "hostPID": True,
                        "initContainers": [
                            {
                                "name": "raid-setup",
                                "image": "busybox:1.36.1",
                                "securityContext": {"privileged": True},
                            }
                        ],
                        "containers": [
                            {
                                "name": "pause",
                                "image": "registry.k8s.io/pause:3.10",
                                "securityContext": {"allowPrivilegeEscalation": False},
                            }
                        ],
                    },
                ),
            },
        ),
        _resource(
            stack,
            "kubernetes:apps/v1:DaemonSet",
            f"{stack}-provisioner",
            {
                "metadata": {"name": "qserv-local-ssd-provisioner", "namespace": "qserv-local-ssd"},
                "spec": _pod_template(
                    "provisioner",
                    {
                        **ssd_nodes,
                        "containers": [
                            {
                                "name": "provisioner",
                                "image": "registry.k8s.io/sig-storage/local-volume-provisioner:v2.9.0",
                                "volumeMounts": [
                                    {"name": "discovery", "mountPath": "/mnt/disks/raid", "readOnly": True}
                                ],
                            }
                        ],
                        "volumes": [{"name": "discovery", "hostPath": {"path": "/mnt/disks/raid"}}],
                    },
                ),
            },
        ),
    ]


def baseline_inventory(stack: str) -> list[dict[str, Any]]:
    """A compliant inventory for ``stack`` (a fresh deep copy each call)."""
    labels = {"stack": stack, "owner": "rubin-idf"}
    node_account = f"gke-nodes-{stack}@rubin-idf-{stack}.iam.gserviceaccount.com"
    pool_labels = dict(labels)
    # The scale stack keeps Qserv worker data on local NVMe SSD; the serving stacks on persistent disk.
    local_ssd = stack.startswith("qserv-scale")
    if stack.startswith("qserv-scale"):
        pool_labels["expires-at"] = "2026-12-15t00-00z"
    resources = [
        _resource(
            stack,
            "gcp:storage/bucket:Bucket",
            f"{stack}-butler-datastore",
            {
                "location": "US-CENTRAL1",
                "uniformBucketLevelAccess": True,
                "publicAccessPrevention": "enforced",
                "labels": dict(labels),
                "versioning": {"enabled": True},
                "forceDestroy": False,
            },
        ),
        _resource(
            stack,
            "gcp:storage/bucketIAMMember:BucketIAMMember",
            f"{stack}-butler-reader",
            {
                "bucket": f"{stack}-butler-datastore",
                "role": "roles/storage.objectViewer",
                "member": f"serviceAccount:butler-reader@rubin-idf-{stack}.iam.gserviceaccount.com",
            },
        ),
        _resource(
            stack,
            "gcp:sql/databaseInstance:DatabaseInstance",
            f"{stack}-butler-registry",
            {
                "databaseVersion": "POSTGRES_15",
                "region": "us-central1",
                "deletionProtection": True,
                "settings": {
                    "tier": "db-custom-4-26624",
                    "userLabels": dict(labels),
                    "availabilityType": "REGIONAL",
                    "deletionProtectionEnabled": True,
                    "ipConfiguration": {
                        "ipv4Enabled": False,
                        "privateNetwork": "projects/p/global/networks/idf",
                        "sslMode": "ENCRYPTED_ONLY",
                    },
                    "backupConfiguration": {"enabled": True, "pointInTimeRecoveryEnabled": True},
                },
            },
        ),
        _resource(
            stack,
            "gcp:container/cluster:Cluster",
            f"{stack}-gke",
            {
                "location": "us-central1",
                "removeDefaultNodePool": True,
                "initialNodeCount": 1.0,
                "privateClusterConfig": {
                    "enablePrivateNodes": True,
                    "enablePrivateEndpoint": False,
                    "masterIpv4CidrBlock": "172.16.0.0/28",
                },
                "workloadIdentityConfig": {"workloadPool": f"rubin-idf-{stack}.svc.id.goog"},
                "enableShieldedNodes": True,
                "enableLegacyAbac": False,
                "masterAuth": {"clientCertificateConfig": {"issueClientCertificate": False}},
                "releaseChannel": {"channel": "STABLE"},
                "masterAuthorizedNetworksConfig": {
                    "cidrBlocks": [{"cidrBlock": "140.252.0.0/16", "displayName": "rubin-admin"}]
                },
                "resourceLabels": dict(labels),
            },
        ),
        _resource(
            stack,
            "gcp:container/nodePool:NodePool",
            f"{stack}-qserv-workers",
            {
                "cluster": f"{stack}-gke",
                "initialNodeCount": 5.0,
                "name": f"{stack}-qserv-workers",
                "management": {"autoRepair": True, "autoUpgrade": True},
                "nodeConfig": {
                    "machineType": "n2-standard-16",
                    "resourceLabels": dict(pool_labels),
                    "labels": {"idf.lsst.cloud/role": "qserv-worker"},
                    "serviceAccount": node_account,
                    "shieldedInstanceConfig": {"enableSecureBoot": True},
                    "workloadMetadataConfig": {"mode": "GKE_METADATA"},
                    "metadata": {"disable-legacy-endpoints": "true"},
                    **({"localNvmeSsdBlockConfig": {"localSsdCount": 24.0}} if local_ssd else {}),
                },
            },
            ignore_changes=["initialNodeCount"],
        ),
        *_kubernetes(stack, local_ssd),
        _resource(
            stack,
            "gcp:compute/firewall:Firewall",
            f"{stack}-allow-https",
            {
                "network": "idf",
                "direction": "INGRESS",
                "sourceRanges": ["0.0.0.0/0"],
                "allows": [{"protocol": "tcp", "ports": ["443"]}],
            },
        ),
        _resource(
            stack,
            "gcp:compute/firewall:Firewall",
            f"{stack}-allow-internal",
            {
                "network": "idf",
                "direction": "INGRESS",
                "sourceRanges": ["10.0.0.0/8"],
                "allows": [{"protocol": "tcp", "ports": ["0-65535"]}],
            },
        ),
        _resource(
            stack,
            "gcp:compute/firewall:Firewall",
            f"{stack}-allow-qserv-frontend",
            {
                "network": "idf",
                "direction": "INGRESS",
                "sourceRanges": ["10.132.0.0/14"],
                "allows": [{"protocol": "tcp", "ports": ["4040"]}],
                "targetTags": ["qserv-czar"],
            },
        ),
        _resource(
            stack,
            "gcp:compute/firewall:Firewall",
            f"{stack}-allow-control-plane-webhooks",
            {
                "network": "idf",
                "direction": "INGRESS",
                "sourceRanges": ["172.16.0.0/28"],
                "allows": [{"protocol": "tcp", "ports": ["9443", "10250"]}],
                "targetTags": [f"{stack}-nodes"],
            },
        ),
        _resource(
            stack,
            "gcp:projects/iAMMember:IAMMember",
            f"{stack}-butler-sql-client",
            {
                "project": f"rubin-idf-{stack}",
                "role": "roles/cloudsql.client",
                "member": f"serviceAccount:butler@rubin-idf-{stack}.iam.gserviceaccount.com",
            },
        ),
        _resource(
            stack,
            "gcp:projects/iAMMember:IAMMember",
            f"{stack}-gke-nodes-log-writer",
            {
                "project": f"rubin-idf-{stack}",
                "role": "roles/logging.logWriter",
                "member": f"serviceAccount:{node_account}",
            },
        ),
        _resource(stack, "gcp:serviceaccount/account:Account", f"{stack}-butler", {"accountId": "butler"}),
    ]
    if stack.startswith("qserv-scale"):
        # A scale stack holds no data of its own: it references dp01's Butler (infra/config.py).
        stateful = {
            "gcp:storage/bucket:Bucket",
            "gcp:storage/bucketIAMMember:BucketIAMMember",
            "gcp:sql/databaseInstance:DatabaseInstance",
        }
        resources = [r for r in resources if r["type"] not in stateful]
        # ...but its scratch staging bucket (infra/storage.py scratch_bucket), destroyed with it.
        scratch = _resource(
            stack,
            "gcp:storage/bucket:Bucket",
            f"idf-{stack}-scale-staging",
            {
                "name": f"rubin-idf-{stack}-staging",
                "location": "US-CENTRAL1",
                "uniformBucketLevelAccess": True,
                "publicAccessPrevention": "enforced",
                "forceDestroy": True,
                "versioning": {"enabled": False},
                "lifecycleRules": [{"action": {"type": "Delete"}, "condition": {"age": 7}}],
                "labels": {**labels, "role": "scale-staging"},
            },
        )
        scratch["protect"] = False
        resources.append(scratch)
    return copy.deepcopy(resources)
