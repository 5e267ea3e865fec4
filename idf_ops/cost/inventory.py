"""What a stack bills for, read from its typed configuration (`infra.config.StackConfig`).

This module owns the translation of a stack's configuration into a cost :class:`Inventory`, and
the rules for what the configuration does not say:

- node pools are billed at `min_nodes` (the always-on floor) or `max_nodes` (the autoscaler's
  ceiling), as asked;
- Qserv volumes: the czar's (`idf:qserv.czar_storage_gb`) is a persistent disk of
  `storage_disk_type`; the workers' follow `idf:qserv.worker_volume`, as the program deploys
  them: on `local-nvme-ssd` they are the RAID-0 of the worker pool's local SSDs, already billed
  with the pool (no disk line, an assumption says so); on `persistent-disk` they are PD volumes;
- buckets hold their `expected_size_gb`, else the documented default of their role for the
  stack's data preview (:mod:`idf_ops.cost.volumes`), else `--bucket-gb ROLE=GB`; the source of
  each size is in the estimate line. Data is written once (a data preview is a frozen snapshot,
  seed §2.1.2) and moves as the bucket's lifecycle rules say: STANDARD until
  `nearline_after_days`, NEARLINE until `coldline_after_days`, COLDLINE after, gone after
  `delete_after_days`. A month is priced as the average over a horizon (default the first 365
  days of the preview), one line per class;
- egress is given by the operator (`--egress-gb`), and the estimate lists what was assumed.
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
from idf_ops.cost.volumes import default_bucket_size

if TYPE_CHECKING:
    from infra.config import StackConfig
    from infra.config.models import BucketConfig

__all__ = ["class_days", "inventory_from_stack"]

#: Days over which a bucket's lifecycle is averaged into a monthly price (the preview's first year).
STORAGE_HORIZON_DAYS = 365


def class_days(bucket: BucketConfig, horizon_days: int = STORAGE_HORIZON_DAYS) -> dict[str, int]:
    """Days of the horizon that data written on day 0 spends in each storage class."""
    end = min(horizon_days, bucket.delete_after_days or horizon_days)
    edges = [
        ("STANDARD", 0),
        ("NEARLINE", bucket.nearline_after_days),
        ("COLDLINE", bucket.coldline_after_days),
    ]
    starts = [(cls, day) for cls, day in edges if day is not None]
    days: dict[str, int] = {}
    for i, (cls, start) in enumerate(starts):
        stop = min(end, starts[i + 1][1]) if i + 1 < len(starts) else end
        if stop > start:
            days[cls] = min(stop, end) - start
    return days


LOCAL_SSD_PARTITION_GB = 375


def inventory_from_stack(
    cfg: StackConfig,
    *,
    nodes_at: Literal["min", "max"] = "min",
    bucket_gb: dict[str, float] | None = None,
    internet_egress_gb_per_month: float = 0.0,
    horizon_days: int = STORAGE_HORIZON_DAYS,
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
    buckets = _buckets(cfg, bucket_gb, horizon_days, assumptions)
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


def _buckets(
    cfg: StackConfig, bucket_gb: dict[str, float], horizon_days: int, assumptions: list[str]
) -> list[BucketUsage]:
    """One line per storage class of each bucket (module docstring); assumptions say what was used."""
    buckets: list[BucketUsage] = []
    for role, bucket in cfg.buckets.items():
        if role in bucket_gb:
            size_gb, source = bucket_gb[role], "given with --bucket-gb"
        elif bucket.expected_size_gb is not None:
            size_gb, source = bucket.expected_size_gb, "stack config expected_size_gb"
        else:
            default = default_bucket_size(role, cfg.meta.data_preview)
            if default.gb is None:
                assumptions.append(
                    f"bucket {role}: not priced, {default.source} (or give --bucket-gb {role}=GB)"
                )
                continue
            size_gb, source = default.gb, default.source
        days = class_days(bucket, horizon_days)
        for storage_class, in_class in days.items():
            buckets.append(
                BucketUsage(
                    name=role,
                    storage_class=storage_class,  # type: ignore[arg-type]  # keys of class_days
                    stored_gb=size_gb * in_class / horizon_days,
                    source=f"{size_gb:,.0f} GB, {in_class} of {horizon_days} days in "
                    f"{storage_class}; {source}",
                )
            )
        assumptions.append(f"bucket {role}: {size_gb:,.0f} GB ({source}), lifecycle days {days}")
    return buckets
