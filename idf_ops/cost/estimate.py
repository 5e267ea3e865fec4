"""Cost estimates: a priced bill of materials, broken down by resource.

This module owns the arithmetic from an :class:`Inventory` (what a stack bills for: clusters, node
pools, disks, Cloud SQL instances, buckets, egress) to :class:`CostEstimate` lines in USD per hour
and per month, using a :class:`~idf_ops.cost.prices.PriceTable`. It knows nothing about stack
files: :mod:`idf_ops.cost.inventory` builds an Inventory from a stack's typed config.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from idf_core.errors import BadInput
from idf_ops.cost.prices import GcsClass, PriceTable

__all__ = [
    "BucketUsage",
    "CloudSqlUsage",
    "CostEstimate",
    "CostLine",
    "DiskUsage",
    "EgressUsage",
    "Inventory",
    "NodePoolUsage",
    "cloud_sql_tier_shape",
    "estimate_cost",
]

Category = Literal["compute", "memory", "local_ssd", "disk", "cloud_sql", "storage", "egress", "cluster_fee"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NodePoolUsage(_Model):
    """A GKE node pool as billed: machines, their local SSD and boot disks."""

    name: str = Field(title="Name", description="Node pool name.")
    machine_type: str = Field(title="Machine type", description="GCE machine type of every node.")
    node_count: int = Field(ge=0, title="Nodes", description="Nodes billed (the pool's planned size).")
    local_ssd_count: int = Field(
        default=0, ge=0, title="Local SSD partitions", description="375 GB partitions per node."
    )
    boot_disk_size_gb: int = Field(
        default=100, ge=0, title="Boot disk (GB)", description="Boot disk per node."
    )
    boot_disk_type: Literal["pd-standard", "pd-balanced", "pd-ssd"] = Field(
        default="pd-balanced", title="Boot disk type", description="Persistent disk type of boot disks."
    )


class DiskUsage(_Model):
    """A persistent disk (e.g. a PersistentVolume of the Qserv czar)."""

    name: str = Field(title="Name", description="Disk or volume name.")
    disk_type: Literal["pd-standard", "pd-balanced", "pd-ssd"] = Field(title="Type", description="Disk type.")
    size_gb: float = Field(
        ge=0, title="Size (GB)", description="Provisioned size; billed whether used or not."
    )


class CloudSqlUsage(_Model):
    """A Cloud SQL instance."""

    name: str = Field(title="Name", description="Instance name.")
    vcpus: int = Field(gt=0, title="vCPUs", description="Dedicated vCPUs.")
    memory_gb: float = Field(gt=0, title="Memory (GB)", description="Memory.")
    storage_gb: float = Field(ge=0, title="Storage (GB)", description="Provisioned SSD storage.")
    high_availability: bool = Field(default=False, title="HA", description="Regional (standby) instance.")


class BucketUsage(_Model):
    """A Cloud Storage bucket and the data it is expected to hold."""

    name: str = Field(title="Name", description="Bucket role or name.")
    storage_class: GcsClass = Field(title="Storage class", description="GCS storage class.")
    stored_gb: float = Field(ge=0, title="Stored (GB)", description="Average data held over the month.")
    source: str = Field(default="", title="Source", description="Where the size came from.")


class EgressUsage(_Model):
    """Expected network egress."""

    internet_gb_per_month: float = Field(
        default=0, ge=0, title="Internet egress (GB/month)", description="To users."
    )
    inter_zone_gb_per_month: float = Field(
        default=0, ge=0, title="Inter-zone egress (GB/month)", description="Between zones of the region."
    )


class Inventory(_Model):
    """Everything a stack bills for."""

    stack: str = Field(title="Stack", description="Stack name.")
    gke_clusters: list[str] = Field(default_factory=list, title="GKE clusters", description="Cluster names.")
    node_pools: list[NodePoolUsage] = Field(
        default_factory=list, title="Node pools", description="Node pools."
    )
    disks: list[DiskUsage] = Field(default_factory=list, title="Disks", description="Persistent disks.")
    cloud_sql: list[CloudSqlUsage] = Field(default_factory=list, title="Cloud SQL", description="Instances.")
    buckets: list[BucketUsage] = Field(default_factory=list, title="Buckets", description="Buckets.")
    egress: EgressUsage = Field(default_factory=EgressUsage, title="Egress", description="Expected egress.")
    assumptions: list[str] = Field(
        default_factory=list,
        title="Assumptions",
        description="Quantities not in the config that were assumed.",
    )


class CostLine(_Model):
    """One priced line of the bill."""

    resource: str = Field(title="Resource", description="What is billed (pool/disk/instance name).")
    category: Category = Field(title="Category", description="Billing category.")
    detail: str = Field(title="Detail", description="Quantity x unit price, in words.")
    usd_per_hour: float = Field(title="USD per hour", description="Hourly cost.")
    usd_per_month: float = Field(
        title="USD per month", description="Monthly cost (hours_per_month x hourly)."
    )


class CostEstimate(_Model):
    """A stack's estimate: lines, totals per category and overall."""

    stack: str = Field(title="Stack", description="Stack name.")
    price_table: str = Field(title="Price table", description="Region and compile date of the prices used.")
    lines: list[CostLine] = Field(title="Lines", description="Priced lines.")
    usd_per_hour: float = Field(title="Total USD per hour", description="Sum of lines.")
    usd_per_month: float = Field(title="Total USD per month", description="Sum of lines.")
    by_category_usd_per_month: dict[str, float] = Field(
        title="By category", description="Monthly total per category."
    )
    assumptions: list[str] = Field(title="Assumptions", description="Quantities assumed, not configured.")
    unsourced_prices: list[str] = Field(
        title="Unsourced prices", description="Price keys this estimate used that no stored page confirmed."
    )

    def usd_for_hours(self, hours: float) -> float:
        """Cost of running the whole stack for `hours` hours."""
        return self.usd_per_hour * hours


