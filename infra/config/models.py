"""The pydantic models of a stack file (`stacks/Pulumi.<stack>.yaml`): one model per concern.

Every model forbids extra keys and is frozen; every field has a title and a description, which the
exported JSON Schema (`stacks/stack.schema.json`) carries. Rules that span fields or sections are
not here but in :mod:`infra.config.checks`.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from idf_core.qserv_ingest import DP01_SEED_URI

__all__ = [
    "EXT4_OVERHEAD_FRACTION",
    "GCP_KEYS",
    "IDF_SECTIONS",
    "LOCAL_SSD_PARTITION_BYTES",
    "AuthorizedNetwork",
    "BucketConfig",
    "BudgetConfig",
    "ButlerReferenceConfig",
    "CloudSqlConfig",
    "DnsConfig",
    "ExternalS3Config",
    "FirewallRuleConfig",
    "GitHubAuthConfig",
    "GkeConfig",
    "ImagesConfig",
    "KubernetesConfig",
    "MetaConfig",
    "NamespaceQuota",
    "NetworkConfig",
    "NodePoolConfig",
    "PandaConfig",
    "PhalanxConfig",
    "QservConfig",
    "ReaperConfig",
    "ScaleCatalogConfig",
    "StackConfig",
    "StackFile",
    "Taint",
    "local_ssd_raid_capacity_gib",
]

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
    expected_size_gb: float | None = Field(
        default=None,
        ge=0,
        title="Expected size (GB)",
        description="Data the bucket is expected to hold, for the cost estimate (`idf cost`). Unset: "
        "the documented default of its role for the stack's data preview (idf_ops/cost/volumes.py: "
        "seed Appendix B dataset counts x typical file sizes; the DP0.1 catalog volume).",
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
    ingest_staged: bool = Field(
        default=False,
        title="Catalogs staged",
        description="True once the catalogs' input is in the stack's qserv_ingest bucket "
        "(runbooks/pulumi.md §6): only then does the program create the ingest Job that reads it "
        "(before, it would fail on an empty bucket). Not read on scale stacks, whose generator "
        "writes their input.",
    )


class ScaleCatalogConfig(_Model):
    """The scale test's generated catalog (infra/qserv_ingest.py ScaleCatalogGenerator): an Indexed Job
    on the stack's Qserv worker nodes, one completion per chunk of ``percent_of_dr1`` % of DR1's
    footprint, writing to the stack's own scratch staging bucket; the ingest Job follows it.
    Rendered by the sizing model (`idf scale render-stack`)."""

    percent_of_dr1: float = Field(
        gt=0, le=100, title="Percent of DR1", description="Catalog size generated (chunks of the footprint)."
    )
    parallelism: int = Field(
        ge=1,
        le=10_000,
        title="Parallel pods",
        description="Single-core generator pods at once (sizing model: one per 2 worker vCPUs).",
    )
    seed_uri: str = Field(
        default=DP01_SEED_URI,
        pattern=r"^gs://[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]/([A-Za-z0-9._-]+/)+$",
        title="Seed",
        description="gs:// folder of dp01's catalogs as Parquet (<table>.parquet): the seed patch.",
    )
    timeout_hours: float = Field(
        gt=0,
        le=72,
        title="Generation timeout (h)",
        description="How long `pulumi up` waits for the generator Job to complete before the ingest Job "
        "(sizing model: 1.5 x the generation hours at measured rates, at least 1).",
    )


_PINNED_IMAGE = r"^[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}@sha256:[0-9a-f]{64}$"


def _real_digest(value: str) -> str:
    if set(value.rsplit("sha256:", 1)[-1]) == {"0"}:
        raise ValueError(
            "the all-zero sha256 is a placeholder no registry serves; record the image's real digest "
            "(`docker buildx imagetools inspect NAME:TAG`)"
        )
    return value


PinnedImage = Annotated[str, Field(pattern=_PINNED_IMAGE), AfterValidator(_real_digest)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$"), AfterValidator(_real_digest)]
# The repository each key must name (the tag the code was written against is in infra/images.py).
_IMAGE_REPOSITORIES = {
    "qserv_ingest": "qserv/ingest",
    "htcondor_cm": "htcondor/cm",
    "htcondor_submit": "htcondor/submit",
    "htcondor_execute": "htcondor/execute",
}


class ImagesConfig(_Model):
    """Digests of what the program cannot resolve from the machines that build this repository:
    upstream images as ``name:tag@sha256:<64 hex>`` and the Pulumi CLI tarball baked into the
    idf-ops image (infra/images.py). No defaults: a stack whose workload needs a key that is not set
    is planned without that workload (with a warning) and refused by a real `pulumi up`."""

    qserv_ingest: PinnedImage | None = Field(
        default=None,
        title="Qserv ingest image",
        description="Rubin's ingest workflow image, `qserv/ingest:<tag>@sha256:<digest>`; needed by the "
        "ingest Job of a stack with idf:qserv and a qserv_ingest bucket. "
        "`docker buildx imagetools inspect qserv/ingest:2023.1.1-rc2`.",
    )
    htcondor_cm: PinnedImage | None = Field(
        default=None,
        title="HTCondor central manager image",
        description="`htcondor/cm:<tag>@sha256:<digest>`; needed by a stack with a batch pool. "
        "`docker buildx imagetools inspect htcondor/cm:24.0.7-el9`.",
    )
    htcondor_submit: PinnedImage | None = Field(
        default=None,
        title="HTCondor access point image",
        description="`htcondor/submit:<tag>@sha256:<digest>`; needed by a stack with a batch pool. "
        "`docker buildx imagetools inspect htcondor/submit:24.0.7-el9`.",
    )
    htcondor_execute: PinnedImage | None = Field(
        default=None,
        title="HTCondor execute point image",
        description="`htcondor/execute:<tag>@sha256:<digest>`; needed by a stack with a batch pool. "
        "`docker buildx imagetools inspect htcondor/execute:24.0.7-el9`.",
    )
    pulumi_cli_sha256: Sha256 | None = Field(
        default=None,
        title="Pulumi CLI tarball SHA-256",
        description="SHA-256 (64 hex) of pulumi-v<version>-linux-x64.tar.gz at "
        "infra.images.PULUMI_CLI_VERSION, checked by the idf-ops image build when set; unset, the "
        "build checks the tarball against the checksums file of the release on GitHub. "
        "`curl -fsSL https://get.pulumi.com/releases/sdk/pulumi-<version>-checksums.txt | grep linux-x64`.",
    )

    @model_validator(mode="after")
    def _names_match(self) -> ImagesConfig:
        for key, repository in _IMAGE_REPOSITORIES.items():
            value = getattr(self, key)
            if value is not None and value.split(":", 1)[0] != repository:
                raise ValueError(
                    f"{key}: {value!r} is not an image of {repository}; "
                    f"pin {repository}:<tag>@sha256:<digest>"
                )
        return self


class GitHubAuthConfig(_Model):
    """GitHub as the identity provider of the Science Platform (Gafaelfawr's GitHub OAuth App).

    The client id is public and lives here; the client secret is a Google Secret Manager secret
    whose container the program creates and whose value a person adds (runbooks/pulumi.md)."""

    client_id: str = Field(
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        title="OAuth client id",
        description="Client id of the GitHub OAuth App registered for the stack's public host.",
    )
    organization: str = Field(
        pattern=r"^[A-Za-z0-9-]{1,39}$",
        title="GitHub organization",
        description="Organization whose team members get access (Gafaelfawr groupMapping).",
    )
    team: str = Field(
        pattern=r"^[a-z0-9_-]{1,100}$",
        title="GitHub team slug",
        description="Team (slug) of that organization granted notebooks, the Portal and TAP.",
    )


# Phalanx applications a stack may enable (Phalanx's application names).
PhalanxApplication = Literal["gafaelfawr", "nublado", "tap", "portal", "datalinker", "ssotap", "hips", "mobu"]


def _seed_applications() -> list[PhalanxApplication]:
    """The seed's Science Platform (§2.1.3): login, notebooks, TAP, the Portal, and datalinks."""
    return ["gafaelfawr", "nublado", "tap", "portal", "datalinker"]


class PhalanxConfig(_Model):
    """The Science Platform through Rubin's deployment engine, Phalanx (Argo CD app-of-apps).

    Everything upstream is referenced at a pinned version: the argo-helm `argo-cd` chart (fetched
    by Helm at deploy time) and the lsst-sqre/phalanx revision the app-of-apps syncs."""

    environment: Name = Field(
        title="Phalanx environment",
        description="Name of our Phalanx environment (`values-<environment>.yaml`, Vault path).",
    )
    repo_url: str = Field(
        default="https://github.com/lsst-sqre/phalanx.git",
        pattern=r"^https://[A-Za-z0-9./_-]+\.git$",
        title="Phalanx repository",
        description="Git repository Argo CD syncs (lsst-sqre/phalanx, or a fork holding our values).",
    )
    target_revision: str = Field(
        pattern=r"^[0-9a-f]{40}$",
        title="Phalanx revision",
        description="Commit (40 hex digits) of the repository: never a branch, so a sync is reviewed.",
    )
    argocd_chart_version: str = Field(
        default="10.2.2",
        pattern=r"^\d+\.\d+\.\d+$",
        title="Argo CD chart version",
        description="Exact version of the argo-helm `argo-cd` chart (the one Phalanx pins).",
    )
    argocd_chart_repo: str = Field(
        default="https://argoproj.github.io/argo-helm",
        pattern=r"^https://",
        title="Argo CD chart repository",
        description="Helm repository of the `argo-cd` chart (fetched at deploy time, never copied).",
    )
    applications: list[PhalanxApplication] = Field(
        default_factory=_seed_applications,
        min_length=1,
        title="Applications",
        description="Phalanx applications enabled in the environment (Gafaelfawr always).",
    )
    vault_url: str = Field(
        default="https://vault.lsst.cloud/",
        pattern=r"^https://",
        title="Vault URL",
        description="Vault server holding the environment's secrets (Phalanx reads secrets from Vault).",
    )
    vault_path_prefix: str = Field(
        pattern=r"^secret/phalanx/[a-z0-9-]+$",
        title="Vault path prefix",
        description="KV v2 path of the environment's secrets, e.g. secret/phalanx/idf-dp01.",
    )
    github: GitHubAuthConfig = Field(title="GitHub login", description="Gafaelfawr's GitHub OAuth App.")


class PandaConfig(_Model):
    """The PanDA server DP0.2 runs are submitted to with ctrl_bps_panda (`idf batch submit --wms
    panda`). Authentication is OIDC through the VO's IAM: each person gets their own token
    (runbooks/batch.md); no secret is ever stack config."""

    server_url: str = Field(
        pattern=r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/server/panda$",
        title="PanDA server URL",
        description="HTTPS URL of the PanDA server API (PANDA_URL_SSL, PANDA_URL).",
    )
    cache_url: str = Field(
        pattern=r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/server/panda$",
        title="PanDA cache URL",
        description="HTTPS URL of the PanDA file cache (PANDACACHE_URL).",
    )
    monitor_url: str = Field(
        pattern=r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$",
        title="PanDA monitor",
        description="BigPanDA monitor.",
    )
    idds_server: str = Field(
        pattern=r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/idds$",
        title="iDDS server",
        description="HTTPS URL of the iDDS server the workflow is registered with (iddsServer).",
    )
    queue: str = Field(
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        title="PanDA queue",
        description="PanDA queue (computing site) the jobs run on: BPS computeSite and queue.",
    )
    auth_vo: str = Field(
        default="Rubin", pattern=r"^[A-Za-z0-9_.-]{1,64}$", title="OIDC VO", description="PANDA_AUTH_VO."
    )
    auth: Literal["oidc"] = Field(default="oidc", title="Authentication", description="PANDA_AUTH.")


class ReaperConfig(_Model):
    """The scale-test reaper (infra/reaper.py): a Cloud Scheduler trigger of a Cloud Run job that
    runs `idf scale reap --unattended`, as a service account that may destroy only in the scale-test
    project and write only the Pulumi state of `qserv-scale*` stacks. Declared on a permanent stack."""

    target_project: str = Field(
        pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$",
        title="Scale-test project",
        description="GCP project of the temporary scale-test stacks and of nothing else: the only "
        "project where the reaper's destroy role is granted.",
    )
    state_bucket: str = Field(
        pattern=r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$",
        title="Pulumi state bucket",
        description="GCS bucket of the Pulumi state backend (gs://<bucket>), in this stack's project; "
        "the reaper writes only the objects of scale-test stacks in it.",
    )
    schedule: str = Field(
        default="*/15 * * * *",
        pattern=r"^\S+ \S+ \S+ \S+ \S+$",
        title="Schedule",
        description="Cron schedule of the reaper (Cloud Scheduler, unix-cron format).",
    )
    time_zone: str = Field(default="Etc/UTC", title="Time zone", description="Time zone of the schedule.")
    alert_notification_channels: list[str] = Field(
        min_length=1,
        title="Alert channels",
        description="Cloud Monitoring notification channels (projects/<p>/notificationChannels/<id>) "
        "alerted on every reaper action and when the reaper stops reporting.",
    )
    billing_account_id: str | None = Field(
        default=None,
        pattern=r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$",
        title="Billing account",
        description="Billing account of the scale stacks' budgets (destroying a budget needs a role "
        "on it); none if the scale stacks declare no idf:budget.",
    )
    cpu: int = Field(default=1, ge=1, le=4, title="vCPUs", description="vCPUs of the reaper task.")
    memory_mib: int = Field(default=1024, ge=512, le=8192, title="Memory (MiB)", description="Task memory.")
    timeout_minutes: int = Field(
        default=60,
        ge=10,
        le=1440,
        title="Timeout (minutes)",
        description="Longest run: a 40-node destroy takes tens of minutes; a later run that meets the "
        "stack lock reports it and the next one retries.",
    )
    expected_run_seconds: int = Field(
        default=90,
        gt=0,
        title="Expected run (s)",
        description="Average duration of a run that destroys nothing (container start, Pulumi CLI, "
        "stack listing): what the cost estimate bills per run.",
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


class ExternalS3Config(_Model):
    """An S3-compatible store outside GCP (NCSA) holding the lesser-used Butler collections: the
    seed's mitigation of storage cost (§2.3, §4.1). The keys are never stack config: the program
    creates a Secret Manager secret (``keys_secret_id``) and a person adds its value, a JSON object
    ``{"access_key_id": ..., "secret_access_key": ...}`` (runbooks/pulumi.md)."""

    endpoint_url: str = Field(
        pattern=r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$",
        title="S3 endpoint",
        description="HTTPS endpoint of the S3 service (lsst-resources: S3_ENDPOINT_URL / profile URL).",
    )
    bucket: str = Field(
        pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", title="Bucket", description="Bucket of the datastore."
    )
    prefix: str = Field(
        default="repo",
        pattern=r"^[A-Za-z0-9._/-]{1,200}$",
        title="Prefix",
        description="Path of the datastore root inside the bucket.",
    )
    profile: Name = Field(
        default="ncsa",
        title="lsst-resources profile",
        description="Profile of the `s3://<profile>@bucket/` URIs (LSST_RESOURCES_S3_PROFILE_<profile>).",
    )
    keys_secret_id: str = Field(
        pattern=r"^[A-Za-z0-9_-]{1,255}$",
        title="Keys secret",
        description="Secret Manager secret id (in the stack's project) holding the S3 keys; its value is "
        "added by a person, never written in a stack file.",
    )


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
    butler_external_s3: ExternalS3Config | None = Field(
        default=None,
        alias="idf:butler_external_s3",
        title="External S3 datastore",
        description="S3 store outside GCP (NCSA) for lesser-used Butler collections; keys in Secret Manager.",
    )
    dns: DnsConfig | None = Field(default=None, alias="idf:dns", title="DNS", description="Public host.")
    budget: BudgetConfig | None = Field(
        default=None, alias="idf:budget", title="Budget", description="Billing budget alert."
    )
    qserv: QservConfig | None = Field(default=None, alias="idf:qserv", title="Qserv", description="Qserv.")
    reaper: ReaperConfig | None = Field(
        default=None,
        alias="idf:reaper",
        title="Scale-test reaper",
        description="The scheduled reaper of expired scale-test stacks (a permanent stack holds it).",
    )
    scale_catalog: ScaleCatalogConfig | None = Field(
        default=None,
        alias="idf:scale_catalog",
        title="Scale catalog",
        description="The generated catalog of a temporary scale-test stack and its ingest.",
    )
    phalanx: PhalanxConfig | None = Field(
        default=None,
        alias="idf:phalanx",
        title="Phalanx",
        description="The Science Platform (Argo CD + Phalanx app-of-apps); needs idf:dns.",
    )
    panda: PandaConfig | None = Field(
        default=None,
        alias="idf:panda",
        title="PanDA",
        description="The PanDA server, queue and OIDC settings of `idf batch submit --wms panda`.",
    )
    images: ImagesConfig = Field(
        default_factory=ImagesConfig,
        alias="idf:images",
        title="Image digests",
        description="Digests the program cannot resolve offline: upstream images and the Pulumi CLI "
        "tarball of the idf-ops image (runbooks/pulumi.md, 'Before the first pulumi up').",
    )
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
