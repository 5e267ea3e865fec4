"""Typed stack configuration: the one model every stack file (`stacks/Pulumi.<stack>.yaml`) meets.

This module owns:

- the pydantic models of a Pulumi stack file (``config:`` with ``gcp:project``, ``gcp:region`` and
  structured ``idf:<section>`` keys), ``extra="forbid"`` everywhere;
- the cross-field checks pydantic cannot express (min > max nodes, zones outside the region,
  overlapping CIDRs, bucket names, temporary pools without an expiry, ...);
- the loaders: :func:`resolve_stack_file`, :func:`load_stack_file` (YAML on disk) and
  :func:`load_from_pulumi_config` (the same keys read through ``pulumi.Config``, which is how
  ``pulumi up -s dp01`` and the offline plan both feed the program);
- :func:`stack_file_schema`, the JSON Schema exported to ``stacks/stack.schema.json``.

Every problem becomes one :class:`idf_core.errors.BadInput` naming the file, the key path (e.g.
``config.idf:node_pools.qserv_worker.max_nodes``), what is wrong and what to do.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import math
import re
import types
import typing
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from idf_core.errors import BadInput
from idf_core.paths import REPO_ROOT, STACKS_DIR

__all__ = [
    "EXT4_OVERHEAD_FRACTION",
    "IDF_SECTIONS",
    "LOCAL_SSD_PARTITION_BYTES",
    "SCHEMA_PATH",
    "BucketConfig",
    "BudgetConfig",
    "ButlerReferenceConfig",
    "CloudSqlConfig",
    "DnsConfig",
    "FirewallRuleConfig",
    "GkeConfig",
    "KubernetesConfig",
    "MetaConfig",
    "NetworkConfig",
    "NodePoolConfig",
    "QservConfig",
    "StackConfig",
    "StackFile",
    "config_mapping_from_file",
    "dump_stack_file",
    "load_from_pulumi_config",
    "load_stack_file",
    "local_ssd_raid_capacity_gib",
    "pulumi_config_from_mapping",
    "resolve_stack_file",
    "stack_file_schema",
    "stack_name_of",
    "validate_config_mapping",
    "write_schema",
]

SCHEMA_PATH = STACKS_DIR / "stack.schema.json"

_NAME = r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$"
_POOL_KEY = r"^[a-z][a-z0-9_]{0,38}[a-z0-9]$"
_LABEL_KEY = r"^[a-z][a-z0-9_-]{0,62}$"
_LABEL_VALUE = r"^[a-z0-9_-]{0,63}$"

Name = Annotated[str, Field(pattern=_NAME)]
LabelMap = dict[Annotated[str, Field(pattern=_LABEL_KEY)], Annotated[str, Field(pattern=_LABEL_VALUE)]]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


# --------------------------------------------------------------------------------------------
# sections
# --------------------------------------------------------------------------------------------


class MetaConfig(_Model):
    """Who owns the stack and what it serves; labels every resource."""

    environment: Name = Field(
        title="Environment",
        description="Stack name this file configures; must equal <stack> in Pulumi.<stack>.yaml.",
    )
    data_preview: Literal["dp0.1", "dp0.2", "none"] = Field(
        title="Data preview", description="Data preview served (`none` for dev and scale tests)."
    )
    owner: Name = Field(title="Owner", description="Owning team or person, a GCP label value.")
    temporary: bool = Field(
        default=False,
        title="Temporary stack",
        description="A short-lived stack (scale test): only temporary node pools, no stateful resources.",
    )
    labels: LabelMap = Field(
        default_factory=dict,
        title="Extra labels",
        description="Labels added to every resource (GCP label syntax, lower case).",
    )


class FirewallRuleConfig(_Model):
    """One ingress firewall rule, as data."""

    name: Name = Field(title="Rule name", description="Suffix of the firewall rule name.")
    description: str = Field(title="Description", description="Why this rule exists.")
    protocol: Literal["tcp", "udp", "icmp"] = Field(title="Protocol", description="IP protocol.")
    ports: list[Annotated[int, Field(ge=1, le=65535)]] = Field(
        default_factory=list, title="Ports", description="Destination TCP/UDP ports (empty for icmp)."
    )
    source_ranges: list[str] = Field(
        min_length=1, title="Source ranges", description="CIDRs allowed to connect."
    )
    target_tags: list[Name] = Field(
        default_factory=list, title="Target tags", description="Network tags of the targets (all if empty)."
    )


class NetworkConfig(_Model):
    """VPC, subnet and the secondary ranges of the cluster."""

    subnet_cidr: str = Field(title="Subnet CIDR", description="Primary range of the node subnet.")
    pods_cidr: str = Field(title="Pods CIDR", description="Secondary range for pod IPs.")
    services_cidr: str = Field(title="Services CIDR", description="Secondary range for service IPs.")
    master_cidr: str = Field(
        default="172.16.0.0/28",
        title="Control plane CIDR",
        description="/28 range of the private GKE control plane.",
    )
    science_platform_cidrs: list[str] = Field(
        default_factory=list,
        title="Science Platform ranges",
        description="Ranges of the Science Platform (pods of Nublado, TAP); the only sources allowed "
        "to reach the Qserv front end on TCP 4040. Empty means the pods CIDR.",
    )
    nat_min_ports_per_vm: int = Field(
        default=64, ge=32, le=65536, title="NAT ports per VM", description="Cloud NAT minimum ports per VM."
    )
    firewall_rules: list[FirewallRuleConfig] = Field(
        default_factory=list, title="Extra firewall rules", description="Additional ingress rules."
    )


class AuthorizedNetwork(_Model):
    """A range allowed to reach the GKE control plane."""

    display_name: str = Field(title="Display name", description="What this range is (VPN, office).")
    cidr: str = Field(title="CIDR", description="The range.")


class GkeConfig(_Model):
    """The GKE cluster (its node pools are in `idf:node_pools`)."""

    cluster_name: Name = Field(title="Cluster name", description="GKE cluster name.")
    location_type: Literal["regional", "zonal"] = Field(
        title="Location type", description="Regional (HA control plane) or zonal (cheap)."
    )
    zone: str | None = Field(
        default=None, title="Zone", description="Zone of a zonal cluster (required when zonal)."
    )
    node_zones: list[str] = Field(
        min_length=1, title="Node zones", description="Default zones of the node pools."
    )
    release_channel: Literal["RAPID", "REGULAR", "STABLE"] = Field(
        default="REGULAR", title="Release channel", description="GKE release channel."
    )
    master_authorized_networks: list[AuthorizedNetwork] = Field(
        min_length=1,
        title="Authorized networks",
        description="Ranges allowed to reach the control plane endpoint.",
    )
    deletion_protection: bool = Field(
        default=True, title="Deletion protection", description="Refuse to delete the cluster."
    )


class Taint(_Model):
    """A Kubernetes node taint."""

    key: str = Field(pattern=r"^[a-z0-9.\-/]{1,63}$", title="Key", description="Taint key.")
    value: str = Field(pattern=r"^[A-Za-z0-9_.\-]{0,63}$", title="Value", description="Taint value.")
    effect: Literal["NO_SCHEDULE", "PREFER_NO_SCHEDULE", "NO_EXECUTE"] = Field(
        title="Effect", description="GKE taint effect."
    )


class NodePoolConfig(_Model):
    """One GKE node pool. Node counts are totals over the pool's zones."""

    role: Literal["core", "user-labs", "qserv-czar", "qserv-worker", "batch", "utility"] = Field(
        title="Role", description="What runs on this pool."
    )
    machine_type: str = Field(
        pattern=r"^[a-z][a-z0-9]*-[a-z0-9-]+$", title="Machine type", description="GCE machine type."
    )
    min_nodes: int = Field(ge=0, title="Min nodes", description="Autoscaling lower bound (total).")
    max_nodes: int = Field(ge=1, title="Max nodes", description="Autoscaling upper bound (total).")
    initial_nodes: int | None = Field(
        default=None,
        ge=0,
        title="Initial nodes",
        description="Nodes at creation (total; default min_nodes). Later changes are ignored: "
        "the autoscaler owns the count (pulumi-gcp #412).",
    )
    disk_size_gb: int = Field(default=100, gt=0, title="Boot disk (GB)", description="Boot disk size.")
    disk_type: Literal["pd-standard", "pd-balanced", "pd-ssd"] = Field(
        default="pd-balanced", title="Boot disk type", description="Boot disk type."
    )
    local_nvme_ssd_count: int = Field(
        default=0, ge=0, le=24, title="Local NVMe SSDs", description="375 GB local NVMe SSDs per node."
    )
    spot: bool = Field(default=False, title="Spot VMs", description="Preemptible spot capacity.")
    taints: list[Taint] = Field(default_factory=list, title="Taints", description="Node taints.")
    labels: LabelMap = Field(default_factory=dict, title="Node labels", description="Kubernetes node labels.")
    zones: list[str] = Field(
        default_factory=list,
        title="Zones",
        description="Zones of this pool (default: the cluster's node_zones).",
    )
    zone_fallbacks: list[str] = Field(
        default_factory=list,
        title="Zone fallbacks",
        description="Zones to try, in order, when the preferred zones are out of capacity "
        "(ZONE_RESOURCE_POOL_EXHAUSTED); used when use_zone_fallbacks is true.",
    )
    use_zone_fallbacks: bool = Field(
        default=False,
        title="Use zone fallbacks",
        description="Place the pool in zone_fallbacks instead of zones (set after a stockout).",
    )
    temporary: bool = Field(
        default=False, title="Temporary", description="Short-lived pool (scale test); needs expires_at."
    )
    expires_at: datetime | None = Field(
        default=None,
        title="Expires at",
        description="UTC time after which a temporary pool must be destroyed (ISO 8601 with zone).",
    )

    @property
    def effective_initial_nodes(self) -> int:
        """Nodes requested at creation (total)."""
        return self.min_nodes if self.initial_nodes is None else self.initial_nodes


