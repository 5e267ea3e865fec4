"""DMTN-125's measured Science Platform test, reproduced with the cost model.

DMTN-125 ("Google Cloud engagement results", section "LSST Science Platform / Results") reports
the charges *for the day of* a moderate scaling test (31 unique users for 2 hours):
$62.90 compute, $31.62 memory, $6.86 storage (SSD + persistent disk), $1.62 Cloud SQL,
$0.55 egress (inter-zone and Americas). It does not publish the cluster shape (the details are in
Jira DM-17298, which is not public), so this module states an assumed shape and compares.

What is a real check and what is fitted:
- compute vs memory: their ratio (31.62 / 62.90 = 0.5027) is what N1 standard machines
  (3.75 GB per vCPU) give at the list rates of the price table (3.75 x 0.004237 / 0.031611 =
  0.5026), with no sustained-use discount: this checks the per-vCPU and per-GB rates.
- the absolute compute figure depends on the assumed node count (10 x n1-standard-8 for the
  24 billed hours): an assumption, stated.
- storage, Cloud SQL and egress quantities are assumptions chosen as plausible for an LSP
  deployment of the time (boot disks + a 1 TB SSD home volume; db-n1-standard-1 with its
  10 GB minimum storage; a few GB of egress); they are not independent checks.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from idf_ops.cost.estimate import (
    CloudSqlUsage,
    DiskUsage,
    EgressUsage,
    Inventory,
    NodePoolUsage,
    cloud_sql_tier_shape,
    estimate_cost,
)
from idf_ops.cost.prices import PriceTable

__all__ = ["DMTN125_MEASURED_USD", "Dmtn125Comparison", "compare_dmtn125", "dmtn125_inventory"]

# DMTN-125, "LSST Science Platform / Results": charges for the day of the 31-user, 2-hour test.
DMTN125_MEASURED_USD: dict[str, float] = {
    "compute": 62.90,
    "memory": 31.62,
    "storage": 6.86,
    "cloud_sql": 1.62,
    "egress": 0.55,
}
DMTN125_BILLED_HOURS = 24.0  # the figures are "charges for the day of the test"
DMTN125_USERS = 31
DMTN125_TEST_HOURS = 2.0

# Assumed shape (see module docstring); every number here is an assumption, not a measurement.
ASSUMED_NODE_MACHINE_TYPE = "n1-standard-8"  # the N1 family is what GKE offered in 2018-19
ASSUMED_NODE_COUNT = 10
ASSUMED_BOOT_DISK_GB = 100  # GKE default boot disk, pd-standard at the time
ASSUMED_HOME_SSD_GB = 1000  # NFS home/scratch volume on pd-ssd ("SSD + persistent disk")
ASSUMED_CLOUDSQL_TIER = "db-n1-standard-1"
ASSUMED_CLOUDSQL_STORAGE_GB = 10  # Cloud SQL minimum
ASSUMED_INTERNET_EGRESS_GB = 4.0  # over the day; DMTN-125 does not give volumes
ASSUMED_INTER_ZONE_EGRESS_GB = 7.0


class Dmtn125Comparison(BaseModel):
    """Model vs DMTN-125, per billing line."""

    model_config = ConfigDict(extra="forbid")

    measured_usd: dict[str, float] = Field(title="Measured", description="DMTN-125 charges for the day.")
    modelled_usd: dict[str, float] = Field(title="Modelled", description="Cost model for the assumed shape.")
    difference_percent: dict[str, float] = Field(
        title="Difference %", description="(model - measured) / measured."
    )
    measured_total_usd: float = Field(title="Measured total", description="Sum of DMTN-125 lines.")
    modelled_total_usd: float = Field(title="Modelled total", description="Sum of model lines.")
    total_difference_percent: float = Field(title="Total difference %", description="Of the totals.")
    memory_to_compute_ratio_measured: float = Field(
        title="Memory/compute measured", description="31.62/62.90."
    )
    memory_to_compute_ratio_modelled: float = Field(
        title="Memory/compute modelled", description="From list rates."
    )
    assumptions: list[str] = Field(title="Assumptions", description="The assumed shape, in words.")


def dmtn125_inventory() -> Inventory:
    """The assumed deployment, as a monthly inventory (egress spread over the month)."""
    vcpus, memory_gb = cloud_sql_tier_shape(ASSUMED_CLOUDSQL_TIER)
    # Egress is a volume for the day, not a monthly rate: compare_dmtn125 prices it directly.
    return Inventory(
        stack="dmtn125-lsp-2019",
        node_pools=[
            NodePoolUsage(
                name="lsp-nodes",
                machine_type=ASSUMED_NODE_MACHINE_TYPE,
                node_count=ASSUMED_NODE_COUNT,
                boot_disk_size_gb=ASSUMED_BOOT_DISK_GB,
                boot_disk_type="pd-standard",
            )
        ],
        disks=[DiskUsage(name="home-nfs", disk_type="pd-ssd", size_gb=ASSUMED_HOME_SSD_GB)],
        cloud_sql=[
            CloudSqlUsage(
                name="lsp-db", vcpus=vcpus, memory_gb=memory_gb, storage_gb=ASSUMED_CLOUDSQL_STORAGE_GB
            )
        ],
        assumptions=[
            f"{ASSUMED_NODE_COUNT} x {ASSUMED_NODE_MACHINE_TYPE} billed for the whole day "
            f"({DMTN125_BILLED_HOURS:g} h), list price, no sustained-use discount",
            f"{ASSUMED_NODE_COUNT} x {ASSUMED_BOOT_DISK_GB} GB pd-standard boot disks + "
            f"{ASSUMED_HOME_SSD_GB} GB pd-ssd home volume",
            f"Cloud SQL {ASSUMED_CLOUDSQL_TIER} with {ASSUMED_CLOUDSQL_STORAGE_GB} GB SSD",
            f"egress over the day: {ASSUMED_INTERNET_EGRESS_GB:g} GB internet + "
            f"{ASSUMED_INTER_ZONE_EGRESS_GB:g} GB inter-zone",
        ],
    )


def compare_dmtn125(prices: PriceTable) -> Dmtn125Comparison:
    """Price the assumed deployment for the billed day and compare line by line."""
    inventory = dmtn125_inventory()
    # Egress is a volume for the day, not a rate: price it directly.
    day_egress = EgressUsage(
        internet_gb_per_month=ASSUMED_INTERNET_EGRESS_GB, inter_zone_gb_per_month=ASSUMED_INTER_ZONE_EGRESS_GB
    )
    estimate = estimate_cost(inventory, prices)
    day = DMTN125_BILLED_HOURS
    by_cat: dict[str, float] = {}
    for line in estimate.lines:
        by_cat[line.category] = by_cat.get(line.category, 0.0) + line.usd_per_hour * day
    modelled = {
        "compute": by_cat.get("compute", 0.0),
        "memory": by_cat.get("memory", 0.0),
        "storage": by_cat.get("disk", 0.0) + by_cat.get("local_ssd", 0.0),
        "cloud_sql": by_cat.get("cloud_sql", 0.0),
        "egress": day_egress.internet_gb_per_month * prices.egress_usd_per_gb.internet.usd
        + day_egress.inter_zone_gb_per_month * prices.egress_usd_per_gb.inter_zone.usd,
    }
    diff = {k: 100.0 * (modelled[k] - v) / v for k, v in DMTN125_MEASURED_USD.items()}
    measured_total = sum(DMTN125_MEASURED_USD.values())
    modelled_total = sum(modelled.values())
    fam = prices.machine_families[prices.machine(ASSUMED_NODE_MACHINE_TYPE).family]
    shape = prices.machine(ASSUMED_NODE_MACHINE_TYPE)
    ratio_model = (shape.memory_gb * fam.memory_usd_per_gb_hour.usd) / (
        shape.vcpus * fam.vcpu_usd_per_hour.usd
    )
    return Dmtn125Comparison(
        measured_usd=dict(DMTN125_MEASURED_USD),
        modelled_usd=modelled,
        difference_percent=diff,
        measured_total_usd=measured_total,
        modelled_total_usd=modelled_total,
        total_difference_percent=100.0 * (modelled_total - measured_total) / measured_total,
        memory_to_compute_ratio_measured=DMTN125_MEASURED_USD["memory"] / DMTN125_MEASURED_USD["compute"],
        memory_to_compute_ratio_modelled=ratio_model,
        assumptions=inventory.assumptions,
    )