_CUSTOM_TIER = re.compile(r"^db-custom-(\d+)-(\d+)$")
_N1_TIER = re.compile(r"^db-n1-(standard|highmem)-(\d+)$")


def cloud_sql_tier_shape(tier: str, *, where: str = "tier") -> tuple[int, float]:
    """vCPUs and memory (GB) of a Cloud SQL tier: db-custom-V-MiB or db-n1-standard/highmem-V."""
    if m := _CUSTOM_TIER.match(tier):
        return int(m.group(1)), int(m.group(2)) / 1024
    if m := _N1_TIER.match(tier):
        vcpus = int(m.group(2))
        return vcpus, vcpus * (3.75 if m.group(1) == "standard" else 6.5)
    raise BadInput(
        f"{where}: Cloud SQL tier {tier!r} is not priced (dedicated-core tiers only: "
        "db-custom-<vCPUs>-<MiB> or db-n1-standard-<vCPUs>); use one of those."
    )


def _price_node_pool(
    pool: NodePoolUsage, prices: PriceTable, add: Callable[[str, Category, str, float], None], used: set[str]
) -> None:
    """Lines of one node pool: vCPUs, memory, local SSD, boot disks."""
    hpm = prices.hours_per_month
    where = f"node pool {pool.name}.machine_type"
    shape = prices.machine(pool.machine_type, where=where)
    if pool.local_ssd_count > shape.max_local_ssd_count:
        raise BadInput(
            f"node pool {pool.name}.local_ssd_count: {pool.local_ssd_count} partitions, but "
            f"{pool.machine_type} accepts at most {shape.max_local_ssd_count}; lower it or change type."
        )
    n = pool.node_count
    used.update(
        {
            f"machine_families.{shape.family}.vcpu_usd_per_hour",
            f"machine_families.{shape.family}.memory_usd_per_gb_hour",
        }
    )
    cpu = prices.machine_vcpu_usd_per_hour(pool.machine_type)
    mem = prices.machine_memory_usd_per_hour(pool.machine_type)
    add(pool.name, "compute", f"{n} x {pool.machine_type} vCPUs ({shape.vcpus}) at ${cpu:.6f}/h", n * cpu)
    add(pool.name, "memory", f"{n} x {shape.memory_gb:g} GB at ${mem:.6f}/h", n * mem)
    if pool.local_ssd_count:
        used.add("local_ssd_usd_per_gb_month")
        ssd_gb = n * pool.local_ssd_count * prices.local_ssd_partition_gb
        rate = prices.local_ssd_usd_per_gb_month.usd
        add(pool.name, "local_ssd", f"{ssd_gb:,} GB local SSD at ${rate}/GB-month", ssd_gb * rate / hpm)
    if pool.boot_disk_size_gb:
        used.add(f"disks_usd_per_gb_month.{pool.boot_disk_type}")
        boot_gb = n * pool.boot_disk_size_gb
        rate = prices.disks_usd_per_gb_month[pool.boot_disk_type].usd
        add(
            pool.name,
            "disk",
            f"{boot_gb:,} GB {pool.boot_disk_type} boot at ${rate}/GB-month",
            boot_gb * rate / hpm,
        )