class CloudSqlConfig(_Model):
    """Cloud SQL PostgreSQL for the Butler registry."""

    instance_name: Name = Field(title="Instance name", description="Cloud SQL instance name.")
    database_version: Literal["POSTGRES_14", "POSTGRES_15", "POSTGRES_16"] = Field(
        default="POSTGRES_15", title="PostgreSQL version", description="Cloud SQL database version."
    )
    tier: str = Field(
        pattern=r"^db-(custom-\d+-\d+|f1-micro|g1-small|perf-optimized-N-\d+)$",
        title="Tier",
        description="Machine tier, e.g. db-custom-4-26624 (4 vCPU, 26 GiB).",
    )
    high_availability: bool = Field(
        default=True, title="High availability", description="REGIONAL (standby in another zone)."
    )
    disk_size_gb: int = Field(default=100, gt=0, title="Disk (GB)", description="Initial data disk size.")
    max_connections: int = Field(
        default=400, ge=25, le=10000, title="Max connections", description="PostgreSQL max_connections."
    )
    point_in_time_recovery: bool = Field(
        default=True, title="Point-in-time recovery", description="WAL archiving for PITR."
    )
    backup_start_time_utc: str = Field(
        default="06:00", pattern=r"^([01]\d|2[0-3]):00$", title="Backup start (UTC)", description="HH:00."
    )
    retained_backups: int = Field(
        default=14, ge=1, le=365, title="Retained backups", description="Daily backups kept."
    )
    transaction_log_retention_days: int = Field(
        default=7, ge=1, le=7, title="WAL retention (days)", description="PITR window in days."
    )
    deletion_protection: bool = Field(
        default=True, title="Deletion protection", description="Refuse to delete the instance."
    )
    database_name: str = Field(
        default="butler_registry",
        pattern=r"^[a-z][a-z0-9_]{0,62}$",
        title="Registry database",
        description="Database of the Butler registry.",
    )


