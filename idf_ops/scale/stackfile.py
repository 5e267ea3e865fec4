"""The `qserv-scale75` stack file, generated from the sizing model.

This module owns the mapping sizing result -> stack file document (`stacks/Pulumi.<stack>.yaml`)
in the typed shape of `infra.config` (the infra owner's model), and the check that a committed
stack file still matches the model (:func:`stack_drift`). Rules it follows:

- `idf:meta.temporary: true` and every node pool `temporary` with the same `expires_at`
  (the Pulumi program labels them `purpose=scale-test`, `owner`, `expires-at`);
- every pool has `zone_fallbacks` (capacity stockouts: terraform-provider-google #3304, #4116);
  `idf scale up` retries in them when the preferred zone is exhausted;
- no `idf:cloudsql`, no `idf:buckets`: the Butler is referenced read-only from dp01, so the scale
  stack never declares nor touches another stack's stateful resources;
- fixed node counts (min = max = the model's worker count): a scale test measures a known size;
- `idf:scale_catalog`: the generator's Indexed Job (percent, parallel pods = the sizing model's
  generator cores, the time `pulumi up` waits for it); its output goes to the stack's scratch bucket,
  which the program creates in the scale-test project and destroys with the stack, objects and all
  (``idf_core.qserv_ingest.scale_staging_uri``, ``infra.storage.scratch_bucket``); it is not declared
  under `idf:buckets`, which stays for a serving stack's data.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from idf_core.errors import BadInput
from idf_ops.cost.prices import PriceTable
from idf_ops.scale.sizing import SizingResult
from infra.config import validate_config_mapping

__all__ = [
    "DEFAULT_FALLBACK_ZONES",
    "DEFAULT_OWNER",
    "DEFAULT_PRIMARY_ZONE",
    "generation_timeout_hours",
    "normalized_config",
    "render_stack_document",
    "stack_drift",
]

DEFAULT_PROJECT = "rubin-idf-scale-test"
DEFAULT_REGION = "us-central1"
DEFAULT_PRIMARY_ZONE = "us-central1-b"
DEFAULT_FALLBACK_ZONES = ("us-central1-c", "us-central1-f")
DEFAULT_OWNER = "dm-qserv"
# dp01's Butler, read-only (stacks/Pulumi.dp01.yaml idf:buckets.butler_datastore / idf:cloudsql).
DP01_BUTLER_REFERENCE = {
    "repo_uri": "gs://rubin-idf-dp01-butler-datastore/repo",
    "readonly_config": "gs://rubin-idf-dp01-butler-datastore/repo/butler-readonly.yaml",
    "registry_host": "butler-registry-dp01.idf.internal",
    "registry_database": "butler_registry",
}
# The billing account every stack file names (stacks/Pulumi.dp01.yaml idf:budget); an id, not a secret.
BILLING_ACCOUNT_ID = "01A2B3-C4D5E6-F7A8B9"
UTILITY_NODES = 1
CZAR_BOOT_DISK_GB = 200
WORKER_BOOT_DISK_GB = 200
# Namespace quota headroom over the pods' requests (Kubernetes system pods, the replication system).
QUOTA_HEADROOM = 1.1
# Margin of the generator Job's wait over the modelled generation time (rates measured on 2 cores here).
GENERATION_TIMEOUT_FACTOR = 1.5


def _iso(expires_at: datetime) -> str:
    return expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_stack_document(
    sizing: SizingResult,
    prices: PriceTable,
    *,
    stack: str,
    expires_at: datetime,
    owner: str = DEFAULT_OWNER,
    project: str = DEFAULT_PROJECT,
    primary_zone: str = DEFAULT_PRIMARY_ZONE,
    fallback_zones: tuple[str, ...] = DEFAULT_FALLBACK_ZONES,
    run_usd: float | None = None,
) -> dict[str, Any]:
    """The stack file mapping for a sized Qserv scale test."""
    if expires_at.tzinfo is None:
        raise BadInput("--expires-at: needs a time zone (e.g. 2026-12-15T00:00:00Z)")
    expiry = _iso(expires_at)
    workers = sizing.workers
    common = {"zone_fallbacks": list(fallback_zones), "temporary": True, "expires_at": expiry}

    def pool(role: str, machine_type: str, nodes: int, tier: str, **extra: Any) -> dict[str, Any]:
        return {
            "role": role,
            "machine_type": machine_type,
            "min_nodes": nodes,
            "max_nodes": nodes,
            **extra,
            "zones": [primary_zone],
            **common,
            "labels": {"tier": tier},
        }

    storage_gb = math.ceil(sizing.data_per_worker_gb)
    doc: dict[str, Any] = {
        "config": {
            "gcp:project": project,
            "gcp:region": DEFAULT_REGION,
            "idf:meta": {
                "environment": stack,
                "data_preview": "none",
                "owner": owner,
                "temporary": True,
                "labels": {"purpose": "scale-test"},
            },
            "idf:network": {
                "subnet_cidr": "10.176.0.0/20",
                "pods_cidr": "10.180.0.0/14",
                "services_cidr": "10.184.0.0/20",
                "master_cidr": "172.16.0.48/28",
                "firewall_rules": [
                    {
                        "name": "qserv-frontend",
                        "description": "Qserv czar proxy from the load generators' pods only",
                        "protocol": "tcp",
                        "ports": [4040],
                        "source_ranges": ["10.180.0.0/14"],
                        "target_tags": ["qserv-czar"],
                    }
                ],
            },
            "idf:gke": {
                "cluster_name": f"idf-{stack}",
                "location_type": "zonal",
                "zone": primary_zone,
                "node_zones": [primary_zone],
                "release_channel": "REGULAR",
                "deletion_protection": False,
                "master_authorized_networks": [{"display_name": "rubin-networks", "cidr": "139.229.0.0/16"}],
            },
            "idf:node_pools": {
                "qserv_utility": pool("utility", sizing.utility_machine_type, UTILITY_NODES, "utils"),
                "qserv_czar": pool(
                    "qserv-czar",
                    sizing.czar_machine_type,
                    1,
                    "czar",
                    disk_size_gb=CZAR_BOOT_DISK_GB,
                    taints=[{"key": "idf.lsst.io/qserv", "value": "czar", "effect": "NO_SCHEDULE"}],
                ),
                "qserv_worker": pool(
                    "qserv-worker",
                    sizing.inputs.worker_machine_type,
                    workers,
                    "worker",
                    disk_size_gb=WORKER_BOOT_DISK_GB,
                    local_nvme_ssd_count=sizing.inputs.local_ssd_count,
                    taints=[{"key": "idf.lsst.io/qserv", "value": "worker", "effect": "NO_SCHEDULE"}],
                ),
            },
            "idf:butler_reference": dict(DP01_BUTLER_REFERENCE),
            "idf:qserv": {
                "czar_pool": "qserv_czar",
                "worker_pool": "qserv_worker",
                "worker_replicas": workers,
                "czar_storage_gb": sizing.czar_disk_gb,
                # Chunk data per worker; it lives on the pool's local NVMe SSDs (see docs/sizing.md).
                "worker_storage_gb": storage_gb,
            },
            "idf:kubernetes": {"namespaces": {"qserv": _qserv_quota(sizing, prices)}},
            # The generator's Indexed Job on the workers, then the ingest (infra/qserv_ingest.py).
            "idf:scale_catalog": {
                "percent_of_dr1": sizing.inputs.percent_of_dr1,
                "parallelism": sizing.generation_cores,
                "timeout_hours": generation_timeout_hours(sizing),
            },
        }
    }
    if run_usd is not None:
        # A budget alert on the run's planned cost: 25% steps up to the plan, then 125% (overrun).
        doc["config"]["idf:budget"] = {
            "billing_account_id": BILLING_ACCOUNT_ID,
            "amount_usd_per_month": max(1000, math.ceil(run_usd / 1000.0) * 1000),
            "alert_thresholds_percent": [25, 50, 75, 100, 125],
        }
    return doc


def generation_timeout_hours(sizing: SizingResult) -> float:
    """How long `pulumi up` waits for the generator Job: 1.5 x the modelled hours, whole, at least 1."""
    return float(max(1, math.ceil(sizing.generation_hours * GENERATION_TIMEOUT_FACTOR)))


def _qserv_quota(sizing: SizingResult, prices: PriceTable) -> dict[str, int]:
    """Namespace quota: every worker and the czar may use their whole node, plus headroom; pods also
    for the generator's parallel pods."""
    worker = prices.machine(sizing.inputs.worker_machine_type)
    czar = prices.machine(sizing.czar_machine_type)
    cpu = math.ceil((sizing.workers * worker.vcpus + czar.vcpus) * QUOTA_HEADROOM)
    mem = math.ceil((sizing.workers * worker.memory_gb + czar.memory_gb) * QUOTA_HEADROOM)
    # The generator's pods run in the Qserv namespace too, while Qserv is up (idf:scale_catalog).
    return {"cpu": cpu, "memory_gib": mem, "pods": max(100, 4 * sizing.workers) + sizing.generation_cores}


def normalized_config(doc: dict[str, Any], *, stack: str, source: str) -> dict[str, Any]:
    """A stack file mapping as the typed model sees it (defaults filled, dates as ISO text).

    Comparing normalized configs makes a committed file written by `infra.config.dump_stack_file`
    (defaults omitted) equal to the model's rendering (defaults spelled out).
    """
    cfg = validate_config_mapping(doc, source, stack)
    return {"config": cfg.model_dump(by_alias=True, mode="json")}


def stack_drift(committed: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """Key paths where a committed stack file differs from the model's rendering.

    `expires_at` values are compared for presence only: the committed file carries the expiry of
    the run it was rendered for.
    """
    drift: list[str] = []

    def walk(a: Any, b: Any, path: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b), key=str):
                sub = f"{path}.{key}" if path else str(key)
                if key not in a:
                    drift.append(f"{sub}: missing from the committed file")
                elif key not in b:
                    drift.append(f"{sub}: not produced by the sizing model")
                elif key == "expires_at":
                    continue
                else:
                    walk(a[key], b[key], sub)
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{path}[{i}]")
        elif a != b:
            drift.append(f"{path}: committed {a!r}, model {b!r}")

    walk(committed, expected, "")
    return drift
