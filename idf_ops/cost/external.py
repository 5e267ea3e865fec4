"""GCS versus an external S3 store for the lesser-used collections (seed §2.3's mitigation).

This module owns the comparison `idf cost STACK --storage-at s3-external` prints: the lesser-used
DP0.1 collections (:func:`idf_ops.cost.volumes.lesser_used_volume`: V GB in F files) either stay
in the stack's Butler datastore bucket (priced as its lifecycle rules move them, plus what reading
them costs: retrieval fees of the colder classes and Class B operations), or live in an external
S3 store (its storage, plus egress and GET requests for what IDF users read; ingress to Google
Cloud is free). With ``r`` the share of V read per month:

    gcs(r)      = V x s_gcs + r x V x retrieval_gcs + r x F x get_gcs
    external(r) = V x s_ext + r x V x egress_ext    + r x F x get_ext

``s_gcs`` and ``retrieval_gcs`` are the lifecycle-weighted averages over the bucket's classes.
The break-even rate is where they are equal; the rest of the stack's bill is the same on both
sides and is carried into both totals.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from idf_core.errors import BadInput
from idf_core.paths import REPO_ROOT
from idf_ops.cost.inventory import STORAGE_HORIZON_DAYS, class_days
from idf_ops.cost.prices import PriceTable, Rate
from idf_ops.cost.volumes import lesser_used_volume

if TYPE_CHECKING:
    from infra.config import StackConfig

__all__ = ["DEFAULT_EXTERNAL_FILE", "ExternalProfile", "StorageComparison", "compare_storage", "load_profile"]

DEFAULT_EXTERNAL_FILE = REPO_ROOT / "data" / "prices" / "s3-external.yaml"
DATASTORE_ROLE = "butler_datastore"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExternalProfile(_Model):
    """Prices of one external S3 store."""

    storage_usd_per_gb_month: Rate = Field(title="Storage", description="USD per GB-month stored.")
    egress_usd_per_gb: Rate = Field(title="Egress", description="USD per GB read out of the store.")
    get_usd_per_1000: Rate = Field(title="GET requests", description="USD per 1,000 GET requests.")


class _ExternalFile(_Model):
    compiled_on: date
    currency: str
    default_profile: str
    sources: dict[str, str]
    profiles: dict[str, ExternalProfile]


class StorageComparison(_Model):
    """Both options for the lesser-used collections, and where they cost the same."""

    stack: str = Field(title="Stack", description="Stack name.")
    profile: str = Field(title="External profile", description="Price profile of the external store.")
    lesser_used_gb: float = Field(
        title="Lesser-used GB", description="Volume of the lesser-used collections."
    )
    lesser_used_files: int = Field(title="Files", description="Files (datasets) in them.")
    access_share_per_month: float = Field(
        title="Access share", description="Share of that volume read per month."
    )
    gcs_usd_per_month: float = Field(title="GCS", description="Lesser-used data in GCS, at the access share.")
    external_usd_per_month: float = Field(title="External", description="Same data in the external store.")
    stack_total_gcs_usd_per_month: float = Field(
        title="Stack total, GCS", description="Whole stack, data in GCS."
    )
    stack_total_external_usd_per_month: float = Field(
        title="Stack total, external", description="Whole stack, lesser-used data external."
    )
    break_even_share_per_month: float | None = Field(
        title="Break-even access share",
        description="Monthly read share at which both cost the same (None: one is cheaper at every rate).",
    )
    cheaper_below_break_even: str = Field(title="Cheaper below", description="gcs or external.")
    notes: list[str] = Field(title="Notes", description="How each side was priced.")


def load_profile(name: str | None = None, path: Path = DEFAULT_EXTERNAL_FILE) -> tuple[str, ExternalProfile]:
    """(name, profile) from the external price file; BadInput naming file and key."""
    try:
        table = _ExternalFile.model_validate(yaml.safe_load(path.read_text()))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise BadInput(
            f"{path}: not a valid external S3 price table ({exc.__class__.__name__}); fix it."
        ) from None
    chosen = name or table.default_profile
    if chosen not in table.profiles:
        raise BadInput(f"--external-profile {chosen!r}: {path.name} has {', '.join(table.profiles)}")
    return chosen, table.profiles[chosen]


def compare_storage(
    cfg: StackConfig,
    prices: PriceTable,
    stack_total_usd_per_month: float,
    *,
    access_share_per_month: float,
    profile_name: str | None = None,
    horizon_days: int = STORAGE_HORIZON_DAYS,
) -> StorageComparison:
    """Price the lesser-used collections in the datastore bucket and in the external store."""
    bucket = cfg.buckets.get(DATASTORE_ROLE)
    if bucket is None:
        raise BadInput(f"{cfg.source}: stack {cfg.stack} has no {DATASTORE_ROLE} bucket to compare")
    if cfg.meta.data_preview != "dp0.1":
        raise BadInput(
            f"{cfg.source}: the lesser-used collections are known for DP0.1 only (Appendix B); "
            f"stack {cfg.stack} serves {cfg.meta.data_preview}"
        )
    name, ext = load_profile(profile_name)
    volume_gb, files = lesser_used_volume()
    days = class_days(bucket, horizon_days)
    weights = {cls: d / horizon_days for cls, d in days.items()}
    s_gcs = sum(w * prices.gcs_usd_per_gb_month[c].usd for c, w in weights.items())  # type: ignore[index,misc]
    retrieval = sum(w * prices.gcs_retrieval_usd_per_gb[c].usd for c, w in weights.items())  # type: ignore[index,misc]
    get_gcs = sum(w * prices.gcs_class_b_usd_per_10k[c].usd / 10_000 for c, w in weights.items())  # type: ignore[index,misc]
    get_ext = ext.get_usd_per_1000.usd / 1000

    def gcs(r: float) -> float:
        return volume_gb * s_gcs + r * (volume_gb * retrieval + files * get_gcs)

    def external(r: float) -> float:
        return volume_gb * ext.storage_usd_per_gb_month.usd + r * (
            volume_gb * ext.egress_usd_per_gb.usd + files * get_ext
        )

    fixed = gcs(0.0) - external(0.0)  # storage saved by going external
    slope = (external(1.0) - external(0.0)) - (gcs(1.0) - gcs(0.0))  # extra cost per unit share read
    break_even = fixed / slope if slope and fixed / slope > 0 else None
    cheaper_below = "external" if fixed > 0 else "gcs"
    base_without = stack_total_usd_per_month  # the estimate already holds the data in GCS (no reads)
    return StorageComparison(
        stack=cfg.stack,
        profile=name,
        lesser_used_gb=volume_gb,
        lesser_used_files=files,
        access_share_per_month=access_share_per_month,
        gcs_usd_per_month=gcs(access_share_per_month),
        external_usd_per_month=external(access_share_per_month),
        stack_total_gcs_usd_per_month=base_without + (gcs(access_share_per_month) - gcs(0.0)),
        stack_total_external_usd_per_month=base_without - gcs(0.0) + external(access_share_per_month),
        break_even_share_per_month=break_even,
        cheaper_below_break_even=cheaper_below,
        notes=[
            f"GCS: {DATASTORE_ROLE} lifecycle over {horizon_days} days {days}: ${s_gcs:.4f}/GB-month, "
            f"retrieval ${retrieval:.4f}/GB, Class B ${get_gcs * 1000:.5f} per 1,000 reads",
            f"external ({name}): ${ext.storage_usd_per_gb_month.usd}/GB-month, egress "
            f"${ext.egress_usd_per_gb.usd}/GB, GET ${ext.get_usd_per_1000.usd} per 1,000",
            "a read share r reads r x the volume and r x the files per month; the rest of the stack is "
            "the same on both sides",
        ],
    )