class BucketConfig(_Model):
    """One GCS bucket (role -> bucket)."""

    name: str = Field(title="Bucket name", description="Globally unique GCS bucket name.")
    location: str = Field(
        default="US-CENTRAL1", title="Location", description="Bucket location (region or multi-region)."
    )
    versioning: bool = Field(
        default=False, title="Versioning", description="Keep noncurrent versions (irreplaceable data)."
    )
    nearline_after_days: int | None = Field(
        default=None, gt=0, title="To NEARLINE after (days)", description="Age before NEARLINE."
    )
    coldline_after_days: int | None = Field(
        default=None, gt=0, title="To COLDLINE after (days)", description="Age before COLDLINE."
    )
    delete_noncurrent_after_days: int | None = Field(
        default=None,
        gt=0,
        title="Delete noncurrent after (days)",
        description="Age of noncurrent versions before deletion.",
    )
    delete_after_days: int | None = Field(
        default=None, gt=0, title="Delete after (days)", description="Age before deletion (staging)."
    )


class DnsConfig(_Model):
    """Public host name of the stack (data.lsst.cloud style)."""

    domain: str = Field(
        pattern=r"^([a-z0-9-]+\.)+[a-z]{2,}$", title="Domain", description="Parent domain, e.g. lsst.cloud."
    )
    public_host: str = Field(
        pattern=r"^[a-z0-9-]{1,63}$", title="Public host", description="Host label, e.g. data-dev."
    )

    @property
    def fqdn(self) -> str:
        """The public host name."""
        return f"{self.public_host}.{self.domain}"


class BudgetConfig(_Model):
    """Monthly billing budget with alert thresholds."""

    billing_account_id: str = Field(
        pattern=r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$",
        title="Billing account",
        description="Billing account id (XXXXXX-XXXXXX-XXXXXX).",
    )
    amount_usd_per_month: int = Field(gt=0, title="Budget (USD/month)", description="Monthly budget.")
    alert_thresholds_percent: list[Annotated[int, Field(gt=0, le=500)]] = Field(
        default_factory=lambda: [50, 90, 100],
        min_length=1,
        title="Alert thresholds (%)",
        description="Percent of the budget at which an alert fires.",
    )


class QservConfig(_Model):
    """The Qserv instance (qserv-operator `Qserv` custom resource)."""

    namespace: Name = Field(default="qserv", title="Namespace", description="Namespace of Qserv.")
    czar_pool: str = Field(title="Czar pool", description="Key of the node pool of the czar.")
    worker_pool: str = Field(title="Worker pool", description="Key of the node pool of the workers.")
    czar_replicas: int = Field(default=1, ge=1, title="Czars", description="Czar replicas.")
    worker_replicas: int = Field(ge=1, title="Workers", description="Worker replicas.")
    czar_storage_gb: int = Field(gt=0, title="Czar storage (GB)", description="Czar database volume.")
    worker_storage_gb: int = Field(gt=0, title="Worker storage (GB)", description="Volume per worker.")
    worker_volume: Literal["local-nvme-ssd", "persistent-disk"] = Field(
        default="local-nvme-ssd",
        title="Worker volume backend",
        description="Where worker data lives. `local-nvme-ssd`: a RAID-0 of the worker pool's local NVMe "
        "SSDs, offered as the `qserv-local-ssd` StorageClass (ephemeral: lost when a node is "
        "recreated); `persistent-disk`: PD volumes of storage_disk_type (the `qserv` class).",
    )
    storage_disk_type: Literal["pd-ssd", "pd-balanced"] = Field(
        default="pd-ssd",
        title="Volume disk type",
        description="Disk type of the `qserv` StorageClass (czar, and workers on persistent-disk).",
    )
    image: str = Field(
        default="qserv/lite-qserv:2024.1.1-rc1", title="Image", description="Qserv container image."
    )
    db_image: str = Field(
        default="qserv/lite-mariadb:2021.10.1-lite-rc2",
        title="Database image",
        description=(
            "MariaDB image of Qserv's databases (qserv-operator `spec.dbImage`, required by its CRD); "
            "pin it to the one released with `image`."
        ),
    )
    database: str = Field(
        default="dp01_dc2_catalogs", title="Catalog database", description="Catalog database served."
    )


class NamespaceQuota(_Model):
    """A namespace and its resource quota."""

    cpu: int = Field(gt=0, title="CPU (cores)", description="requests.cpu hard limit.")
    memory_gib: int = Field(gt=0, title="Memory (GiB)", description="requests.memory hard limit.")
    pods: int = Field(gt=0, title="Pods", description="Pod count hard limit.")