def estimate_cost(inventory: Inventory, prices: PriceTable) -> CostEstimate:
    """Price every resource of an inventory."""
    hpm = prices.hours_per_month
    lines: list[CostLine] = []
    used: set[str] = set()  # price-table keys this estimate relied on

    def add(resource: str, category: Category, detail: str, usd_per_hour: float) -> None:
        lines.append(
            CostLine(
                resource=resource,
                category=category,
                detail=detail,
                usd_per_hour=usd_per_hour,
                usd_per_month=usd_per_hour * hpm,
            )
        )

    fee = prices.gke_cluster_usd_per_hour.usd
    for cluster in inventory.gke_clusters:
        used.add("gke_cluster_usd_per_hour")
        add(cluster, "cluster_fee", f"1 cluster x ${fee}/h", fee)

    for pool in inventory.node_pools:
        _price_node_pool(pool, prices, add, used)

    for disk in inventory.disks:
        used.add(f"disks_usd_per_gb_month.{disk.disk_type}")
        rate = prices.disks_usd_per_gb_month[disk.disk_type].usd
        add(
            disk.name,
            "disk",
            f"{disk.size_gb:,.0f} GB {disk.disk_type} at ${rate}/GB-month",
            disk.size_gb * rate / hpm,
        )

    sql = prices.cloud_sql
    for inst in inventory.cloud_sql:
        used.update(
            f"cloud_sql.{k}"
            for k in ("vcpu_usd_per_hour", "memory_usd_per_gb_hour", "ssd_storage_usd_per_gb_month")
        )
        factor = sql.ha_multiplier if inst.high_availability else 1.0
        compute = inst.vcpus * sql.vcpu_usd_per_hour.usd + inst.memory_gb * sql.memory_usd_per_gb_hour.usd
        storage = inst.storage_gb * sql.ssd_storage_usd_per_gb_month.usd / hpm
        ha = " x HA" if inst.high_availability else ""
        add(inst.name, "cloud_sql", f"{inst.vcpus} vCPU + {inst.memory_gb:g} GB{ha}", compute * factor)
        add(inst.name, "cloud_sql", f"{inst.storage_gb:,.0f} GB SSD storage{ha}", storage * factor)

    for bucket in inventory.buckets:
        used.add(f"gcs_usd_per_gb_month.{bucket.storage_class}")
        rate = prices.gcs_usd_per_gb_month[bucket.storage_class].usd
        add(
            bucket.name,
            "storage",
            f"{bucket.stored_gb:,.0f} GB {bucket.storage_class} at ${rate}/GB-month"
            + (f" ({bucket.source})" if bucket.source else ""),
            bucket.stored_gb * rate / hpm,
        )

    eg = inventory.egress
    if eg.internet_gb_per_month:
        used.add("egress_usd_per_gb.internet")
        rate = prices.egress_usd_per_gb.internet.usd
        add(
            "egress",
            "egress",
            f"{eg.internet_gb_per_month:,.1f} GB/month internet at ${rate}/GB",
            eg.internet_gb_per_month * rate / hpm,
        )
    if eg.inter_zone_gb_per_month:
        used.add("egress_usd_per_gb.inter_zone")
        rate = prices.egress_usd_per_gb.inter_zone.usd
        add(
            "egress",
            "egress",
            f"{eg.inter_zone_gb_per_month:,.1f} GB/month inter-zone at ${rate}/GB",
            eg.inter_zone_gb_per_month * rate / hpm,
        )

    by_category: dict[str, float] = {}
    for line in lines:
        by_category[line.category] = by_category.get(line.category, 0.0) + line.usd_per_month
    total_hour = math.fsum(line.usd_per_hour for line in lines)
    return CostEstimate(
        stack=inventory.stack,
        price_table=f"{prices.region} list prices compiled {prices.compiled_on.isoformat()}",
        lines=lines,
        usd_per_hour=total_hour,
        usd_per_month=total_hour * hpm,
        by_category_usd_per_month=by_category,
        assumptions=list(inventory.assumptions),
        unsourced_prices=[key for key in prices.unsourced_keys() if key in used],
    )
