"""The IDF guardrail policies: what no stack may deploy, as pulumi-policy validations.

This module owns the rules only. ``__main__.py`` (the policy pack entry point that
``pulumi preview --policy-pack infra/policy`` starts) wraps :data:`POLICIES` in a ``PolicyPack``;
tests and ``evaluate_inventory`` call the same validate functions offline on the mock-engine
inventory, so a rule is tested exactly as the Pulumi CLI would run it.

Rules read resource *inputs* as the engine sends them: pulumi-gcp type tokens
(``gcp:storage/bucket:Bucket``) and camelCase property names (``uniformBucketLevelAccess``).
A setting left to a provider or GCP default counts as unset: guardrails must be explicit in code.

Why each rule exists (threat model in ``runbooks/security.md``):

- buckets hold the Butler datastore (DP0 images and catalogs for data-rights holders only,
  seed §2.1.4): never public;
- Cloud SQL holds the Butler registry: private, encrypted in transit, recoverable, protected
  (by Pulumi and by GCP); a bucket is never destroyed with its objects;
- the serving stacks survive a zone outage: regional Cloud SQL and a regional GKE control plane;
- GKE runs the Science Platform: private nodes, Workload Identity, shielded nodes, RBAC only,
  no client certificates, a restricted control plane on a release channel, no default node pool;
- node pools are patched and repaired automatically, boot verified (secure boot), run as their own
  service account holding the node roles only, hide the node metadata from pods, and resize in
  place (a replaced pool loses its nodes' local SSD data);
- no shell access except through the notebooks (seed §2.1.3): only HTTPS ingress from anywhere,
  and the Qserv front end (no user authentication of its own) from private ranges only;
- temporary scale-test capacity must expire, and every labelled resource says whose it is;
- pods stay in their containers: no privileged container, host namespace or host path, except
  the two narrow, named allowances of the Qserv local-SSD setup (:data:`POD_HOST_ACCESS_ALLOWANCES`);
  every image is pinned to a version;
- Jobs and pods run an image pinned by digest, with a Workload Identity of their own;
- the keys of the external S3 store (NCSA) are never in plain text in a resource;
- upstream software fetched at deploy time (the qserv-operator manifest, Helm charts) is one
  reviewed release: an exact version, and for a downloaded file its SHA-256;
- Qserv workers whose pool pays for local NVMe SSDs keep their data on them (the sizing and cost
  model assume it; docs/sizing.md).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import ipaddress
import json
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from idf_core.facts import SCALE_STACK_PREFIX, STATEFUL_TYPES, is_scale_stack
from idf_core.qserv_ingest import SCALE_STAGING_DELETE_AFTER_DAYS, SCALE_STAGING_ROLE
from infra.tap_egress import TAP_NAMESPACE

__all__ = [
    "DEV_STACKS",
    "LOCAL_SSD_STORAGE_CLASS",
    "NODE_METADATA_MODE",
    "OWNERSHIP_LABELS",
    "POD_HOST_ACCESS_ALLOWANCES",
    "POLICIES",
    "PUBLIC_PRINCIPALS",
    "QSERV_FRONTEND_PORT",
    "SCALE_STACK_POLICIES",
    "Violation",
    "evaluate_inventory",
    "labels_of",
    "parse_expires_at",
    "pod_host_access",
    "stack_of_urn",
]

# --- resource type tokens (pulumi-gcp 10) ---------------------------------------------------
BUCKET = "gcp:storage/bucket:Bucket"
BUCKET_IAM_TYPES = (
    "gcp:storage/bucketIAMMember:BucketIAMMember",
    "gcp:storage/bucketIAMBinding:BucketIAMBinding",
    "gcp:storage/bucketIAMPolicy:BucketIAMPolicy",
)
BUCKET_ACL_TYPES = (
    "gcp:storage/bucketAccessControl:BucketAccessControl",
    "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl",
    "gcp:storage/objectAccessControl:ObjectAccessControl",
    "gcp:storage/bucketACL:BucketACL",
    "gcp:storage/defaultObjectACL:DefaultObjectACL",
)
SQL_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
GKE_CLUSTER = "gcp:container/cluster:Cluster"
GKE_NODE_POOL = "gcp:container/nodePool:NodePool"
FIREWALL = "gcp:compute/firewall:Firewall"

PUBLIC_PRINCIPALS = frozenset({"allUsers", "allAuthenticatedUsers"})
PUBLIC_PREDEFINED_ACLS = frozenset({"publicRead", "publicReadWrite"})
# The basic roles span every service of the project (infra/iam.py grants none of them).
PRIMITIVE_ROLES = frozenset({"roles/owner", "roles/editor", "roles/viewer"})
SSL_ENFORCING_MODES = frozenset({"ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"})
ANYWHERE_RANGES = frozenset({"0.0.0.0/0", "::/0"})
HTTPS_PORT = "443"
# The Qserv czar proxy (MySQL protocol): no user authentication of its own, so private ranges only.
QSERV_FRONTEND_PORT = 4040
RELEASE_CHANNELS = frozenset({"RAPID", "REGULAR", "STABLE", "EXTENDED"})
# Pods see the GKE metadata server (Workload Identity), never the node's own credentials.
NODE_METADATA_MODE = "GKE_METADATA"
# The Compute Engine default service account (project editor): never what nodes run as.
_DEFAULT_COMPUTE_SA = re.compile(r"^\d+-compute@developer\.gserviceaccount\.com$")
# A GKE location that is a region (us-central1), not a zone (us-central1-b).
_REGION = re.compile(r"^[a-z]+-[a-z]+\d+$")
# Stacks where a Cloud SQL instance may be destroyed freely (throw-away development).
DEV_STACKS = frozenset({"dev"})
# Labels every labelled resource carries: which stack made it and which team answers for it.
OWNERSHIP_LABELS = ("stack", "owner")
EXPIRES_AT_LABEL = "expires-at"
_EXPIRES_AT = re.compile(r"(?P<day>\d{4}-\d{2}-\d{2})(t(?P<hour>\d{2})-(?P<minute>\d{2})z)?")
# A node pool is temporary scale-test capacity when its stack is a scale-test stack or a label says so.
TEMPORARY_MARKERS = {"temporary": "true", "purpose": "scale-test"}

# --- Kubernetes (pulumi-kubernetes type tokens; inputs are Kubernetes wire format) -----------
# Workload kind -> path from the object to its pod spec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
QSERV_CR = "kubernetes:qserv.lsst.org/v1beta1:Qserv"
K8S_STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
# The class infra/qserv_local_ssd.py builds over the worker pool's local SSDs.
LOCAL_SSD_STORAGE_CLASS = "qserv-local-ssd"
LOCAL_SSD_NAMESPACE = "qserv-local-ssd"
# The only host access any pod of ours may have: (kind, namespace, name) -> the findings allowed,
# each for one stated purpose. Anything else the same workload asks for is still reported, and the
# same spec under another name or namespace gets no allowance.
POD_HOST_ACCESS_ALLOWANCES: dict[tuple[str, str, str], frozenset[str]] = {
    # Assembles the worker node's local SSDs into a RAID-0, formats it once and mounts it on the
    # node: needs the node's devices and mount namespace (nsenter into PID 1), so its init
    # container is privileged and the pod shares the host PID namespace. No host path, no network.
    ("DaemonSet", LOCAL_SSD_NAMESPACE, "qserv-local-ssd-raid"): frozenset(
        {"hostPID", "privileged container raid-setup"}
    ),
    # The sig-storage local static provisioner reads (read-only) the directory where that RAID is
    # mounted, to publish it as a PersistentVolume.
    ("DaemonSet", LOCAL_SSD_NAMESPACE, "qserv-local-ssd-provisioner"): frozenset(
        {"hostPath /mnt/disks/raid (read-only)"}
    ),
}
_HOST_NAMESPACES = ("hostPID", "hostIPC", "hostNetwork")

# Resources whose labels do not live in a top-level `labels` input: type -> input path.
_LABEL_PATHS: dict[str, tuple[str, ...]] = {
    SQL_INSTANCE: ("settings", "userLabels"),
    GKE_CLUSTER: ("resourceLabels",),
    GKE_NODE_POOL: ("nodeConfig", "resourceLabels"),
}


@dataclass(frozen=True)
class Violation:
    """One policy violation: which policy, which resource, and what to change."""

    policy: str
    urn: str
    message: str

    def __str__(self) -> str:
        return f"[{self.policy}] {self.urn}: {self.message}"


# --- helpers --------------------------------------------------------------------------------
def _get(props: Mapping[str, Any] | None, *path: str) -> Any:
    """Nested input lookup; None when any step is missing."""
    node: Any = props
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    return [value]


def stack_of_urn(urn: str) -> str:
    """The stack name inside a Pulumi URN (``urn:pulumi:<stack>::<project>::<type>::<name>``)."""
    parts = urn.split(":")
    return parts[2] if len(parts) > 2 and urn.startswith("urn:pulumi:") else ""


@functools.cache
def _has_top_level_labels(resource_type: str) -> bool:
    """Whether the pulumi-gcp resource class behind a type token takes a ``labels`` input."""
    match = re.fullmatch(r"gcp:([A-Za-z0-9]+)/[A-Za-z0-9]+:([A-Za-z0-9]+)", resource_type)
    if match is None:
        return False
    module_name, class_name = match.groups()
    try:
        with warnings.catch_warnings():
            # pulumi_gcp modules warn about their own deprecated aliases when loaded.
            warnings.simplefilter("ignore", DeprecationWarning)
            module = importlib.import_module(f"pulumi_gcp.{module_name.lower()}")
            cls = getattr(module, class_name, None)
    except ImportError:
        return False
    init = getattr(cls, "_internal_init", None)
    return init is not None and "labels" in inspect.signature(init).parameters


def label_path(resource_type: str) -> tuple[str, ...] | None:
    """Where a resource type keeps its GCP labels, or None when it has none."""
    if resource_type in _LABEL_PATHS:
        return _LABEL_PATHS[resource_type]
    return ("labels",) if _has_top_level_labels(resource_type) else None


def labels_of(
    resource_type: str, props: Mapping[str, Any], provider_props: Mapping[str, Any] | None = None
) -> dict[str, str] | None:
    """Effective GCP labels: the provider's ``defaultLabels`` overlaid by the resource's own."""
    path = label_path(resource_type)
    if path is None:
        return None
    labels: dict[str, str] = {}
    defaults = _get(provider_props, "defaultLabels")
    if isinstance(defaults, Mapping):
        labels.update({str(k): str(v) for k, v in defaults.items()})
    own = _get(props, *path)
    if isinstance(own, Mapping):
        labels.update({str(k): str(v) for k, v in own.items()})
    return labels


def _labels_of_args(args: ResourceValidationArgs) -> dict[str, str] | None:
    """:func:`labels_of` of the resource under validation, with its provider's default labels."""
    return labels_of(args.resource_type, args.props, args.provider.props if args.provider else None)