class KubernetesConfig(_Model):
    """Namespaces (with quotas) created in the cluster."""

    namespaces: dict[Name, NamespaceQuota] = Field(
        default_factory=dict, title="Namespaces", description="Namespace -> resource quota."
    )


class ButlerReferenceConfig(_Model):
    """A Butler served by another stack (for stacks without their own registry/buckets)."""

    repo_uri: str = Field(title="Repository URI", description="gs:// root of the Butler repository.")
    readonly_config: str = Field(title="Read-only config", description="URI of the read-only butler.yaml.")
    registry_host: str = Field(title="Registry host", description="PostgreSQL host of the registry.")
    registry_database: str = Field(title="Registry database", description="Registry database name.")


# --------------------------------------------------------------------------------------------
# the stack
# --------------------------------------------------------------------------------------------


class StackConfig(_Model):
    """The `config:` mapping of a stack file: everything the Pulumi program needs."""

    gcp_project: str = Field(
        alias="gcp:project",
        pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$",
        title="GCP project",
        description="Project id the stack deploys into.",
    )
    gcp_region: str = Field(
        alias="gcp:region", pattern=r"^[a-z]+-[a-z]+\d$", title="GCP region", description="Region."
    )
    meta: MetaConfig = Field(alias="idf:meta", title="Meta", description="Owner, purpose, labels.")
    network: NetworkConfig = Field(alias="idf:network", title="Network", description="VPC and ranges.")
    gke: GkeConfig = Field(alias="idf:gke", title="GKE", description="The cluster.")
    node_pools: dict[Annotated[str, Field(pattern=_POOL_KEY)], NodePoolConfig] = Field(
        alias="idf:node_pools", min_length=1, title="Node pools", description="Pool key -> pool."
    )
    cloudsql: CloudSqlConfig | None = Field(
        default=None, alias="idf:cloudsql", title="Cloud SQL", description="Butler registry database."
    )
    buckets: dict[Annotated[str, Field(pattern=_POOL_KEY)], BucketConfig] = Field(
        default_factory=dict, alias="idf:buckets", title="Buckets", description="Role -> bucket."
    )
    butler_reference: ButlerReferenceConfig | None = Field(
        default=None,
        alias="idf:butler_reference",
        title="Butler reference",
        description="Butler of another stack, for stacks without their own registry and buckets.",
    )
    dns: DnsConfig | None = Field(default=None, alias="idf:dns", title="DNS", description="Public host.")
    budget: BudgetConfig | None = Field(
        default=None, alias="idf:budget", title="Budget", description="Billing budget alert."
    )
    qserv: QservConfig | None = Field(default=None, alias="idf:qserv", title="Qserv", description="Qserv.")
    kubernetes: KubernetesConfig = Field(
        default_factory=KubernetesConfig,
        alias="idf:kubernetes",
        title="Kubernetes",
        description="Namespaces and quotas.",
    )

    _source: str = PrivateAttr(default="<config>")

    @property
    def stack(self) -> str:
        """The stack name."""
        return self.meta.environment

    @property
    def source(self) -> str:
        """Where this configuration was read from (file path or Pulumi config)."""
        return self._source

    def labels(self) -> dict[str, str]:
        """Labels every GCP resource of the stack carries."""
        return {**self.meta.labels, "stack": self.stack, "owner": self.meta.owner, "managed-by": "pulumi"}

    def pool_zones(self, pool: NodePoolConfig) -> list[str]:
        """Zones a pool is placed in (fallbacks when asked, else its own or the cluster's)."""
        if pool.use_zone_fallbacks:
            return list(pool.zone_fallbacks)
        return list(pool.zones or self.gke.node_zones)

    def describe(self) -> str:
        """One line: the shape of the stack."""
        parts = [
            f"stack {self.stack}",
            f"project {self.gcp_project}",
            f"region {self.gcp_region}",
            f"{self.gke.location_type} cluster {self.gke.cluster_name}",
            f"{len(self.node_pools)} node pools ({', '.join(self.node_pools)})",
        ]
        if self.cloudsql:
            ha = "HA" if self.cloudsql.high_availability else "zonal"
            parts.append(f"Cloud SQL {self.cloudsql.tier} {ha}")
        parts.append(f"{len(self.buckets)} buckets")
        if self.qserv:
            parts.append(f"Qserv {self.qserv.czar_replicas} czar + {self.qserv.worker_replicas} workers")
        if self.meta.temporary:
            parts.append("temporary")
        return ", ".join(parts)


class StackFile(_Model):
    """A Pulumi stack file (`stacks/Pulumi.<stack>.yaml`)."""

    config: StackConfig = Field(title="Config", description="Stack configuration (namespaced keys).")
    secretsprovider: str | None = Field(
        default=None, title="Secrets provider", description="Pulumi secrets provider URL."
    )
    encryptedkey: str | None = Field(
        default=None, title="Encrypted key", description="Pulumi data key (cloud KMS providers)."
    )
    encryptionsalt: str | None = Field(
        default=None, title="Encryption salt", description="Pulumi passphrase salt."
    )


IDF_SECTIONS: dict[str, str] = {
    field.alias.split(":", 1)[1]: name
    for name, field in StackConfig.model_fields.items()
    if field.alias and field.alias.startswith("idf:")
}
GCP_KEYS = ("project", "region")


# --------------------------------------------------------------------------------------------
# semantic checks
# --------------------------------------------------------------------------------------------

