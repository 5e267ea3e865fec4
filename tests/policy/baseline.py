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


def _resource(stack: str, resource_type: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"type": resource_type, "name": name, "urn": urn(stack, resource_type, name), "inputs": inputs,
            "protect": resource_type in STATEFUL}


def baseline_inventory(stack: str) -> list[dict[str, Any]]:
    """A compliant inventory for ``stack`` (a fresh deep copy each call)."""
    labels = {"stack": stack, "owner": "rubin-idf"}
    pool_labels = dict(labels)
    if stack.startswith("qserv-scale"):
        pool_labels["expires-at"] = "2026-12-15t00-00z"
    resources = [
        _resource(stack, "gcp:storage/bucket:Bucket", f"{stack}-butler-datastore", {
            "location": "US-CENTRAL1", "uniformBucketLevelAccess": True,
            "publicAccessPrevention": "enforced", "labels": dict(labels),
            "versioning": {"enabled": True},
        }),
        _resource(stack, "gcp:storage/bucketIAMMember:BucketIAMMember", f"{stack}-butler-reader", {
            "bucket": f"{stack}-butler-datastore", "role": "roles/storage.objectViewer",
            "member": f"serviceAccount:butler-reader@rubin-idf-{stack}.iam.gserviceaccount.com",
        }),
        _resource(stack, "gcp:sql/databaseInstance:DatabaseInstance", f"{stack}-butler-registry", {
            "databaseVersion": "POSTGRES_15", "region": "us-central1",
            "deletionProtection": True,
            "settings": {
                "tier": "db-custom-4-26624", "userLabels": dict(labels),
                "ipConfiguration": {"ipv4Enabled": False, "privateNetwork": "projects/p/global/networks/idf",
                                    "sslMode": "ENCRYPTED_ONLY"},
                "backupConfiguration": {"enabled": True, "pointInTimeRecoveryEnabled": True},
            },
        }),
        _resource(stack, "gcp:container/cluster:Cluster", f"{stack}-gke", {
            "location": "us-central1", "removeDefaultNodePool": True, "initialNodeCount": 1.0,
            "privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": False,
                                     "masterIpv4CidrBlock": "172.16.0.0/28"},
            "workloadIdentityConfig": {"workloadPool": f"rubin-idf-{stack}.svc.id.goog"},
            "enableShieldedNodes": True, "enableLegacyAbac": False,
            "masterAuthorizedNetworksConfig": {"cidrBlocks": [
                {"cidrBlock": "140.252.0.0/16", "displayName": "rubin-admin"}]},
            "resourceLabels": dict(labels),
        }),
        _resource(stack, "gcp:container/nodePool:NodePool", f"{stack}-qserv-workers", {
            "cluster": f"{stack}-gke", "nodeCount": 5.0,
            "management": {"autoRepair": True, "autoUpgrade": True},
            "nodeConfig": {"machineType": "n2-standard-16", "resourceLabels": dict(pool_labels),
                           "labels": {"idf.lsst.cloud/role": "qserv-worker"}},
        }),
        _resource(stack, "gcp:compute/firewall:Firewall", f"{stack}-allow-https", {
            "network": "idf", "direction": "INGRESS", "sourceRanges": ["0.0.0.0/0"],
            "allows": [{"protocol": "tcp", "ports": ["443"]}],
        }),
        _resource(stack, "gcp:compute/firewall:Firewall", f"{stack}-allow-internal", {
            "network": "idf", "direction": "INGRESS", "sourceRanges": ["10.0.0.0/8"],
            "allows": [{"protocol": "tcp", "ports": ["0-65535"]}],
        }),
        _resource(stack, "gcp:projects/iAMMember:IAMMember", f"{stack}-butler-sql-client", {
            "project": f"rubin-idf-{stack}", "role": "roles/cloudsql.client",
            "member": f"serviceAccount:butler@rubin-idf-{stack}.iam.gserviceaccount.com",
        }),
        _resource(stack, "gcp:serviceaccount/account:Account", f"{stack}-butler", {"accountId": "butler"}),
    ]
    return copy.deepcopy(resources)