def _iam_members(resource_type: str, props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(role, member) pairs granted by any IAM member/binding/policy resource."""
    if resource_type.endswith("Member"):
        return [(str(props.get("role", "")), str(props.get("member", "")))]
    if resource_type.endswith("Binding"):
        return [(str(props.get("role", "")), str(m)) for m in _as_list(props.get("members"))]
    if resource_type.endswith("Policy"):
        raw = props.get("policyData")
        try:
            data = json.loads(raw) if isinstance(raw, str) else (raw or {})
        except json.JSONDecodeError:
            # An unparseable policy cannot be shown safe.
            return [("<unparseable policyData>", "allUsers")]
        pairs: list[tuple[str, str]] = []
        for binding in _as_list(data.get("bindings") if isinstance(data, Mapping) else None):
            if isinstance(binding, Mapping):
                pairs += [(str(binding.get("role", "")), str(m)) for m in _as_list(binding.get("members"))]
        return pairs
    return []


def _is_iam_type(resource_type: str) -> bool:
    # The class part of the token: ``gcp:projects/iAMMember:IAMMember`` -> ``IAMMember``; newer
    # resources spell it ``Iam`` (``gcp:secretmanager/secretIamMember:SecretIamMember``).
    return bool(re.search(r":[A-Za-z0-9]*(IAM|Iam)(Member|Binding|Policy)$", resource_type))


Validation = Callable[[ResourceValidationArgs, ReportViolation], None]


def _only(*types: str) -> Callable[[Validation], Validation]:
    """Restrict a validation to some resource types."""

    def wrap(check: Validation) -> Validation:
        @functools.wraps(check)
        def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
            if args.resource_type in types:
                check(args, report)

        return validate

    return wrap


# --- buckets --------------------------------------------------------------------------------
def _no_public_bucket_members(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type in BUCKET_IAM_TYPES:
        for role, member in _iam_members(args.resource_type, args.props):
            if member in PUBLIC_PRINCIPALS:
                report(
                    f"grants {role} to {member}: DP0 data is for data-rights holders only; "
                    "grant to a group or service account instead.",
                    args.urn,
                )
    elif args.resource_type in BUCKET_ACL_TYPES:
        entities = _as_list(args.props.get("entity")) + [
            str(e).split(":", 1)[-1] for e in _as_list(args.props.get("roleEntities"))
        ]
        for entity in entities:
            if str(entity) in PUBLIC_PRINCIPALS:
                report(
                    f"ACL entity {entity} makes objects public; remove it (buckets use uniform "
                    "bucket-level access and IAM only).",
                    args.urn,
                )
    elif args.resource_type == BUCKET and args.props.get("predefinedAcl") in PUBLIC_PREDEFINED_ACLS:
        report(f"predefinedAcl {args.props['predefinedAcl']} makes the bucket public; remove it.", args.urn)


@_only(BUCKET)
def _bucket_public_access_prevention(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.props.get("publicAccessPrevention") != "enforced":
        report(
            f"publicAccessPrevention is {args.props.get('publicAccessPrevention')!r}; "
            "set public_access_prevention='enforced'.",
            args.urn,
        )


@_only(BUCKET)
def _bucket_uniform_access(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.props.get("uniformBucketLevelAccess") is not True:
        report(
            "uniformBucketLevelAccess is not true; set uniform_bucket_level_access=True "
            "(no per-object ACLs).",
            args.urn,
        )


def _is_scale_scratch_bucket(args: ResourceValidationArgs) -> bool:
    """A temporary scale stack's scratch bucket (infra/storage.py ``scratch_bucket``): on a scale stack,
    labelled ``role=scale-staging``, unversioned, and emptied by a lifecycle Delete rule within
    SCALE_STAGING_DELETE_AFTER_DAYS. Only that shape may be force-destroyed and unprotected: the
    data is regenerated every test, and it must go with the stack (its storage is the cost risk)."""
    if args.resource_type != BUCKET or not is_scale_stack(stack_of_urn(args.urn)):
        return False
    if (_labels_of_args(args) or {}).get("role") != SCALE_STAGING_ROLE:
        return False
    if _get(args.props, "versioning", "enabled") is True:
        return False
    for rule in _as_list(args.props.get("lifecycleRules")):
        age = _get(rule, "condition", "age")
        if _get(rule, "action", "type") == "Delete" and isinstance(age, int | float):
            return 0 < age <= SCALE_STAGING_DELETE_AFTER_DAYS
    return False


@_only(BUCKET)
def _bucket_no_force_destroy(args: ResourceValidationArgs, report: ReportViolation) -> None:
    stack = stack_of_urn(args.urn)
    if _is_scale_scratch_bucket(args):
        return
    if stack not in DEV_STACKS and args.props.get("forceDestroy") is True:
        report(
            f"forceDestroy is true on stack {stack!r}: deleting the bucket would delete every object in "
            "it; set force_destroy=False.",
            args.urn,
        )


# --- Cloud SQL ------------------------------------------------------------------------------
@_only(SQL_INSTANCE)
def _sql_no_public_ip(args: ResourceValidationArgs, report: ReportViolation) -> None:
    ip = _get(args.props, "settings", "ipConfiguration") or {}
    if ip.get("ipv4Enabled") is not False:
        report(
            "settings.ipConfiguration.ipv4Enabled is not false (GCP defaults to a public IPv4); "
            "set ipv4_enabled=False.",
            args.urn,
        )
    if not ip.get("privateNetwork"):
        report(
            "settings.ipConfiguration.privateNetwork is empty; attach the instance to the VPC "
            "(private IP only).",
            args.urn,
        )
    for network in _as_list(ip.get("authorizedNetworks")):
        if _get(network, "value") in ANYWHERE_RANGES:
            report(f"authorizedNetworks contains {network.get('value')}; remove it.", args.urn)


@_only(SQL_INSTANCE)
def _sql_ssl_required(args: ResourceValidationArgs, report: ReportViolation) -> None:
    mode = _get(args.props, "settings", "ipConfiguration", "sslMode")
    if mode not in SSL_ENFORCING_MODES:
        report(
            f"settings.ipConfiguration.sslMode is {mode!r}; set ssl_mode to one of "
            f"{sorted(SSL_ENFORCING_MODES)}.",
            args.urn,
        )


@_only(SQL_INSTANCE)
def _sql_backups_pitr(args: ResourceValidationArgs, report: ReportViolation) -> None:
    backup = _get(args.props, "settings", "backupConfiguration") or {}
    if backup.get("enabled") is not True:
        report(
            "settings.backupConfiguration.enabled is not true; the Butler registry needs daily backups.",
            args.urn,
        )
    if backup.get("pointInTimeRecoveryEnabled") is not True:
        report(
            "settings.backupConfiguration.pointInTimeRecoveryEnabled is not true; enable "
            "point-in-time recovery.",
            args.urn,
        )


@_only(SQL_INSTANCE)
def _sql_deletion_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    stack = stack_of_urn(args.urn)
    if stack in DEV_STACKS:
        return
    if args.props.get("deletionProtection") is not True:
        report(
            f"deletionProtection is not true on stack {stack!r}; only {sorted(DEV_STACKS)} may "
            "destroy a registry. Set deletion_protection=True.",
            args.urn,
        )
    if _get(args.props, "settings", "deletionProtectionEnabled") is not True:
        report(
            f"settings.deletionProtectionEnabled is not true on stack {stack!r}; GCP itself must refuse "
            "to delete the registry (console, gcloud). Set deletion_protection_enabled=True.",
            args.urn,
        )


def _is_serving_stack(stack: str) -> bool:
    return bool(stack) and stack not in DEV_STACKS and not is_scale_stack(stack)


@_only(SQL_INSTANCE, GKE_CLUSTER)
def _serving_stack_regional(args: ResourceValidationArgs, report: ReportViolation) -> None:
    stack = stack_of_urn(args.urn)
    if not _is_serving_stack(stack):
        return
    if args.resource_type == SQL_INSTANCE:
        availability = _get(args.props, "settings", "availabilityType")
        if availability != "REGIONAL":
            report(
                f"settings.availabilityType is {availability!r} on serving stack {stack!r}; set "
                "'REGIONAL' (a standby in another zone).",
                args.urn,
            )
    elif not _REGION.match(str(args.props.get("location") or "")):
        report(
            f"location is {args.props.get('location')!r} on serving stack {stack!r}: a zonal control "
            "plane; set a region (e.g. us-central1).",
            args.urn,
        )


def _stateful_protected(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in STATEFUL_TYPES:
        return
    stack = stack_of_urn(args.urn)
    if stack not in DEV_STACKS and not args.opts.protect and not _is_scale_scratch_bucket(args):
        report(
            f"stateful resource is not protected on stack {stack!r}; declare it with "
            "ResourceOptions(protect=True) so no update can delete or replace it.",
            args.urn,
        )


# --- GKE ------------------------------------------------------------------------------------
@_only(GKE_CLUSTER)
def _gke_private_nodes(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if _get(args.props, "privateClusterConfig", "enablePrivateNodes") is not True:
        report(
            "privateClusterConfig.enablePrivateNodes is not true; nodes must have no public IPs.", args.urn
        )


@_only(GKE_CLUSTER)
def _gke_workload_identity(args: ResourceValidationArgs, report: ReportViolation) -> None:
    pool = _get(args.props, "workloadIdentityConfig", "workloadPool")
    if not pool or not str(pool).endswith(".svc.id.goog"):
        report(
            f"workloadIdentityConfig.workloadPool is {pool!r}; set it to '<project>.svc.id.goog' "
            "(pods use Workload Identity, never node keys).",
            args.urn,
        )


@_only(GKE_CLUSTER)
def _gke_shielded_nodes(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.props.get("enableShieldedNodes") is not True:
        report("enableShieldedNodes is not true; set enable_shielded_nodes=True.", args.urn)


@_only(GKE_CLUSTER)
def _gke_no_legacy_abac(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.props.get("enableLegacyAbac") is not False:
        report(
            f"enableLegacyAbac is {args.props.get('enableLegacyAbac')!r}; set enable_legacy_abac=False "
            "(authorization is RBAC only).",
            args.urn,
        )


@_only(GKE_CLUSTER)
def _gke_no_client_certificate(args: ResourceValidationArgs, report: ReportViolation) -> None:
    issue = _get(args.props, "masterAuth", "clientCertificateConfig", "issueClientCertificate")
    if issue is not False:
        report(
            f"masterAuth.clientCertificateConfig.issueClientCertificate is {issue!r}; set it to False "
            "(a client certificate is a credential that cannot be revoked).",
            args.urn,
        )


@_only(GKE_CLUSTER)
def _gke_no_default_node_pool(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.props.get("removeDefaultNodePool") is not True:
        report(
            "removeDefaultNodePool is not true; the default pool runs as the Compute Engine default "
            "service account without our node settings. Set remove_default_node_pool=True.",
            args.urn,
        )


@_only(GKE_CLUSTER)
def _gke_release_channel(args: ResourceValidationArgs, report: ReportViolation) -> None:
    channel = _get(args.props, "releaseChannel", "channel")
    if channel not in RELEASE_CHANNELS:
        report(
            f"releaseChannel.channel is {channel!r}; enrol the cluster in one of "
            f"{sorted(RELEASE_CHANNELS)} so the control plane is patched.",
            args.urn,
        )


@_only(GKE_CLUSTER)
def _gke_master_authorized_networks(args: ResourceValidationArgs, report: ReportViolation) -> None:
    blocks = _as_list(_get(args.props, "masterAuthorizedNetworksConfig", "cidrBlocks"))
    if not blocks:
        report(
            "masterAuthorizedNetworksConfig.cidrBlocks is empty; list the admin networks allowed "
            "to reach the control plane.",
            args.urn,
        )
    for block in blocks:
        if _get(block, "cidrBlock") in ANYWHERE_RANGES:
            report(
                f"masterAuthorizedNetworksConfig allows {block.get('cidrBlock')}; the control plane "
                "must not be open to the internet.",
                args.urn,
            )


@_only(GKE_NODE_POOL)
def _node_pool_auto_repair_upgrade(args: ResourceValidationArgs, report: ReportViolation) -> None:
    management = args.props.get("management") or {}
    for key in ("autoRepair", "autoUpgrade"):
        if management.get(key) is not True:
            report(f"management.{key} is not true; node pools repair and patch themselves.", args.urn)


@_only(GKE_NODE_POOL)
def _node_pool_secure_boot(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if _get(args.props, "nodeConfig", "shieldedInstanceConfig", "enableSecureBoot") is not True:
        report(
            "nodeConfig.shieldedInstanceConfig.enableSecureBoot is not true; nodes boot verified "
            "software only.",
            args.urn,
        )


@_only(GKE_NODE_POOL)
def _node_pool_metadata_concealed(args: ResourceValidationArgs, report: ReportViolation) -> None:
    mode = _get(args.props, "nodeConfig", "workloadMetadataConfig", "mode")
    if mode != NODE_METADATA_MODE:
        report(
            f"nodeConfig.workloadMetadataConfig.mode is {mode!r}; set {NODE_METADATA_MODE!r} so pods "
            "cannot read the node's credentials from the metadata server.",
            args.urn,
        )
    legacy = _get(args.props, "nodeConfig", "metadata", "disable-legacy-endpoints")
    if legacy != "true":
        report(
            f"nodeConfig.metadata.disable-legacy-endpoints is {legacy!r}; set 'true' (the legacy "
            "metadata endpoints answer without the Metadata-Flavor header).",
            args.urn,
        )


@_only(GKE_NODE_POOL)
def _node_pool_service_account(args: ResourceValidationArgs, report: ReportViolation) -> None:
    account = _get(args.props, "nodeConfig", "serviceAccount")
    if not account or _DEFAULT_COMPUTE_SA.match(str(account)):
        report(
            f"nodeConfig.serviceAccount is {account!r}; nodes run as the stack's own node service "
            "account, never the Compute Engine default one (a project editor).",
            args.urn,
        )


@_only(GKE_NODE_POOL)
def _node_pool_resize_in_place(args: ResourceValidationArgs, report: ReportViolation) -> None:
    # initialNodeCount is immutable in GKE: a changed value replaces the pool (pulumi-gcp #412).
    if args.props.get("initialNodeCount") is None:
        return
    if not {"initialNodeCount", "initial_node_count"} & set(args.opts.ignore_changes or []):
        report(
            "initialNodeCount is set but not in ignore_changes; a resize would replace the pool "
            "(and lose its nodes' local SSD data). Add ignore_changes=['initialNodeCount'].",
            args.urn,
        )


def _node_service_account_roles(args: StackValidationArgs, report: ReportViolation) -> None:
    """The node service accounts hold the node roles of ``infra.iam.NODE_ROLES`` and nothing else."""
    # The program's own list, loaded when the rule runs (it brings in pulumi_gcp).
    from infra.iam import NODE_ROLES  # noqa: PLC0415

    node_members = {
        f"serviceAccount:{account}"
        for r in args.resources
        if r.resource_type == GKE_NODE_POOL and (account := _get(r.props, "nodeConfig", "serviceAccount"))
    }
    for resource in args.resources:
        if not _is_iam_type(resource.resource_type):
            continue
        for role, member in _iam_members(resource.resource_type, resource.props):
            if member in node_members and role not in NODE_ROLES:
                report(
                    f"grants {role} to the node service account {member}; nodes hold only "
                    f"{NODE_ROLES} (infra/iam.py): give the workload its own service account.",
                    resource.urn,
                )


@_only(GKE_NODE_POOL)
def _scale_pool_expires_at(args: ResourceValidationArgs, report: ReportViolation) -> None:
    labels = _labels_of_args(args) or {}
    k8s_labels = _get(args.props, "nodeConfig", "labels") or {}
    temporary = is_scale_stack(stack_of_urn(args.urn)) or any(
        labels.get(k) == v or k8s_labels.get(k) == v for k, v in TEMPORARY_MARKERS.items()
    )
    if not temporary:
        return
    expires = labels.get(EXPIRES_AT_LABEL)
    if not expires:
        report(
            f"temporary scale-test node pool has no '{EXPIRES_AT_LABEL}' label in "
            "nodeConfig.resourceLabels; add one (YYYY-MM-DD) so it is torn down.",
            args.urn,
        )
        return
    if parse_expires_at(expires) is None:
        report(
            f"'{EXPIRES_AT_LABEL}' label {expires!r} is not a GCP-label timestamp "
            "(YYYY-MM-DD or YYYY-MM-DDthh-mmz).",
            args.urn,
        )


def parse_expires_at(value: str) -> datetime | None:
    """Parse an ``expires-at`` label: ``2026-12-15`` or ``2026-12-15t00-00z`` (label values allow
    no colons or capitals); None when it is not a real UTC date or time."""
    match = _EXPIRES_AT.fullmatch(value)
    if match is None:
        return None
    day, hour, minute = match.group("day"), match.group("hour") or "00", match.group("minute") or "00"
    try:
        return datetime.fromisoformat(f"{day}T{hour}:{minute}:00+00:00")
    except ValueError:
        return None


# --- IAM and network ------------------------------------------------------------------------
def _no_primitive_roles_for_service_accounts(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not _is_iam_type(args.resource_type):
        return
    for role, member in _iam_members(args.resource_type, args.props):
        if role in PRIMITIVE_ROLES and member.startswith("serviceAccount:"):
            report(
                f"grants primitive role {role} to {member}; grant the narrowest predefined role.", args.urn
            )


def _is_active_ingress(props: Mapping[str, Any]) -> bool:
    return str(props.get("direction") or "INGRESS").upper() == "INGRESS" and props.get("disabled") is not True


@_only(FIREWALL)
def _firewall_no_open_ingress(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not _is_active_ingress(args.props):
        return
    open_ranges = ANYWHERE_RANGES.intersection(str(r) for r in _as_list(args.props.get("sourceRanges")))
    if not open_ranges:
        return
    for rule in _as_list(args.props.get("allows")):
        protocol = str(_get(rule, "protocol") or "").lower()
        ports = [str(p) for p in _as_list(_get(rule, "ports"))]
        if protocol != "tcp" or ports != [HTTPS_PORT]:
            shown = f"{protocol}:{','.join(ports) or 'all ports'}"
            report(
                f"allows {shown} from {', '.join(sorted(open_ranges))}; only tcp:443 (HTTPS) may be "
                "open to the internet (no shell access except through the notebooks).",
                args.urn,
            )


def _opens_port(rule: Mapping[str, Any], port: int) -> bool:
    """Whether an ``allows`` entry lets TCP ``port`` through (all protocols and port ranges count)."""
    if str(_get(rule, "protocol") or "").lower() not in {"tcp", "all"}:
        return False
    ports = [str(p) for p in _as_list(_get(rule, "ports"))]
    if not ports:
        return True
    for entry in ports:
        low, _, high = entry.partition("-")
        if low.isdigit() and int(low) <= port <= int(high or low):
            return True
    return False


def _is_private_range(source: str) -> bool:
    try:
        return ipaddress.ip_network(source, strict=False).is_private
    except ValueError:
        return False  # a range that cannot be read cannot be shown private


@_only(FIREWALL)
def _firewall_qserv_private_only(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not _is_active_ingress(args.props):
        return
    if not any(_opens_port(rule, QSERV_FRONTEND_PORT) for rule in _as_list(args.props.get("allows"))):
        return
    public = [str(r) for r in _as_list(args.props.get("sourceRanges")) if not _is_private_range(str(r))]
    if public:
        report(
            f"opens the Qserv front end (tcp:{QSERV_FRONTEND_PORT}) to {', '.join(public)}; Qserv does "
            "not authenticate users: allow the Science Platform's private ranges only.",
            args.urn,
        )


def _admits(source: str, cidr: str) -> bool:
    """Whether source range ``source`` overlaps ``cidr`` (a range that cannot be read counts)."""
    try:
        return ipaddress.ip_network(source, strict=False).overlaps(ipaddress.ip_network(cidr, strict=False))
    except (TypeError, ValueError):
        return True


def _firewall_webhooks_from_control_plane(args: StackValidationArgs, report: ReportViolation) -> None:
    """The rule that lets the GKE control plane call webhooks on the nodes' webhook ports
    (infra/gke.py) admits the stack's control-plane ranges (masterIpv4CidrBlock) and nothing else:
    a rule opening those ports to a source that reaches the control-plane range must name it alone.
    (In-VPC rules whose sources do not overlap it, such as node-to-node ranges, are other rules.)"""
    # The program's own ports, loaded when the rule runs (it brings in pulumi_gcp).
    from infra.gke import CONTROL_PLANE_WEBHOOK_PORTS  # noqa: PLC0415

    control_planes = {
        str(cidr)
        for r in args.resources
        if r.resource_type == GKE_CLUSTER
        and (cidr := _get(r.props, "privateClusterConfig", "masterIpv4CidrBlock"))
    }
    for resource in args.resources:
        if resource.resource_type != FIREWALL or not _is_active_ingress(resource.props):
            continue
        allows = _as_list(resource.props.get("allows"))
        ports = sorted(p for p in CONTROL_PLANE_WEBHOOK_PORTS if any(_opens_port(a, p) for a in allows))
        sources = {str(r) for r in _as_list(resource.props.get("sourceRanges"))}
        if not ports or not any(_admits(s, cp) for s in sources for cp in control_planes):
            continue
        others = sorted(sources - control_planes)
        if others:
            report(
                f"opens the webhook port(s) {', '.join(f'tcp:{p}' for p in ports)} to the GKE control "
                f"plane ({', '.join(sorted(control_planes))}) and to {', '.join(others)}; only the control "
                "plane calls webhooks: set sourceRanges to the cluster's master_ipv4_cidr_block alone.",
                resource.urn,
            )


def _labels_stack_owner(args: ResourceValidationArgs, report: ReportViolation) -> None:
    labels = _labels_of_args(args)
    if labels is None:
        return
    missing = [key for key in OWNERSHIP_LABELS if not labels.get(key)]
    if missing:
        path = ".".join(label_path(args.resource_type) or ())
        report(
            f"labels {missing} missing from {path}; every labelled resource carries "
            f"{list(OWNERSHIP_LABELS)}.",
            args.urn,
        )
    stack = stack_of_urn(args.urn)
    if labels.get("stack") and stack and labels["stack"] != stack:
        report(f"label stack={labels['stack']!r} but the resource belongs to stack {stack!r}.", args.urn)


# --- Kubernetes workloads -------------------------------------------------------------------
def _pod_spec(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    path = POD_SPEC_PATHS.get(resource_type)
    spec = _get(props, *path) if path else None
    return spec if isinstance(spec, Mapping) else None


def _containers(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = _as_list(spec.get("initContainers")) + _as_list(spec.get("containers"))
    return [c for c in found if isinstance(c, Mapping)]


def pod_host_access(spec: Mapping[str, Any]) -> list[str]:
    """What a pod spec takes from its node: host namespaces, privileged or escalating containers,
    added capabilities, host paths (each as one finding, the keys of the allowances)."""
    findings = [ns for ns in _HOST_NAMESPACES if spec.get(ns) is True]
    for container in _containers(spec):
        name = container.get("name")
        context = container.get("securityContext") or {}
        if _get(context, "privileged") is True:
            findings.append(f"privileged container {name}")
        if _get(context, "allowPrivilegeEscalation") is True:
            findings.append(f"privilege escalation in container {name}")
        for cap in _as_list(_get(context, "capabilities", "add")):
            findings.append(f"capability {cap} in container {name}")
    read_only_volumes = {
        str(m.get("name"))
        for c in _containers(spec)
        for m in _as_list(c.get("volumeMounts"))
        if isinstance(m, Mapping) and m.get("readOnly") is True
    }
    writable_volumes = {
        str(m.get("name"))
        for c in _containers(spec)
        for m in _as_list(c.get("volumeMounts"))
        if isinstance(m, Mapping) and m.get("readOnly") is not True
    }
    for volume in _as_list(spec.get("volumes")):
        path = _get(volume, "hostPath", "path")
        if path is None:
            continue
        name = str(_get(volume, "name"))
        read_only = name in read_only_volumes and name not in writable_volumes
        findings.append(f"hostPath {path}" + (" (read-only)" if read_only else ""))
    return findings


def _pod_host_access(args: ResourceValidationArgs, report: ReportViolation) -> None:
    spec = _pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    kind = args.resource_type.rsplit(":", 1)[-1]
    namespace = str(_get(args.props, "metadata", "namespace") or "default")
    name = str(_get(args.props, "metadata", "name") or args.name)
    allowed = POD_HOST_ACCESS_ALLOWANCES.get((kind, namespace, name), frozenset())
    for finding in pod_host_access(spec):
        if finding not in allowed:
            report(
                f"{kind} {namespace}/{name} takes host access ({finding}); pods stay in their "
                "containers. Only the workloads of POD_HOST_ACCESS_ALLOWANCES (infra/policy/rules.py) "
                "get named exceptions.",
                args.urn,
            )


_PINNED_TAG = re.compile(r"^[^@]+:(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$")
# The all-zero sha256: a placeholder no registry serves, so it pins nothing anyone reviewed.
_ZERO_DIGEST = "@sha256:" + "0" * 64


def placeholder_digest(image: str) -> str | None:
    """A violation message when ``image`` is pinned to the all-zero placeholder digest."""
    if _ZERO_DIGEST in image:
        return (
            f"image {image!r} is pinned to the all-zero placeholder digest, which pins nothing: "
            "record the real one (`docker buildx imagetools inspect NAME:TAG`)."
        )
    return None


def _images_pinned(args: ResourceValidationArgs, report: ReportViolation) -> None:
    spec = _pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    for container in _containers(spec):
        image = str(container.get("image") or "")
        if (problem := placeholder_digest(image)) is not None:
            report(f"container {container.get('name')}: {problem}", args.urn)
            continue
        if "@sha256:" in image:
            continue
        last = image.rsplit("/", 1)[-1]  # a registry port (host:5000/x) is not a tag
        match = _PINNED_TAG.match(last)
        if match is None or match.group("tag") == "latest":
            report(
                f"container {container.get('name')} runs image {image!r}: pin a version tag (not "
                "'latest') or a digest, so a node pulls what was reviewed.",
                args.urn,
            )


# --- batch pods: pinned by digest, Workload Identity ----------------------------------------
# Jobs and bare pods run once with the credentials of their service account (the Butler bootstrap
# writes the datastore and the registry): what they run must be exactly what was reviewed (a tag
# can be re-pushed, a digest cannot), and what they may touch must come from a Workload Identity
# binding of their own, never from the namespace's `default` service account or the node.
# Deployments and StatefulSets too: the HTCondor pool's daemons (infra/batch_htcondor.py) are.
BATCH_POD_TYPES = (
    "kubernetes:core/v1:Pod",
    "kubernetes:batch/v1:Job",
    "kubernetes:batch/v1:CronJob",
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
)
K8S_SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
WORKLOAD_IDENTITY_ANNOTATION = "iam.gke.io/gcp-service-account"
_IMAGE_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _batch_pods_pinned_with_workload_identity(args: StackValidationArgs, report: ReportViolation) -> None:
    identities = {
        (str(_get(r.props, "metadata", "namespace") or "default"), str(_get(r.props, "metadata", "name")))
        for r in args.resources
        if r.resource_type == K8S_SERVICE_ACCOUNT
        and WORKLOAD_IDENTITY_ANNOTATION in (_get(r.props, "metadata", "annotations") or {})
    }
    for r in args.resources:
        spec = _pod_spec(r.resource_type, r.props) if r.resource_type in BATCH_POD_TYPES else None
        if spec is None:
            continue
        kind = r.resource_type.rsplit(":", 1)[-1]
        namespace = str(_get(r.props, "metadata", "namespace") or "default")
        where = f"{kind} {namespace}/{_get(r.props, 'metadata', 'name') or r.name}"
        for container in _containers(spec):
            image = str(container.get("image") or "")
            if not _IMAGE_DIGEST.search(image):
                report(
                    f"{where}: container {container.get('name')} runs image {image!r}: pin it by digest "
                    "(image@sha256:<64 hex>), a tag can be re-pushed.",
                    r.urn,
                )
        account = spec.get("serviceAccountName")
        if not account or account == "default" or (namespace, str(account)) not in identities:
            report(
                f"{where}: runs as service account {account or 'default'!r}, which is not a Kubernetes "
                f"service account of the stack annotated {WORKLOAD_IDENTITY_ANNOTATION} in {namespace}: "
                "give it a Workload Identity of its own.",
                r.urn,
            )


# --- S3 keys (the external NCSA store) -------------------------------------------------------
# The keys of an S3 store are a Secret Manager secret or a Kubernetes Secret, read through
# secretKeyRef: never a container's literal env value, a ConfigMap, or a URL with user info
# (lsst-resources profile URLs carry both keys as the user info before the host).
_S3_KEY_ENV = re.compile(
    r"^(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|LSST_RESOURCES_S3_PROFILE_\w+)$"
)
_URL_WITH_KEYS = re.compile(r"https?://[^/\s:@]+:[^/\s@]+@")
_S3_KEY_WORDS = re.compile(r"(?i)aws_secret_access_key|secret_access_key")


def _strings(value: Any, path: str) -> Iterable[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, child in value.items():
            yield from _strings(child, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _strings(child, f"{path}[{i}]")


def _s3_keys_not_plain_text(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == "kubernetes:core/v1:Secret":
        return  # where keys belong (its values are Pulumi secrets)
    spec = _pod_spec(args.resource_type, args.props)
    for container in _containers(spec) if spec is not None else []:
        for env in _as_list(container.get("env")):
            if isinstance(env, Mapping) and _S3_KEY_ENV.match(str(env.get("name"))) and "value" in env:
                report(
                    f"container {container.get('name')} sets {env.get('name')} to a literal value: S3 keys "
                    "come from a Secret (valueFrom.secretKeyRef), never the manifest.",
                    args.urn,
                )
    for where, text in _strings(args.props, ""):
        if _URL_WITH_KEYS.search(text):
            report(
                f"{where} holds a URL with user:password in it (S3 keys in plain text); use a Secret.",
                args.urn,
            )
        elif args.resource_type == "kubernetes:core/v1:ConfigMap" and _S3_KEY_WORDS.search(text):
            report(f"ConfigMap {where} names an S3 secret access key: keys belong in a Secret.", args.urn)


# --- upstream manifests and charts fetched at deploy time -----------------------------------
# A resource of the program that downloads something (infra/qserv_operator.py
# VerifiedOperatorManifest): a Pulumi dynamic resource with a `url` input.
DYNAMIC_RESOURCE = "pulumi-python:dynamic:Resource"
# YAML groups applied by the Kubernetes provider; a URL in `files` is fetched with no digest check.
K8S_YAML_GROUPS = ("kubernetes:yaml/v2:ConfigGroup", "kubernetes:yaml/v2:ConfigFile")
HELM_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")
# Argo CD's Application (infra/argocd.py: the Phalanx app-of-apps).
ARGO_APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
_GIT_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# A ref that names a moving target, never a release.
_MOVING_REFS = frozenset({"main", "master", "head", "latest", "develop", "stable", "tip"})
_EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$|^\d{4}\.\d+\.\d+(-rc\d+)?$")


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.lower().startswith(("http://", "https://"))


def _upstream_pinned(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """What the program fetches at deploy time is one reviewed release: a version and a digest."""
    props = args.props
    if args.resource_type == DYNAMIC_RESOURCE and "url" in props:
        version = str(props.get("version") or "")
        url = str(props.get("url") or "")
        if not _SHA256.match(str(props.get("sha256") or "")):
            report(
                f"downloads {url!r} without a SHA-256 pin (sha256 {props.get('sha256')!r}); pin the "
                "published file's digest so a changed upstream file is refused before it is applied.",
                args.urn,
            )
        if not _EXACT_VERSION.match(version) or version.lower() in _MOVING_REFS or f"/{version}/" not in url:
            report(
                f"downloads {url!r} at version {version!r}: pin an exact release tag and fetch the "
                "file from that tag (a branch moves under the digest).",
                args.urn,
            )
    elif args.resource_type in K8S_YAML_GROUPS:
        for entry in _as_list(props.get("files")):
            if _is_url(entry):
                report(
                    f"applies {entry!r} straight from the network, unverified; download it through "
                    "infra/qserv_operator.py's VerifiedOperatorManifest (version + sha256) and pass "
                    "the verified text.",
                    args.urn,
                )
    elif args.resource_type in HELM_TYPES:
        version = str(props.get("version") or "")
        chart = str(props.get("chart") or "")
        if _is_url(chart):
            report(
                f"installs the chart archive {chart!r} by URL; name the chart in its repository at an "
                "exact version instead.",
                args.urn,
            )
        elif not _EXACT_VERSION.match(version):
            report(
                f"installs chart {chart!r} at version {version!r}: pin an exact chart version (no "
                "range, no default-to-latest), so what runs is what was reviewed.",
                args.urn,
            )
        repo = _get(props, "repositoryOpts", "repo")
        if repo is not None and not str(repo).startswith("https://"):
            report(
                f"fetches chart {chart!r} from {repo!r}: use the chart repository's https:// URL.",
                args.urn,
            )
    elif args.resource_type == ARGO_APPLICATION:
        _argo_sources_pinned(args, report)


def _argo_sources_pinned(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """What Argo CD syncs is fetched at sync time too: a Git source at one commit, a chart source at
    an exact version (never a branch such as Phalanx's default `main`)."""
    spec = _get(args.props, "spec")
    for source in [_get(spec, "source"), *_as_list(_get(spec, "sources"))]:
        if not isinstance(source, Mapping):
            continue
        revision = str(source.get("targetRevision") or "")
        chart = source.get("chart")
        pinned = _EXACT_VERSION.match(revision) if chart else _GIT_COMMIT.match(revision)
        if not pinned:
            where = f"{source.get('repoURL')!r}" + (f" chart {chart!r}" if chart else "")
            report(
                f"Argo CD Application syncs {where} at targetRevision {revision!r}: pin a full "
                "commit SHA (Git) or an exact chart version, so a sync deploys what was reviewed.",
                args.urn,
            )


# --- the scale-test reaper (infra/reaper.py) ----------------------------------------------------
IAM_CUSTOM_ROLE = "gcp:projects/iAMCustomRole:IAMCustomRole"
CLOUD_RUN_JOB = "gcp:cloudrunv2/job:Job"


def _reaper_least_privilege(args: StackValidationArgs, report: ReportViolation) -> None:
    """The reaper may destroy in the scale-test project only, change only the node roles there,
    write only the scale stacks' Pulumi state, read one secret, manage budgets; nothing else."""
    from infra import reaper as rp  # noqa: PLC0415 -- the program's own lists, loaded when the rule runs

    allowed_permissions = {
        rp.DESTROY_ROLE_ID: set(rp.DESTROY_PERMISSIONS),
        rp.IAM_CLEANUP_ROLE_ID: set(rp.IAM_CLEANUP_PERMISSIONS),
        rp.STATE_LIST_ROLE_ID: set(rp.STATE_LIST_PERMISSIONS),
        rp.SCRATCH_ROLE_ID: set(rp.SCRATCH_PERMISSIONS),
    }
    for role in (r for r in args.resources if r.resource_type == IAM_CUSTOM_ROLE):
        allowed = allowed_permissions.get(str(role.props.get("roleId")))
        extra = sorted(set(map(str, _as_list(role.props.get("permissions")))) - (allowed or set()))
        if allowed is not None and extra:
            report(
                f"reaper role {role.props.get('roleId')} gains {extra}: the reaper may only delete "
                "what a scale stack declares (infra/reaper.py DESTROY_PERMISSIONS and the three small "
                "roles); a wider role could touch stacks that are not temporary.",
                role.urn,
            )
    jobs = [
        r for r in args.resources if r.resource_type == CLOUD_RUN_JOB and r.props.get("name") == rp.JOB_NAME
    ]
    home = {str(j.props.get("project")) for j in jobs}
    for job in jobs:
        for container in _as_list(_get(job.props, "template", "template", "containers")):
            image = str(_get(container, "image") or "")
            if not _IMAGE_DIGEST.search(image) or placeholder_digest(image) is not None:
                report(
                    f"the reaper job runs image {image!r}: run the idf-ops build's digest reference "
                    "(infra.images.idf_ops_image), not a tag or a placeholder digest.",
                    job.urn,
                )
    reaper = f"serviceAccount:{rp.REAPER_ACCOUNT_ID}@"
    invoker = f"serviceAccount:{rp.INVOKER_ACCOUNT_ID}@"
    for grant in (r for r in args.resources if _is_iam_type(r.resource_type)):
        condition = str(_get(grant.props, "condition", "expression") or "")
        for role, member in _iam_members(grant.resource_type, grant.props):  # type: ignore[assignment]
            if member.startswith(invoker):
                if not (grant.resource_type.startswith("gcp:cloudrunv2/") and role == rp.INVOKER_ROLE):
                    report(
                        f"grants {role} to the reaper's trigger {member}; it may only run the reaper "
                        f"job ({rp.INVOKER_ROLE} on {rp.JOB_NAME}).",
                        grant.urn,
                    )
                continue
            if not member.startswith(reaper):
                continue
            problem = _reaper_grant_problem(
                grant.resource_type,
                grant.props,
                role=role,  # type: ignore[arg-type]
                condition=condition,
                home=home,
            )
            if problem:
                report(f"grants {role} to the reaper {member}: {problem}", grant.urn)


def _reaper_grant_problem(
    resource_type: str, props: Mapping[str, Any], *, role: str, condition: str, home: set[str]
) -> str | None:
    """Why one grant to the reaper is wider than infra/reaper.py declares, or None."""
    if resource_type.startswith("gcp:projects/"):
        return _reaper_project_grant(props, role=role, condition=condition, home=home)
    if resource_type.startswith("gcp:storage/bucketIAM"):
        return _reaper_state_grant(props, role=role, condition=condition, home=home)
    from infra import reaper as rp  # noqa: PLC0415

    secret = resource_type.startswith("gcp:secretmanager/") and role == rp.SECRET_ROLE and not condition
    budgets = resource_type.startswith("gcp:billing/") and role == rp.BILLING_ROLE
    if secret or budgets:
        return None
    return "not one of the grants infra/reaper.py declares (see its module docstring)."


def _reaper_scratch_grant(condition: str) -> str | None:
    from infra import reaper as rp  # noqa: PLC0415

    if condition == rp.scratch_bucket_condition():
        return None
    return (
        "bucket and object deletion without the condition that limits it to the scale stacks' "
        f"scratch buckets (infra/reaper.py scratch_bucket_condition). Got {condition!r}."
    )


def _reaper_project_grant(
    props: Mapping[str, Any], *, role: str, condition: str, home: set[str]
) -> str | None:
    from infra import reaper as rp  # noqa: PLC0415
    from infra.iam import NODE_ROLES  # noqa: PLC0415

    project = str(props.get("project") or "")
    if project in home:
        return (
            f"project {project} runs the reaper and holds permanent stacks; the reaper's roles "
            "belong in the scale-test project only."
        )
    if role == f"projects/{project}/roles/{rp.DESTROY_ROLE_ID}" and not condition:
        return None
    if role == f"projects/{project}/roles/{rp.SCRATCH_ROLE_ID}":
        return _reaper_scratch_grant(condition)
    if role != f"projects/{project}/roles/{rp.IAM_CLEANUP_ROLE_ID}":
        return "only the three reaper roles of infra/reaper.py may be granted on a project."
    if condition == rp.iam_cleanup_condition(list(NODE_ROLES)):
        return None
    return (
        "setIamPolicy without the condition that limits it to the node roles (infra/reaper.py "
        f"iam_cleanup_condition): it could grant itself anything. Got {condition!r}."
    )


def _reaper_state_grant(props: Mapping[str, Any], *, role: str, condition: str, home: set[str]) -> str | None:
    from infra import reaper as rp  # noqa: PLC0415

    bucket = str(props.get("bucket") or "")
    if role == rp.STATE_OBJECT_ROLE:
        if condition == rp.state_condition(bucket):
            return None
        return (
            "object access to the state bucket without the condition limiting it to the "
            f"{SCALE_STACK_PREFIX}* stacks: the reaper would read and rewrite dp01's state. "
            f"Got {condition!r}."
        )
    if any(role == f"projects/{p}/roles/{rp.STATE_LIST_ROLE_ID}" for p in home) and not condition:
        return None
    return f"on bucket {bucket} the reaper holds only {rp.STATE_OBJECT_ROLE} (conditioned) and the list role."


# --- Qserv worker storage (stack-wide: the CR and its worker pool are two resources) ----------
def _worker_pool_of(cr_props: Mapping[str, Any]) -> list[str]:
    terms = _get(
        cr_props,
        "spec",
        "worker",
        "affinity",
        "nodeAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
        "nodeSelectorTerms",
    )
    pools: list[str] = []
    for term in _as_list(terms):
        for expression in _as_list(_get(term, "matchExpressions")):
            if _get(expression, "key") == "cloud.google.com/gke-nodepool":
                pools += [str(v) for v in _as_list(_get(expression, "values"))]
    return pools


def _qserv_workers_on_local_ssd(args: StackValidationArgs, report: ReportViolation) -> None:
    pools = {str(r.props.get("name")): r for r in args.resources if r.resource_type == GKE_NODE_POOL}
    local_classes = {
        str(_get(r.props, "metadata", "name"))
        for r in args.resources
        if r.resource_type == K8S_STORAGE_CLASS
        and r.props.get("provisioner") == "kubernetes.io/no-provisioner"
    }
    for cr in (r for r in args.resources if r.resource_type == QSERV_CR):
        ssd_pools = [
            name
            for name in _worker_pool_of(cr.props)
            if name in pools
            and (_get(pools[name].props, "nodeConfig", "localNvmeSsdBlockConfig", "localSsdCount") or 0) > 0
        ]
        if not ssd_pools:
            continue
        worker_class = _get(cr.props, "spec", "worker", "storageClassName")
        if worker_class != LOCAL_SSD_STORAGE_CLASS:
            report(
                f"Qserv workers run on pool {ssd_pools[0]} with local NVMe SSDs but claim "
                f"storageClassName {worker_class!r}: the SSDs would be billed and unused. Claim "
                f"{LOCAL_SSD_STORAGE_CLASS!r} (idf:qserv.worker_volume: local-nvme-ssd) or drop the SSDs.",
                cr.urn,
            )
        elif LOCAL_SSD_STORAGE_CLASS not in local_classes:
            report(
                f"Qserv workers claim {LOCAL_SSD_STORAGE_CLASS!r} but the stack declares no such "
                "no-provisioner StorageClass; the claims would never bind.",
                cr.urn,
            )


# --- Cloud Storage FUSE (issue 11: the ingest Jobs mount their staging bucket) ---------------
GCS_FUSE_DRIVER = "gcsfuse.csi.storage.gke.io"


def _gcs_fuse_addon_enabled(args: StackValidationArgs, report: ReportViolation) -> None:
    clusters = [r for r in args.resources if r.resource_type == GKE_CLUSTER]
    without = [
        str(c.props.get("name") or c.urn)
        for c in clusters
        if _get(c.props, "addonsConfig", "gcsFuseCsiDriverConfig", "enabled") is not True
    ]
    if not without:  # every cluster enables it (a partial inventory without clusters: nothing to say)
        return
    for resource in args.resources:
        spec = _pod_spec(resource.resource_type, resource.props)
        if spec is None:
            continue
        if any(
            isinstance(v, Mapping) and _get(v, "csi", "driver") == GCS_FUSE_DRIVER
            for v in _as_list(spec.get("volumes"))
        ):
            report(
                f"{resource.urn} mounts a volume through {GCS_FUSE_DRIVER} but cluster "
                f"{', '.join(without)} does not enable the "
                "Cloud Storage FUSE CSI add-on (addonsConfig.gcsFuseCsiDriverConfig.enabled, infra/gke.py); "
                "the pod would never start.",
                resource.urn,
            )


# --- TAP egress (issue 16, finding 7: TAP UPLOAD by URL is a server-side request forgery) -------
K8S_NAMESPACE = "kubernetes:core/v1:Namespace"
K8S_NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SUBNETWORK = "gcp:compute/subnetwork:Subnetwork"

# GCE's and GKE's metadata servers: they hand out the pods' (Workload Identity) tokens.
METADATA_ADDRESSES = ("169.254.169.254", "169.254.169.252")


def _cluster_ranges(args: StackValidationArgs) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    ranges = []
    for r in args.resources:
        if r.resource_type == SUBNETWORK:
            ranges.append(r.props.get("ipCidrRange"))
            ranges += [_get(s, "ipCidrRange") for s in _as_list(r.props.get("secondaryIpRanges"))]
        elif r.resource_type == GKE_CLUSTER:
            ranges.append(_get(r.props, "privateClusterConfig", "masterIpv4CidrBlock"))
    return [ipaddress.ip_network(str(c)) for c in ranges if c]


def _egress_leaks(rule: Any, internal: list[Any]) -> str | None:
    """What an egress rule of the tap namespace lets pods reach that they must not, or None."""
    peers = _as_list(_get(rule, "to"))
    if not peers:
        return "an egress rule without `to` allows every address"
    for peer in peers:
        block = _get(peer, "ipBlock")
        if not block:
            continue  # pod/namespace selectors: in-cluster peers chosen on purpose
        allowed = ipaddress.ip_network(str(_get(block, "cidr")))
        excepted = [ipaddress.ip_network(str(e)) for e in _as_list(_get(block, "except"))]
        for address in METADATA_ADDRESSES:
            ip = ipaddress.ip_address(address)
            if ip.version == allowed.version and ip in allowed and not any(ip in e for e in excepted):
                return f"ipBlock {allowed} lets TAP pods reach the metadata server {address}"
        for cluster in internal:
            if (
                cluster.version == allowed.version
                and allowed.overlaps(cluster)
                and not any(e.version == cluster.version and cluster.subnet_of(e) for e in excepted)
            ):
                return f"ipBlock {allowed} lets TAP pods reach the cluster range {cluster}"
    return None


def _tap_egress_denies_internal(args: StackValidationArgs, report: ReportViolation) -> None:
    namespaces = [
        r
        for r in args.resources
        if r.resource_type == K8S_NAMESPACE and _get(r.props, "metadata", "name") == TAP_NAMESPACE
    ]
    if not namespaces:
        return
    internal = _cluster_ranges(args)
    policies = [
        r
        for r in args.resources
        if r.resource_type == K8S_NETWORK_POLICY
        and _get(r.props, "metadata", "namespace") == TAP_NAMESPACE
        and not _get(r.props, "spec", "podSelector")
        and "Egress" in _as_list(_get(r.props, "spec", "policyTypes"))
    ]
    if not policies:
        report(
            f"namespace {TAP_NAMESPACE} has no NetworkPolicy limiting the egress of all its pods: a TAP "
            "UPLOAD by URL could reach the metadata server and cluster-internal services "
            "(infra/tap_egress.py).",
            namespaces[0].urn,
        )
        return
    for policy in policies:
        for rule in _as_list(_get(policy.props, "spec", "egress")):
            leak = _egress_leaks(rule, internal)
            if leak is not None:
                report(f"NetworkPolicy of namespace {TAP_NAMESPACE}: {leak}.", policy.urn)


def _policy(name: str, description: str, validate: Validation) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


# --- scale-test stacks ----------------------------------------------------------------------
def _scale_stack_no_stateful(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A temporary stack that is destroyed (or reaped) with data would destroy it, and a scale stack
    must never declare or touch another stack's stateful resources (it references dp01's Butler
    read-only): on a scale stack, or on a resource labelled ``purpose=scale-test``, refuse them."""
    if args.resource_type not in STATEFUL_TYPES or _is_scale_scratch_bucket(args):
        return
    stack = stack_of_urn(args.urn)
    marked = (_labels_of_args(args) or {}).get("purpose") == "scale-test"
    if is_scale_stack(stack) or marked:
        report(
            f"{args.resource_type} on scale-test stack {stack!r}: a temporary stack must not declare "
            "stateful resources (they would be destroyed with it); reference the serving stack's "
            "(idf:butler_reference) instead. The one exception is its scratch bucket "
            f"(infra/storage.py scratch_bucket: label role={SCALE_STAGING_ROLE}, unversioned, a "
            f"lifecycle Delete within {SCALE_STAGING_DELETE_AFTER_DAYS} days).",
            args.urn,
        )


SCALE_STACK_POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    ResourceValidationPolicy(
        name="scale-stack-no-stateful-resources",
        description=f"Scale-test stacks ({SCALE_STACK_PREFIX}*) declare no Cloud SQL, bucket or "
        "persistent disk, except their scratch staging bucket (emptied by its lifecycle).",
        validate=_scale_stack_no_stateful,
        enforcement_level=EnforcementLevel.MANDATORY,
    )
]


POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    _policy(
        "bucket-no-public-members",
        "No bucket IAM member, binding, policy or ACL grants allUsers/allAuthenticatedUsers.",
        _no_public_bucket_members,
    ),
    _policy(
        "bucket-public-access-prevention",
        "Buckets enforce public access prevention.",
        _bucket_public_access_prevention,
    ),
    _policy("bucket-uniform-access", "Buckets use uniform bucket-level access.", _bucket_uniform_access),
    _policy(
        "bucket-no-force-destroy",
        "Buckets outside dev are never destroyed with their objects (no force_destroy).",
        _bucket_no_force_destroy,
    ),
    _policy(
        "cloudsql-no-public-ip",
        "Cloud SQL has no public IPv4 and sits on the private network.",
        _sql_no_public_ip,
    ),
    _policy("cloudsql-ssl-required", "Cloud SQL accepts encrypted connections only.", _sql_ssl_required),
    _policy(
        "cloudsql-backups-pitr", "Cloud SQL has backups and point-in-time recovery on.", _sql_backups_pitr
    ),
    _policy(
        "cloudsql-deletion-protection",
        "Cloud SQL has deletion protection on outside dev, in Pulumi and in GCP.",
        _sql_deletion_protection,
    ),
    _policy(
        "serving-stacks-highly-available",
        "On the serving stacks (not dev, not scale tests) Cloud SQL and the GKE control plane are regional.",
        _serving_stack_regional,
    ),
    _policy(
        "stateful-resources-protected",
        "Cloud SQL instances, databases and buckets are protected (pulumi protect) outside dev.",
        _stateful_protected,
    ),
    _policy("gke-private-nodes", "GKE nodes have private IPs only.", _gke_private_nodes),
    _policy("gke-workload-identity", "GKE uses Workload Identity.", _gke_workload_identity),
    _policy("gke-shielded-nodes", "GKE uses shielded nodes.", _gke_shielded_nodes),
    _policy("gke-no-legacy-abac", "GKE has legacy ABAC off (RBAC only).", _gke_no_legacy_abac),
    _policy("gke-no-client-certificate", "GKE issues no client certificate.", _gke_no_client_certificate),
    _policy("gke-no-default-node-pool", "GKE removes its default node pool.", _gke_no_default_node_pool),
    _policy("gke-release-channel", "GKE is enrolled in a release channel.", _gke_release_channel),
    _policy(
        "gke-master-authorized-networks",
        "GKE control plane is reachable from listed networks only.",
        _gke_master_authorized_networks,
    ),
    _policy(
        "nodepool-auto-repair-upgrade",
        "Node pools auto-repair and auto-upgrade.",
        _node_pool_auto_repair_upgrade,
    ),
    _policy("nodepool-secure-boot", "Node pools boot with secure boot.", _node_pool_secure_boot),
    _policy(
        "nodepool-metadata-concealed",
        "Node pools serve pods the GKE metadata server and disable the legacy metadata endpoints.",
        _node_pool_metadata_concealed,
    ),
    _policy(
        "nodepool-dedicated-service-account",
        "Node pools run as a dedicated service account, not the Compute Engine default one.",
        _node_pool_service_account,
    ),
    _policy(
        "nodepool-resize-in-place",
        "Node pools ignore changes to initialNodeCount, so a resize never replaces them.",
        _node_pool_resize_in_place,
    ),
    StackValidationPolicy(
        name="node-service-account-least-privilege",
        description="The node service accounts are granted the node roles of infra/iam.py only.",
        validate=_node_service_account_roles,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    _policy(
        "scale-pool-expires-at",
        "Temporary scale-test node pools carry an expires-at date label.",
        _scale_pool_expires_at,
    ),
    _policy(
        "no-primitive-roles-for-service-accounts",
        "No service account is granted roles/owner, roles/editor or roles/viewer.",
        _no_primitive_roles_for_service_accounts,
    ),
    _policy(
        "firewall-https-only-from-internet",
        "No firewall rule opens anything but tcp:443 to 0.0.0.0/0 or ::/0 (no SSH).",
        _firewall_no_open_ingress,
    ),
    _policy(
        "firewall-qserv-private-only",
        f"No firewall rule opens the Qserv front end (tcp:{QSERV_FRONTEND_PORT}) to a non-private range.",
        _firewall_qserv_private_only,
    ),
    StackValidationPolicy(
        name="firewall-webhooks-from-control-plane-only",
        description="A firewall rule that opens the nodes' webhook ports (qserv-operator, cert-manager) "
        "admits the GKE control-plane range (master_ipv4_cidr_block) only.",
        validate=_firewall_webhooks_from_control_plane,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    _policy(
        "labels-stack-owner",
        "Every resource that takes labels carries stack and owner labels.",
        _labels_stack_owner,
    ),
    _policy(
        "k8s-pod-host-access",
        "No pod is privileged or uses host namespaces, host paths or added capabilities, except the "
        "named Qserv local-SSD DaemonSets, each for its stated need only.",
        _pod_host_access,
    ),
    _policy(
        "k8s-images-pinned", "Every container image is pinned to a version tag or digest.", _images_pinned
    ),
    _policy(
        "s3-keys-not-plain-text",
        "S3 keys (the external NCSA store) are never a literal env value, ConfigMap data or URL user info.",
        _s3_keys_not_plain_text,
    ),
    _policy(
        "upstream-manifests-pinned",
        "Manifests downloaded at deploy time carry an exact release and a SHA-256; YAML groups never "
        "apply a URL directly; Helm charts are installed at an exact version from an https repository; "
        "Argo CD Applications sync a Git commit SHA or an exact chart version.",
        _upstream_pinned,
    ),
    StackValidationPolicy(
        name="k8s-batch-pods-pinned-workload-identity",
        description="Every Job, CronJob, Pod, Deployment and StatefulSet runs images pinned by digest, "
        "as a Kubernetes service "
        "account of the stack bound to a GCP service account (Workload Identity).",
        validate=_batch_pods_pinned_with_workload_identity,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="qserv-workers-on-local-ssd",
        description="A Qserv CR whose worker pool has local NVMe SSDs claims the local-SSD StorageClass, "
        "and the stack declares that class.",
        validate=_qserv_workers_on_local_ssd,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="gke-gcs-fuse-addon",
        description="A stack whose pods mount a bucket through the Cloud Storage FUSE CSI driver enables "
        "that add-on on its GKE clusters.",
        validate=_gcs_fuse_addon_enabled,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="tap-egress-denies-internal",
        description="The pods of the tap namespace have a NetworkPolicy whose egress never reaches the "
        "metadata servers (169.254.169.254/.252) or the node, pod, service and control-plane ranges.",
        validate=_tap_egress_denies_internal,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="reaper-least-privilege",
        description="The scale-test reaper's roles and grants are exactly the narrow ones of "
        "infra/reaper.py: destroy in the scale-test project only, node-role IAM changes only, the "
        "scale stacks' Pulumi state only.",
        validate=_reaper_least_privilege,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    # The scale-test lifecycle's guardrail: part of the pack, so `pulumi up --policy-pack
    # infra/policy` and `idf scale up` enforce it too.
    *SCALE_STACK_POLICIES,
]


_REQUIRED = object()


def _field(resource: Any, *names: str, default: Any = _REQUIRED) -> Any:
    for name in names:
        if isinstance(resource, Mapping) and name in resource:
            return resource[name]
        if hasattr(resource, name):
            return getattr(resource, name)
    if default is not _REQUIRED:
        return default
    raise KeyError(f"inventory resource {resource!r} has none of {names}")


def evaluate_inventory(
    resources: Iterable[Any],
    policies: Sequence[ResourceValidationPolicy | StackValidationPolicy] = POLICIES,
    provider_props: Mapping[str, Any] | None = None,
) -> list[Violation]:
    """Run policies on an inventory exactly as the Pulumi engine would call them: resource policies
    once per resource, stack policies once with every resource.

    ``resources`` are mock-engine records (objects or dicts with ``type``, ``name``, ``urn``,
    camelCase ``inputs`` and optionally ``protect`` and ``ignore_changes``); ``provider_props`` are
    the default provider's inputs (``defaultLabels``).
    """
    provider = (
        PolicyProviderResource("pulumi:providers:gcp", dict(provider_props), "", "default")
        if provider_props is not None
        else None
    )
    violations: list[Violation] = []
    policy_resources: list[PolicyResource] = []
    for resource in resources:
        resource_type = str(_field(resource, "type", "resource_type", "typ"))
        urn = str(_field(resource, "urn"))
        args = ResourceValidationArgs(
            resource_type=resource_type,
            props=dict(_field(resource, "inputs", "props")),
            urn=urn,
            name=str(_field(resource, "name")),
            opts=PolicyResourceOptions(
                bool(_field(resource, "protect", default=False)),
                [str(path) for path in _field(resource, "ignore_changes", "ignoreChanges", default=[])],
                None,
                [],
                PolicyCustomTimeouts(0, 0, 0),
                [],
            ),
            provider=provider,
        )
        policy_resources.append(
            PolicyResource(args.resource_type, args.props, urn, args.name, args.opts, provider, None, [], {})
        )
        for policy in policies:
            if not isinstance(policy, ResourceValidationPolicy):
                continue

            def report(
                message: str, violation_urn: str | None = None, _name: str = policy.name, _urn: str = urn
            ) -> None:
                violations.append(Violation(_name, violation_urn or _urn, message))

            policy.validate(args, report)
    stack_args = StackValidationArgs(policy_resources)
    for policy in policies:
        if isinstance(policy, StackValidationPolicy):

            def report_stack(
                message: str, violation_urn: str | None = None, _name: str = policy.name
            ) -> None:
                violations.append(Violation(_name, violation_urn or "<stack>", message))

            policy.validate(stack_args, report_stack)
    return violations