_GCS_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")


def _bucket_name_problem(name: str) -> str | None:
    if not _GCS_NAME.match(name):
        return (
            f"invalid GCS bucket name {name!r}: use 3-63 characters, lower-case letters, digits, "
            "'-', '_' or '.', starting and ending with a letter or digit"
        )
    if name.startswith("goog") or "google" in name or "g00gle" in name:
        return f"invalid GCS bucket name {name!r}: names may not start with 'goog' or contain 'google'"
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        return f"invalid GCS bucket name {name!r}: an IP address is not a bucket name"
    if ".." in name or ".-" in name or "-." in name:
        return f"invalid GCS bucket name {name!r}: no '..', '.-' or '-.'"
    return None


def _network(value: str, key: str, problems: list[tuple[str, str]]) -> ipaddress.IPv4Network | None:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        problems.append((key, f"{value!r} is not a valid CIDR ({exc}); write it as a.b.c.d/nn"))
        return None
    if not isinstance(net, ipaddress.IPv4Network):
        problems.append((key, f"{value!r} is IPv6; use an IPv4 range"))
        return None
    return net


# A GCE local SSD partition: 375 GB, decimal (GCE also documents it as 375 GiB; taking the smaller
# reading can only under-promise). The Qserv CR asks for Gi, so capacity is compared in GiB.
LOCAL_SSD_PARTITION_BYTES = 375 * 10**9
# What ext4 keeps for itself on the RAID-0 (mkfs.ext4 -m 0 reserves no root blocks): inode tables at
# the default 16 KiB per inode (256 B each, 1.6 %), the journal and group descriptors. The local
# static provisioner reports the filesystem's size as the PV capacity, so a claim larger than this
# would never bind.
EXT4_OVERHEAD_FRACTION = 0.03


def local_ssd_raid_capacity_gib(ssd_count: int) -> int:
    """GiB a worker can claim on the ext4 RAID-0 of `ssd_count` local SSD partitions (rounded down)."""
    return math.floor(ssd_count * LOCAL_SSD_PARTITION_BYTES * (1 - EXT4_OVERHEAD_FRACTION) / 2**30)


