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
- Cloud SQL holds the Butler registry: private, encrypted in transit, recoverable, protected;
- GKE runs the Science Platform: private nodes, Workload Identity, shielded nodes, RBAC only,
  a restricted control plane; node pools patched and repaired automatically;
- no shell access except through the notebooks (seed §2.1.3): only HTTPS ingress from anywhere;
- temporary scale-test capacity must expire, and every labelled resource says whose it is.
"""

from __future__ import annotations

import functools
import importlib
import inspect
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
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

__all__ = [
    "DEV_STACKS",
    "OWNERSHIP_LABELS",
    "POLICIES",
    "PUBLIC_PRINCIPALS",
    "Violation",
    "evaluate_inventory",
    "labels_of",
    "parse_expires_at",
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
# What holds data that cannot be regenerated: the registry and the datastore/ingest/backup buckets.
STATEFUL_TYPES = frozenset({BUCKET, SQL_INSTANCE, "gcp:sql/database:Database"})

PUBLIC_PRINCIPALS = frozenset({"allUsers", "allAuthenticatedUsers"})
PUBLIC_PREDEFINED_ACLS = frozenset({"publicRead", "publicReadWrite"})
PRIMITIVE_ROLES = frozenset({"roles/owner", "roles/editor"})
SSL_ENFORCING_MODES = frozenset({"ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"})
ANYWHERE_RANGES = frozenset({"0.0.0.0/0", "::/0"})
HTTPS_PORT = "443"
# Stacks where a Cloud SQL instance may be destroyed freely (throw-away development).
DEV_STACKS = frozenset({"dev"})
# Labels every labelled resource carries: which stack made it and which team answers for it.
OWNERSHIP_LABELS = ("stack", "owner")
EXPIRES_AT_LABEL = "expires-at"
_EXPIRES_AT = re.compile(r"(?P<day>\d{4}-\d{2}-\d{2})(t(?P<hour>\d{2})-(?P<minute>\d{2})z)?")
# A node pool is temporary scale-test capacity when its stack is a scale-test stack or a label says so.
SCALE_TEST_STACK_PREFIX = "qserv-scale"
TEMPORARY_MARKERS = {"temporary": "true", "purpose": "scale-test"}

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
    # The class part of the token: ``gcp:projects/iAMMember:IAMMember`` -> ``IAMMember``.
    return bool(re.search(r":[A-Za-z0-9]*IAM(Member|Binding|Policy)$", resource_type))


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


def _stateful_protected(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in STATEFUL_TYPES:
        return
    stack = stack_of_urn(args.urn)
    if stack not in DEV_STACKS and not args.opts.protect:
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
    if args.props.get("enableLegacyAbac") is True:
        report("enableLegacyAbac is true; authorization must be RBAC only.", args.urn)


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
def _scale_pool_expires_at(args: ResourceValidationArgs, report: ReportViolation) -> None:
    labels = labels_of(args.resource_type, args.props, args.provider.props if args.provider else None) or {}
    k8s_labels = _get(args.props, "nodeConfig", "labels") or {}
    temporary = stack_of_urn(args.urn).startswith(SCALE_TEST_STACK_PREFIX) or any(
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


@_only(FIREWALL)
def _firewall_no_open_ingress(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if str(args.props.get("direction") or "INGRESS").upper() != "INGRESS":
        return
    if args.props.get("disabled") is True:
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


def _labels_stack_owner(args: ResourceValidationArgs, report: ReportViolation) -> None:
    labels = labels_of(args.resource_type, args.props, args.provider.props if args.provider else None)
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


def _policy(name: str, description: str, validate: Validation) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


POLICIES: list[ResourceValidationPolicy] = [
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
        "Cloud SQL has deletion protection on outside dev.",
        _sql_deletion_protection,
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
    _policy(
        "scale-pool-expires-at",
        "Temporary scale-test node pools carry an expires-at date label.",
        _scale_pool_expires_at,
    ),
    _policy(
        "no-primitive-roles-for-service-accounts",
        "No service account is granted roles/owner or roles/editor.",
        _no_primitive_roles_for_service_accounts,
    ),
    _policy(
        "firewall-https-only-from-internet",
        "No firewall rule opens anything but tcp:443 to 0.0.0.0/0 or ::/0 (no SSH).",
        _firewall_no_open_ingress,
    ),
    _policy(
        "labels-stack-owner",
        "Every resource that takes labels carries stack and owner labels.",
        _labels_stack_owner,
    ),
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
    policies: Sequence[ResourceValidationPolicy] = POLICIES,
    provider_props: Mapping[str, Any] | None = None,
) -> list[Violation]:
    """Run resource policies on an inventory exactly as the Pulumi engine would call them.

    ``resources`` are mock-engine records (objects or dicts with ``type``, ``name``, ``urn``,
    camelCase ``inputs`` and optionally ``protect``); ``provider_props`` are the default provider's
    inputs (``defaultLabels``).
    """
    provider = (
        PolicyProviderResource("pulumi:providers:gcp", dict(provider_props), "", "default")
        if provider_props is not None
        else None
    )
    violations: list[Violation] = []
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
                [],
                None,
                [],
                PolicyCustomTimeouts(0, 0, 0),
                [],
            ),
            provider=provider,
        )
        for policy in policies:

            def report(
                message: str, violation_urn: str | None = None, _name: str = policy.name, _urn: str = urn
            ) -> None:
                violations.append(Violation(_name, violation_urn or _urn, message))

            policy.validate(args, report)
    return violations
