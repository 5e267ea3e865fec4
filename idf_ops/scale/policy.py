"""The scale-test guardrail as a pulumi-policy rule: a scale stack declares no stateful resource.

This module owns one rule, `scale-stack-no-stateful-resources`: on a scale-test stack (stack name
`qserv-scale*`, or a resource labelled `purpose=scale-test`), Cloud SQL, buckets and standalone
persistent disks are refused, because a temporary stack that is destroyed (or reaped) with them
would destroy data, and a scale stack must never declare or touch another stack's stateful
resources (it references dp01's Butler read-only). The policy pack (`infra/policy/__main__.py`)
can list :data:`SCALE_STACK_POLICIES` beside its own rules; the tests run it on the mock-engine
inventory through `infra.policy.rules.evaluate_inventory`, exactly as the engine would call it.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

__all__ = ["SCALE_STACK_NO_STATEFUL", "SCALE_STACK_POLICIES", "SCALE_STACK_PREFIX", "STATEFUL_TYPES"]

SCALE_STACK_PREFIX = "qserv-scale"
# pulumi-gcp type tokens of resources that hold data.
STATEFUL_TYPES = frozenset(
    {
        "gcp:sql/databaseInstance:DatabaseInstance",
        "gcp:sql/database:Database",
        "gcp:sql/user:User",
        "gcp:storage/bucket:Bucket",
        "gcp:compute/disk:Disk",
        "gcp:compute/regionDisk:RegionDisk",
        "gcp:filestore/instance:Instance",
    }
)


def _stack_of(urn: str) -> str:
    """`urn:pulumi:<stack>::<project>::<type>::<name>` -> `<stack>`."""
    head = urn.split("::", 1)[0]
    parts = head.split(":", 2)
    return parts[2] if len(parts) == 3 else ""


def _labels(props: Any) -> dict[str, Any]:
    labels = props.get("labels") or props.get("userLabels") or {}
    settings = props.get("settings") or {}
    if not labels and isinstance(settings, dict):
        labels = settings.get("userLabels") or {}
    return labels if isinstance(labels, dict) else {}


def _no_stateful(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in STATEFUL_TYPES:
        return
    stack = _stack_of(args.urn)
    marked = _labels(args.props).get("purpose") == "scale-test"
    if stack.startswith(SCALE_STACK_PREFIX) or marked:
        report(
            f"{args.resource_type} on scale-test stack {stack!r}: a temporary stack must not declare "
            "stateful resources (they would be destroyed with it); reference the serving stack's "
            "(idf:butler_reference) instead.",
            args.urn,
        )


SCALE_STACK_NO_STATEFUL = ResourceValidationPolicy(
    name="scale-stack-no-stateful-resources",
    description="Scale-test stacks declare no Cloud SQL, bucket or persistent disk.",
    validate=_no_stateful,
    enforcement_level=EnforcementLevel.MANDATORY,
)

SCALE_STACK_POLICIES = [SCALE_STACK_NO_STATEFUL]