def _semantic_problems(cfg: StackConfig, stack_name: str | None) -> list[tuple[str, str]]:  # noqa: PLR0912, PLR0915 -- one flat list of checks reads best
    """Cross-field checks: list of (key path, message with what to do)."""
    p: list[tuple[str, str]] = []
    c = "config"
    region = cfg.gcp_region

    # Service account ids are at most 30 characters: `butler-reader-<stack>` is the longest.
    if len(f"butler-reader-{cfg.meta.environment}") > 30:
        p.append(
            (
                f"{c}.idf:meta.environment",
                f"{cfg.meta.environment!r} is too long for GCP service account ids "
                "(butler-reader-<stack> must fit in 30 characters); use at most 16 characters",
            )
        )

    if stack_name is not None and cfg.meta.environment != stack_name:
        p.append(
            (
                f"{c}.idf:meta.environment",
                f"is {cfg.meta.environment!r} but the file is for stack {stack_name!r}; make them equal",
            )
        )

    # network
    nets: dict[str, ipaddress.IPv4Network] = {}
    for key in ("subnet_cidr", "pods_cidr", "services_cidr", "master_cidr"):
        net = _network(getattr(cfg.network, key), f"{c}.idf:network.{key}", p)
        if net is not None:
            if not net.is_private:
                p.append((f"{c}.idf:network.{key}", f"{net} is not a private (RFC 1918) range; use one"))
            nets[key] = net
    keys = list(nets)
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            if nets[a].overlaps(nets[b]):
                p.append(
                    (
                        f"{c}.idf:network.{b}",
                        f"{nets[b]} overlaps {a} {nets[a]}; choose disjoint ranges",
                    )
                )
    if "master_cidr" in nets and nets["master_cidr"].prefixlen != 28:
        p.append((f"{c}.idf:network.master_cidr", f"{nets['master_cidr']} must be a /28 (GKE requirement)"))
    sp_nets: list[ipaddress.IPv4Network] = []
    for i, value in enumerate(cfg.network.science_platform_cidrs):
        net = _network(value, f"{c}.idf:network.science_platform_cidrs[{i}]", p)
        if net is not None:
            if net.prefixlen == 0:
                p.append(
                    (
                        f"{c}.idf:network.science_platform_cidrs[{i}]",
                        "0.0.0.0/0 would open Qserv to the world; list the Science Platform ranges",
                    )
                )
            sp_nets.append(net)
    names = [r.name for r in cfg.network.firewall_rules]
    for i, rule in enumerate(cfg.network.firewall_rules):
        rkey = f"{c}.idf:network.firewall_rules[{i}]"
        if names.count(rule.name) > 1:
            p.append((f"{rkey}.name", f"duplicate rule name {rule.name!r}; names must be unique"))
        if rule.protocol in ("tcp", "udp") and not rule.ports:
            p.append((f"{rkey}.ports", f"a {rule.protocol} rule needs ports; list them"))
        for j, value in enumerate(rule.source_ranges):
            net = _network(value, f"{rkey}.source_ranges[{j}]", p)
            if net is None:
                continue
            if 4040 in rule.ports:
                allowed = sp_nets or ([nets["pods_cidr"]] if "pods_cidr" in nets else [])
                if not any(net.subnet_of(s) for s in allowed):
                    p.append(
                        (
                            f"{rkey}.source_ranges[{j}]",
                            f"{net} may not reach the Qserv front end (TCP 4040): only Science "
                            "Platform ranges may; remove it or add the range to science_platform_cidrs",
                        )
                    )
            elif net.prefixlen == 0 and rule.protocol != "icmp":
                p.append(
                    (
                        f"{rkey}.source_ranges[{j}]",
                        "0.0.0.0/0 opens the ports to the internet; expose public services "
                        "through the load balancer instead",
                    )
                )

    # gke
    for i, an in enumerate(cfg.gke.master_authorized_networks):
        net = _network(an.cidr, f"{c}.idf:gke.master_authorized_networks[{i}].cidr", p)
        if net is not None and net.prefixlen < 8:
            p.append(
                (
                    f"{c}.idf:gke.master_authorized_networks[{i}].cidr",
                    f"{net} is far too broad for the control plane; list operator ranges (/8 or narrower)",
                )
            )

    def check_zone(zone: str, key: str) -> None:
        if not re.match(rf"^{re.escape(region)}-[a-z]$", zone):
            p.append((key, f"zone {zone!r} is not in region {region!r}; use {region}-a/-b/-c/-f"))

    if cfg.gke.location_type == "zonal":
        if cfg.gke.zone is None:
            p.append((f"{c}.idf:gke.zone", "a zonal cluster needs a zone; set it (e.g. us-central1-b)"))
        else:
            check_zone(cfg.gke.zone, f"{c}.idf:gke.zone")
    elif cfg.gke.zone is not None:
        p.append(
            (f"{c}.idf:gke.zone", "only zonal clusters take a zone; remove it or set location_type: zonal")
        )
    for i, zone in enumerate(cfg.gke.node_zones):
        check_zone(zone, f"{c}.idf:gke.node_zones[{i}]")
    if cfg.gke.location_type == "zonal" and cfg.gke.zone and cfg.gke.zone not in cfg.gke.node_zones:
        p.append((f"{c}.idf:gke.node_zones", f"must include the cluster zone {cfg.gke.zone!r}"))

    # node pools
    workers_on_pd = cfg.qserv is not None and cfg.qserv.worker_volume == "persistent-disk"
    for key, pool in cfg.node_pools.items():
        k = f"{c}.idf:node_pools.{key}"
        if pool.min_nodes > pool.max_nodes:
            p.append(
                (
                    f"{k}.max_nodes",
                    f"max_nodes {pool.max_nodes} is below min_nodes {pool.min_nodes}; raise it",
                )
            )
        if pool.initial_nodes is not None and not pool.min_nodes <= pool.initial_nodes <= pool.max_nodes:
            p.append((f"{k}.initial_nodes", "must lie between min_nodes and max_nodes"))
        for i, zone in enumerate(pool.zones):
            check_zone(zone, f"{k}.zones[{i}]")
        for i, zone in enumerate(pool.zone_fallbacks):
            check_zone(zone, f"{k}.zone_fallbacks[{i}]")
        if pool.use_zone_fallbacks and not pool.zone_fallbacks:
            p.append((f"{k}.use_zone_fallbacks", "is true but zone_fallbacks is empty; list fallback zones"))
        if pool.temporary and pool.expires_at is None:
            p.append((f"{k}.expires_at", "a temporary pool needs expires_at (ISO 8601 UTC); set it"))
        if pool.expires_at is not None and pool.expires_at.tzinfo is None:
            p.append((f"{k}.expires_at", "needs a time zone (e.g. 2026-12-01T00:00:00Z)"))
        if pool.role == "batch" and not pool.spot:
            p.append((f"{k}.spot", "batch pools run on spot VMs; set spot: true"))
        if pool.role == "qserv-worker" and pool.local_nvme_ssd_count == 0 and not workers_on_pd:
            p.append(
                (
                    f"{k}.local_nvme_ssd_count",
                    "Qserv workers keep their data on local NVMe SSDs; set 1 or more "
                    "(or idf:qserv.worker_volume: persistent-disk)",
                )
            )
        if pool.role == "qserv-worker" and pool.local_nvme_ssd_count > 0 and workers_on_pd:
            p.append(
                (
                    f"{k}.local_nvme_ssd_count",
                    "idf:qserv.worker_volume is persistent-disk, so these local SSDs would be billed "
                    "and never used; set 0 (or worker_volume: local-nvme-ssd)",
                )
            )
        if pool.role in ("user-labs", "qserv-worker", "qserv-czar", "batch") and not pool.taints:
            p.append(
                (f"{k}.taints", f"a {pool.role} pool must be tainted so other pods stay off; add a taint")
            )
        if cfg.meta.temporary and not pool.temporary:
            p.append((f"{k}.temporary", "a temporary stack may only declare temporary pools; set it true"))

    # stateful resources
    if cfg.meta.temporary:
        if cfg.cloudsql is not None:
            p.append(
                (f"{c}.idf:cloudsql", "a temporary stack must not declare Cloud SQL; remove the section")
            )
        if cfg.buckets:
            p.append((f"{c}.idf:buckets", "a temporary stack must not declare buckets; remove the section"))
    bucket_names = [b.name for b in cfg.buckets.values()]
    for role, bucket in cfg.buckets.items():
        k = f"{c}.idf:buckets.{role}"
        problem = _bucket_name_problem(bucket.name)
        if problem:
            p.append((f"{k}.name", problem + "; rename it"))
        if bucket_names.count(bucket.name) > 1:
            p.append((f"{k}.name", f"bucket name {bucket.name!r} is used twice; names must be unique"))
        if (
            bucket.nearline_after_days is not None
            and bucket.coldline_after_days is not None
            and bucket.coldline_after_days <= bucket.nearline_after_days
        ):
            p.append((f"{k}.coldline_after_days", "must be later than nearline_after_days; raise it"))
    has_own_butler = cfg.cloudsql is not None and "butler_datastore" in cfg.buckets
    if not has_own_butler and cfg.butler_reference is None:
        p.append(
            (
                f"{c}.idf:butler_reference",
                "the stack has no Cloud SQL + butler_datastore bucket of its own; declare both or "
                "point idf:butler_reference at the Butler of another stack",
            )
        )

    # qserv
    if cfg.qserv is not None:
        q = cfg.qserv
        for attr, role in (("czar_pool", "qserv-czar"), ("worker_pool", "qserv-worker")):
            ref = getattr(q, attr)
            ref_pool = cfg.node_pools.get(ref)
            if ref_pool is None:
                hint = difflib.get_close_matches(ref, list(cfg.node_pools), n=1)
                did = f" (did you mean {hint[0]!r}?)" if hint else ""
                p.append(
                    (f"{c}.idf:qserv.{attr}", f"no node pool {ref!r}{did}; name a key of idf:node_pools")
                )
            elif ref_pool.role != role:
                p.append(
                    (f"{c}.idf:qserv.{attr}", f"pool {ref!r} has role {ref_pool.role!r}, expected {role!r}")
                )
            elif attr == "worker_pool" and q.worker_replicas > ref_pool.max_nodes:
                p.append(
                    (
                        f"{c}.idf:qserv.worker_replicas",
                        f"{q.worker_replicas} workers do not fit on pool {ref!r} (max_nodes "
                        f"{ref_pool.max_nodes}, one worker per node); raise max_nodes or lower replicas",
                    )
                )
            if (
                attr == "worker_pool"
                and ref_pool is not None
                and ref_pool.role == role
                and q.worker_volume == "local-nvme-ssd"
                and ref_pool.local_nvme_ssd_count > 0
                and q.worker_storage_gb > local_ssd_raid_capacity_gib(ref_pool.local_nvme_ssd_count)
            ):
                fits = local_ssd_raid_capacity_gib(ref_pool.local_nvme_ssd_count)
                ssds = ref_pool.local_nvme_ssd_count
                p.append(
                    (
                        f"{c}.idf:qserv.worker_storage_gb",
                        f"{q.worker_storage_gb} GiB per worker does not fit the RAID-0 of the "
                        f"{ssds} local SSDs of pool {ref!r} ({ssds} x "
                        f"{LOCAL_SSD_PARTITION_BYTES // 10**9} GB = {fits} GiB after the "
                        f"{EXT4_OVERHEAD_FRACTION:.0%} ext4 margin); lower worker_storage_gb to {fits} or "
                        "less, raise local_nvme_ssd_count, or set worker_volume: persistent-disk",
                    )
                )
    if cfg.qserv is not None and cfg.qserv.namespace not in cfg.kubernetes.namespaces:
        p.append(
            (
                f"{c}.idf:kubernetes.namespaces",
                f"the Qserv namespace {cfg.qserv.namespace!r} is missing; add it with a quota",
            )
        )
    return p


