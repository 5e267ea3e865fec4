"""What a stack bills for, read from its typed configuration (`infra.config.StackConfig`).

This module owns the translation of a stack's configuration into a cost :class:`Inventory`, and
the rules for what the configuration does not say:

- node pools are billed at `min_nodes` (the always-on floor) or `max_nodes` (the autoscaler's
  ceiling), as asked;
- Qserv volumes: the czar's (`idf:qserv.czar_storage_gb`) is a persistent disk of
  `storage_disk_type`; the workers' follow `idf:qserv.worker_volume`, as the program deploys
  them: on `local-nvme-ssd` they are the RAID-0 of the worker pool's local SSDs, already billed
  with the pool (no disk line, an assumption says so); on `persistent-disk` they are PD volumes;
- bucket contents and egress are not in a stack file: they are given by the operator
  (`--bucket-gb ROLE=GB`, `--egress-gb`), and the estimate lists what was assumed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from idf_core.errors import BadInput
from idf_ops.cost.estimate import (
    BucketUsage,
    CloudSqlUsage,
    DiskUsage,
    EgressUsage,
    Inventory,
    NodePoolUsage,
    cloud_sql_tier_shape,
)

if TYPE_CHECKING:
    from infra.config import StackConfig

__all__ = ["inventory_from_stack"]

LOCAL_SSD_PARTITION_GB = 375


def inventory_from_stack(
    cfg: StackConfig,
    *,
    nodes_at: Literal["min", "max"] = "min",
    bucket_gb: dict[str, float] | None = None,
    internet_egress_gb_per_month: float = 0.0,
) -> Inventory:
    """Build the billable inventory of a stack from its validated configuration."""
    bucket_gb = dict(bucket_gb or {})
    assumptions: list[str] = [f"node pools billed at {nodes_at}_nodes, 24 h a day"]
    pools = [
        NodePoolUsage(
            name=key,
            machine_type=pool.machine_type,
            node_count=pool.min_nodes if nodes_at == "min" else pool.max_nodes,
            local_ssd_count=pool.local_nvme_ssd_count,
            boot_disk_size_gb=pool.disk_size_gb,
            boot_disk_type=pool.disk_type,
        )
        for key, pool in cfg.node_pools.items()
    ]

    disks: list[DiskUsage] = []
    if cfg.qserv is not None:
        q = cfg.qserv
        disks.append(
            DiskUsage(
                name="qserv-czar-volume",
                disk_type=q.storage_disk_type,
                size_gb=q.czar_storage_gb * q.czar_replicas,
            )
        )
        worker_pool = cfg.node_pools.get(q.worker_pool)
        local_gb = worker_pool.local_nvme_ssd_count * LOCAL_SSD_PARTITION_GB if worker_pool else 0
        if q.worker_volume == "local-nvme-ssd":
            # Config validation guarantees the claim fits the pool's RAID-0 of local SSDs.
            assumptions.append(
                f"Qserv worker data ({q.worker_storage_gb} GiB/worker) on the worker pool's local NVMe "
                f"SSD RAID-0 ({local_gb} GB/node, class qserv-local-ssd): billed as the pool's local "
                "SSD, no persistent disk"
            )
        else:
            disks.append(
                DiskUsage(
                    name="qserv-worker-volumes",
                    disk_type=q.storage_disk_type,
                    size_gb=q.worker_storage_gb * q.worker_replicas,
                )
            )

    sql: list[CloudSqlUsage] = []
    if cfg.cloudsql is not None:
        vcpus, memory_gb = cloud_sql_tier_shape(
            cfg.cloudsql.tier, where=f"{cfg.source}: config.idf:cloudsql.tier"
        )
        sql.append(
            CloudSqlUsage(
                name=cfg.cloudsql.instance_name,
                vcpus=vcpus,
                memory_gb=memory_gb,
                storage_gb=cfg.cloudsql.disk_size_gb,
                high_availability=cfg.cloudsql.high_availability,
            )
        )

    unknown = sorted(set(bucket_gb) - set(cfg.buckets))
    if unknown:
        raise BadInput(
            f"--bucket-gb: {cfg.stack} has no bucket role {unknown[0]!r}; "
            f"its roles are: {', '.join(cfg.buckets) or '(none)'}"
        )
    buckets: list[BucketUsage] = []
    for role in cfg.buckets:
        if role in bucket_gb:
            buckets.append(BucketUsage(name=role, storage_class="STANDARD", stored_gb=bucket_gb[role]))
            assumptions.append(f"bucket {role}: {bucket_gb[role]:,.0f} GB in STANDARD (given)")
        else:
            assumptions.append(f"bucket {role}: contents unknown, not priced (give --bucket-gb {role}=GB)")
    if internet_egress_gb_per_month:
        assumptions.append(f"internet egress {internet_egress_gb_per_month:,.0f} GB/month (given)")
    else:
        assumptions.append("egress not priced (give --egress-gb GB per month)")

    return Inventory(
        stack=cfg.stack,
        gke_clusters=[cfg.gke.cluster_name],
        node_pools=pools,
        disks=disks,
        cloud_sql=sql,
        buckets=buckets,
        egress=EgressUsage(internet_gb_per_month=internet_egress_gb_per_month),
        assumptions=assumptions,
    )
