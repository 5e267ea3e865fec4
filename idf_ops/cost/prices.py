"""The dated price table: its typed model and its loader.

This module owns `data/prices/<region>.yaml`: what a price entry is (a USD value, the source it
came from, and how it was checked), and the arithmetic that turns a machine type into an hourly
price (Google's resource-based billing: vCPUs x vCPU rate + GB x memory rate). No other module
reads the YAML file.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from idf_core.errors import BadInput
from idf_core.paths import REPO_ROOT

__all__ = [
    "DEFAULT_PRICE_FILE",
    "GcsClass",
    "MachineType",
    "PriceTable",
    "Rate",
    "load_price_table",
]

DEFAULT_PRICE_FILE = REPO_ROOT / "data" / "prices" / "gcp-us-central1.yaml"

GcsClass = Literal["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"]
DiskType = Literal["pd-standard", "pd-balanced", "pd-ssd"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rate(_Model):
    """One list price with its provenance."""

    usd: float = Field(ge=0, title="Price (USD)", description="Price in US dollars per the unit of the key.")
    source: str = Field(title="Source", description="Key into the table's `sources`.")
    checked: Literal["published", "derived", "secondary", "unsourced"] = Field(
        title="How checked",
        description="published: on the cited Google page; derived: computed from published rates; "
        "secondary: a third-party page quoting Google; unsourced: not confirmed, re-check.",
    )


class FamilyRates(_Model):
    """Per-vCPU and per-GB hourly rates of a machine family."""

    vcpu_usd_per_hour: Rate = Field(title="vCPU rate", description="USD per vCPU-hour.")
    memory_usd_per_gb_hour: Rate = Field(title="Memory rate", description="USD per GB-hour of memory.")


class MachineType(_Model):
    """The shape of a predefined machine type."""

    family: str = Field(title="Family", description="Machine family key (n1, n2, e2).")
    vcpus: int = Field(gt=0, title="vCPUs", description="Virtual CPUs.")
    memory_gb: float = Field(gt=0, title="Memory (GB)", description="Memory in GB (GiB, Google's unit).")
    max_local_ssd_count: int = Field(
        ge=0, title="Max local SSD partitions", description="375 GB local SSD partitions the type accepts."
    )


class CloudSqlRates(_Model):
    """Cloud SQL (Enterprise edition, dedicated core) rates."""

    vcpu_usd_per_hour: Rate = Field(title="vCPU rate", description="USD per vCPU-hour.")
    memory_usd_per_gb_hour: Rate = Field(title="Memory rate", description="USD per GB-hour.")
    ssd_storage_usd_per_gb_month: Rate = Field(title="SSD storage", description="USD per GB-month.")
    ha_multiplier: float = Field(
        ge=1, title="HA multiplier", description="Cost factor of a regional (HA) instance."
    )


class EgressRates(_Model):
    """Network egress rates."""

    internet: Rate = Field(
        title="Internet egress", description="USD per GB to the internet (premium tier, first TiB)."
    )
    inter_zone: Rate = Field(title="Inter-zone egress", description="USD per GB between zones of a region.")


class PriceTable(_Model):
    """A dated list-price table for one region."""

    region: str = Field(title="Region", description="GCP region the prices apply to.")
    currency: Literal["USD"] = Field(title="Currency", description="Always USD.")
    compiled_on: date = Field(title="Compiled on", description="Date the table was compiled (ISO).")
    hours_per_month: float = Field(
        gt=0, title="Hours per month", description="Hourly -> monthly factor (730)."
    )
    sources: dict[str, str] = Field(title="Sources", description="Source key -> where the numbers came from.")
    machine_families: dict[str, FamilyRates] = Field(title="Machine families", description="Family -> rates.")
    machine_types: dict[str, MachineType] = Field(title="Machine types", description="Name -> shape.")
    local_ssd_usd_per_gb_month: Rate = Field(title="Local SSD", description="USD per GB-month of local SSD.")
    local_ssd_partition_gb: int = Field(gt=0, title="Local SSD partition (GB)", description="375 on GCE.")
    disks_usd_per_gb_month: dict[DiskType, Rate] = Field(
        title="Persistent disks", description="Type -> rate."
    )
    cloud_sql: CloudSqlRates = Field(title="Cloud SQL", description="Cloud SQL rates.")
    gcs_usd_per_gb_month: dict[GcsClass, Rate] = Field(title="Cloud Storage", description="Class -> rate.")
    gcs_retrieval_usd_per_gb: dict[GcsClass, Rate] = Field(
        title="Cloud Storage retrieval", description="Class -> USD per GB read (retrieval fee)."
    )
    gcs_class_b_usd_per_10k: dict[GcsClass, Rate] = Field(
        title="Cloud Storage Class B operations", description="Class -> USD per 10,000 object reads."
    )
    egress_usd_per_gb: EgressRates = Field(title="Egress", description="Network egress rates.")
    gke_cluster_usd_per_hour: Rate = Field(title="GKE cluster fee", description="USD per cluster-hour.")

    @model_validator(mode="after")
    def _references_resolve(self) -> PriceTable:
        for name, shape in self.machine_types.items():
            if shape.family not in self.machine_families:
                raise ValueError(f"machine_types.{name}.family: unknown family {shape.family!r}")
        for key, rate in self._all_rates():
            if rate.source not in self.sources:
                raise ValueError(f"{key}.source: {rate.source!r} is not a key of `sources`")
        return self

    def _all_rates(self) -> list[tuple[str, Rate]]:
        rates: list[tuple[str, Rate]] = []
        for fam, fr in self.machine_families.items():
            rates += [(f"machine_families.{fam}.vcpu_usd_per_hour", fr.vcpu_usd_per_hour)]
            rates += [(f"machine_families.{fam}.memory_usd_per_gb_hour", fr.memory_usd_per_gb_hour)]
        rates.append(("local_ssd_usd_per_gb_month", self.local_ssd_usd_per_gb_month))
        rates += [(f"disks_usd_per_gb_month.{k}", v) for k, v in self.disks_usd_per_gb_month.items()]
        rates += [(f"gcs_usd_per_gb_month.{k}", v) for k, v in self.gcs_usd_per_gb_month.items()]
        rates += [(f"gcs_retrieval_usd_per_gb.{k}", v) for k, v in self.gcs_retrieval_usd_per_gb.items()]
        rates += [(f"gcs_class_b_usd_per_10k.{k}", v) for k, v in self.gcs_class_b_usd_per_10k.items()]
        rates += [
            ("cloud_sql.vcpu_usd_per_hour", self.cloud_sql.vcpu_usd_per_hour),
            ("cloud_sql.memory_usd_per_gb_hour", self.cloud_sql.memory_usd_per_gb_hour),
            ("cloud_sql.ssd_storage_usd_per_gb_month", self.cloud_sql.ssd_storage_usd_per_gb_month),
            ("egress_usd_per_gb.internet", self.egress_usd_per_gb.internet),
            ("egress_usd_per_gb.inter_zone", self.egress_usd_per_gb.inter_zone),
            ("gke_cluster_usd_per_hour", self.gke_cluster_usd_per_hour),
        ]
        return rates

    def unsourced_keys(self) -> list[str]:
        """Keys of values no stored page confirmed (to re-check before a budget)."""
        return [key for key, rate in self._all_rates() if rate.checked == "unsourced"]

    def machine(self, machine_type: str, *, where: str = "machine type") -> MachineType:
        """The shape of `machine_type`, or a BadInput naming the known types."""
        try:
            return self.machine_types[machine_type]
        except KeyError:
            known = ", ".join(sorted(self.machine_types))
            raise BadInput(
                f"{where}: unknown machine type {machine_type!r}; the price table "
                f"{DEFAULT_PRICE_FILE.name} knows: {known}. Use one of those or add it to the table."
            ) from None

    def machine_vcpu_usd_per_hour(self, machine_type: str) -> float:
        """Hourly vCPU part of a machine's price (DMTN-125's 'compute' line)."""
        shape = self.machine(machine_type)
        return shape.vcpus * self.machine_families[shape.family].vcpu_usd_per_hour.usd

    def machine_memory_usd_per_hour(self, machine_type: str) -> float:
        """Hourly memory part of a machine's price (DMTN-125's 'memory' line)."""
        shape = self.machine(machine_type)
        return shape.memory_gb * self.machine_families[shape.family].memory_usd_per_gb_hour.usd

    def machine_usd_per_hour(self, machine_type: str) -> float:
        """On-demand hourly price of one machine."""
        return self.machine_vcpu_usd_per_hour(machine_type) + self.machine_memory_usd_per_hour(machine_type)

    def per_hour(self, usd_per_month: float) -> float:
        """Convert a monthly rate to an hourly one."""
        return usd_per_month / self.hours_per_month


def load_price_table(path: Path = DEFAULT_PRICE_FILE) -> PriceTable:
    """Read and validate a price table; a broken table is a BadInput naming file and key."""
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise BadInput(f"{path}: price table not found; restore data/prices/ from git.") from None
    except yaml.YAMLError as exc:
        raise BadInput(f"{path}: not valid YAML ({exc}); fix the syntax.") from None
    try:
        return PriceTable.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise BadInput(f"{path}: key {key}: {first['msg']}; fix the price table entry.") from None