# --------------------------------------------------------------------------------------------
# pydantic error -> one message
# --------------------------------------------------------------------------------------------


def _unwrap(annotation: Any) -> Any:
    """Strip Optional/Annotated/list/dict down to the model class a key path walks into."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else annotation
    return annotation


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed at the parent of `loc` (for a misspelt-key suggestion)."""
    current: Any = StackFile
    for part in loc[:-1]:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next(
                (f for n, f in current.model_fields.items() if part in (n, f.alias)),
                None,
            )
            if field is None:
                return []
            current = field.annotation
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        elif typing.get_origin(current) is list:
            current = typing.get_args(current)[0]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _message_for(error: Any) -> tuple[str, str]:
    loc = tuple(p for p in error["loc"] if p not in ("[key]",))
    # dict keys validated against a pattern report loc (..., key, "[key]")
    key_error = "[key]" in error["loc"]
    path = _key_path(loc)
    etype = error["type"]
    if etype == "extra_forbidden":
        allowed = _allowed_keys(loc)
        bad = str(loc[-1])
        close = difflib.get_close_matches(bad, allowed, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}?" if close else f"allowed keys: {', '.join(allowed)}"
        return path, f"unknown key {bad!r}; {hint}"
    if etype == "missing":
        return path, "required key is missing; add it (see stacks/stack.schema.json)"
    if key_error:
        return path, f"invalid key {loc[-1]!r}: {error['msg']}; use lower-case letters, digits and '_'"
    value = error.get("input")
    shown = json.dumps(value, default=str) if not isinstance(value, dict | list) else type(value).__name__
    return path, f"invalid value {shown}: {error['msg']}; fix the value (see stacks/stack.schema.json)"


def _raise(source: str, problems: list[tuple[str, str]]) -> None:
    first_path, first_msg = problems[0]
    more = f" (and {len(problems) - 1} more problem(s); fix this one and re-run)" if len(problems) > 1 else ""
    raise BadInput(f"{source}: {first_path}: {first_msg}{more}")


# --------------------------------------------------------------------------------------------
# loaders
# --------------------------------------------------------------------------------------------


