"""Storage component: one GCS bucket per `idf:buckets` role (Butler datastore of the data
preview, Qserv ingest staging, backups).

Every bucket: uniform bucket-level access, public access prevention enforced, no force-destroy,
`protect=True`, labels; versioning where the stack says the data is irreplaceable; lifecycle rules
that move data to NEARLINE/COLDLINE and expire noncurrent versions and staging data, since
storage is the seed's named cost driver.

The one exception is a temporary scale stack's scratch bucket (:func:`scratch_bucket`): data it
regenerates, in the scale-test project, which must go with the stack when `idf scale down` or the
reaper destroys it; so `force_destroy`, no `protect`, and a lifecycle that deletes every object
after a few days should a destroy fail. The policy pack allows exactly that shape on scale stacks
only (``infra/policy/rules.py``, ``_is_scale_scratch_bucket``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.config import BucketConfig

__all__ = ["Buckets", "BucketsArgs", "ScratchBucketArgs", "lifecycle_rules", "scratch_bucket"]


def lifecycle_rules(bucket: BucketConfig) -> list[gcp.storage.BucketLifecycleRuleArgs]:
    """The lifecycle rules a bucket's config asks for."""
    rules: list[gcp.storage.BucketLifecycleRuleArgs] = []
    for days, storage_class, matches in (
        (bucket.nearline_after_days, "NEARLINE", ["STANDARD"]),
        (bucket.coldline_after_days, "COLDLINE", ["STANDARD", "NEARLINE"]),
    ):
        if days is not None:
            rules.append(
                gcp.storage.BucketLifecycleRuleArgs(
                    action=gcp.storage.BucketLifecycleRuleActionArgs(
                        type="SetStorageClass", storage_class=storage_class
                    ),
                    condition=gcp.storage.BucketLifecycleRuleConditionArgs(
                        age=days, matches_storage_classes=matches
                    ),
                )
            )
    if bucket.delete_noncurrent_after_days is not None:
        rules.append(
            gcp.storage.BucketLifecycleRuleArgs(
                action=gcp.storage.BucketLifecycleRuleActionArgs(type="Delete"),
                condition=gcp.storage.BucketLifecycleRuleConditionArgs(
                    days_since_noncurrent_time=bucket.delete_noncurrent_after_days, with_state="ARCHIVED"
                ),
            )
        )
    if bucket.delete_after_days is not None:
        rules.append(
            gcp.storage.BucketLifecycleRuleArgs(
                action=gcp.storage.BucketLifecycleRuleActionArgs(type="Delete"),
                condition=gcp.storage.BucketLifecycleRuleConditionArgs(age=bucket.delete_after_days),
            )
        )
    return rules


def _private_bucket(
    resource_name: str,
    *,
    name: str,
    project: str,
    location: str,
    force_destroy: bool,
    versioning: bool,
    lifecycle_rules: list[gcp.storage.BucketLifecycleRuleArgs],
    labels: dict[str, str],
    opts: pulumi.ResourceOptions | None,
) -> gcp.storage.Bucket:
    """Every bucket of the program: STANDARD, uniform bucket-level access, public access prevented
    (one definition of what the policy pack's bucket rules require)."""
    return gcp.storage.Bucket(
        resource_name,
        name=name,
        project=project,
        location=location,
        storage_class="STANDARD",
        uniform_bucket_level_access=True,
        public_access_prevention="enforced",
        force_destroy=force_destroy,
        versioning=gcp.storage.BucketVersioningArgs(enabled=versioning),
        lifecycle_rules=lifecycle_rules,
        labels=labels,
        opts=opts,
    )


@dataclass(frozen=True)
class BucketsArgs:
    """Inputs of :class:`Buckets`."""

    buckets: dict[str, BucketConfig]
    """Bucket role (`butler_datastore`) -> bucket."""
    project: str
    labels: dict[str, str]


class Buckets(pulumi.ComponentResource):
    """The stack's buckets, by role."""

    buckets: dict[str, gcp.storage.Bucket]

    def __init__(self, name: str, args: BucketsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("idf:storage:Buckets", name, None, opts)
        self.buckets = {}
        for role, bucket in args.buckets.items():
            self.buckets[role] = _private_bucket(
                f"{name}-{role.replace('_', '-')}",
                name=bucket.name,
                project=args.project,
                location=bucket.location,
                force_destroy=False,
                versioning=bucket.versioning,
                lifecycle_rules=lifecycle_rules(bucket),
                labels={**args.labels, "role": role.replace("_", "-")},
                opts=pulumi.ResourceOptions(parent=self, protect=True),
            )
        self.register_outputs({"bucket_names": {r: b.name for r, b in self.buckets.items()}})


@dataclass(frozen=True)
class ScratchBucketArgs:
    """Inputs of :func:`scratch_bucket`."""

    name: str
    project: str
    location: str
    labels: dict[str, str]
    role: str
    """The bucket's ``role`` label (the policy pack recognises a scale stack's scratch bucket by it)."""
    delete_after_days: int


def scratch_bucket(
    resource_name: str, args: ScratchBucketArgs, opts: pulumi.ResourceOptions | None = None
) -> gcp.storage.Bucket:
    """A bucket of regenerable data destroyed with its temporary stack, objects and all."""
    return _private_bucket(
        resource_name,
        name=args.name,
        project=args.project,
        location=args.location,
        # Destroyed with the stack (idf scale down, the reaper) although it holds objects.
        force_destroy=True,
        versioning=False,
        lifecycle_rules=[
            gcp.storage.BucketLifecycleRuleArgs(
                action=gcp.storage.BucketLifecycleRuleActionArgs(type="Delete"),
                condition=gcp.storage.BucketLifecycleRuleConditionArgs(age=args.delete_after_days),
            )
        ],
        labels={**args.labels, "role": args.role},
        opts=opts,
    )