def validate_config_mapping(document: Any, source: str, stack_name: str | None = None) -> StackConfig:
    """Validate a whole stack-file mapping (`{"config": {...}}`) and return the typed config."""
    if not isinstance(document, dict):
        raise BadInput(f"{source}: the file must be a YAML mapping with a top-level `config:` key")
    config = document.get("config")
    if isinstance(config, dict):
        for key in config:
            namespace = str(key).split(":", 1)[0] if ":" in str(key) else None
            if namespace not in ("gcp", "idf"):
                raise BadInput(
                    f"{source}: config.{key}: unexpected key; stack files hold only gcp:project, "
                    "gcp:region and idf:<section> keys (namespace the key, e.g. idf:network)"
                )
    try:
        stack_file = StackFile.model_validate(document)
    except ValidationError as exc:
        problems = [_message_for(e) for e in exc.errors()]
        _raise(source, problems)
        raise  # unreachable: _raise always raises
    cfg = stack_file.config
    problems = _semantic_problems(cfg, stack_name)
    if problems:
        _raise(source, problems)
    cfg._source = source
    return cfg


def resolve_stack_file(name_or_path: str) -> Path:
    """A stack name (`dp01`) or a path -> the stack file path; BadInput if absent."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or "/" in name_or_path:
        if not candidate.exists():
            raise BadInput(f"{candidate}: no such stack file; give a stack name or an existing path")
        return candidate
    path = STACKS_DIR / f"Pulumi.{name_or_path}.yaml"
    if not path.exists():
        known = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in STACKS_DIR.glob("Pulumi.*.yaml"))
        close = difflib.get_close_matches(name_or_path, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known stacks: {', '.join(known)}"
        raise BadInput(f"{path}: no stack {name_or_path!r}; {hint}")
    return path


def stack_name_of(path: Path) -> str | None:
    """`Pulumi.dp01.yaml` -> `dp01` (None for other file names)."""
    match = re.match(r"^Pulumi\.(.+)\.ya?ml$", path.name)
    return match.group(1) if match else None


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def config_mapping_from_file(path: Path) -> dict[str, Any]:
    """Read a stack file's YAML (syntax errors -> BadInput)."""
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise BadInput(f"{_display(path)}:{where}: not valid YAML ({exc}); fix the syntax") from None
    except OSError as exc:
        raise BadInput(f"{_display(path)}: cannot read ({exc.strerror})") from None
    if not isinstance(document, dict):
        raise BadInput(f"{_display(path)}: the file must be a YAML mapping with a top-level `config:` key")
    return document


def load_stack_file(path: Path) -> StackConfig:
    """Load and validate a stack file."""
    return validate_config_mapping(config_mapping_from_file(path), _display(path), stack_name_of(path))


def _parse_config_value(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def load_from_pulumi_config(source: str | None = None) -> StackConfig:
    """Read the stack configuration through `pulumi.Config` (real CLI or mock engine alike).

    Unknown keys in the `idf:` namespace are rejected with a suggestion, exactly as in a file.
    """
    import pulumi  # noqa: PLC0415 -- `idf config validate` must not pay for importing Pulumi
    from pulumi.runtime import config as runtime_config  # noqa: PLC0415

    stack = pulumi.get_stack()
    where = source or f"stacks/Pulumi.{stack}.yaml (via pulumi.Config)"
    present = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    allowed_sections = list(IDF_SECTIONS)
    config: dict[str, Any] = {}
    for key in sorted(present):
        if not key.startswith("idf:"):
            continue
        section = key.split(":", 1)[1]
        if section not in IDF_SECTIONS:
            close = difflib.get_close_matches(section, allowed_sections, n=1)
            hint = (
                f"did you mean 'idf:{close[0]}'?"
                if close
                else f"allowed: idf:{', idf:'.join(allowed_sections)}"
            )
            raise BadInput(f"{where}: config.{key}: unknown key; {hint}")
    gcp = pulumi.Config("gcp")
    for key in GCP_KEYS:
        value = gcp.get(key)
        if value is not None:
            config[f"gcp:{key}"] = value
    idf = pulumi.Config("idf")
    for section in IDF_SECTIONS:
        raw = idf.get(section)
        if raw is not None:
            config[f"idf:{section}"] = _parse_config_value(raw)
    return validate_config_mapping({"config": config}, where, stack)


def pulumi_config_from_mapping(document: dict[str, Any]) -> dict[str, str]:
    """A stack file's `config:` as the flat string map the Pulumi engine passes a program."""
    out: dict[str, str] = {}
    for key, value in (document.get("config") or {}).items():
        out[str(key)] = value if isinstance(value, str) else json.dumps(value, default=str)
    return out


def stack_file_schema() -> dict[str, Any]:
    """The JSON Schema of a whole stack file."""
    schema = StackFile.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/lsst/idf/stacks/stack.schema.json"
    return schema


def write_schema(path: Path = SCHEMA_PATH) -> Path:
    """Regenerate `stacks/stack.schema.json`."""
    path.write_text(json.dumps(stack_file_schema(), indent=2, sort_keys=True) + "\n")
    return path


def dump_stack_file(cfg: StackConfig, path: Path, header: str = "") -> Path:
    """Write a validated config as a stack file (the scale-test sizing model regenerates
    `Pulumi.qserv-scale75.yaml` this way). Defaults are omitted; the file is re-validated."""
    body = {"config": cfg.model_dump(by_alias=True, mode="json", exclude_defaults=True)}
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    path.write_text(comment + yaml.safe_dump(body, sort_keys=False, width=110))
    load_stack_file(path)
    return path
