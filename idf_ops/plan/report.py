"""Human summary of an offline plan: resources grouped by type with their key sizing."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from idf_ops.plan.engine import OfflinePlan, PlannedResource

__all__ = ["inventory_table", "short_type", "sizing"]


def _get(d: dict[str, Any], *keys: str) -> Any:
    cur: Any = d
    for k in keys:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(k)
    return cur


def sizing(r: PlannedResource) -> str:  # noqa: PLR0911 -- one branch per resource type
    """The few inputs that say how big or how exposed a resource is."""
    i = r.inputs
    t = r.type
    if t == "gcp:container/cluster:Cluster":
        return f"{i.get('location')}, private nodes, channel {_get(i, 'releaseChannel', 'channel')}"
    if t == "gcp:container/nodePool:NodePool":
        nc = i.get("nodeConfig") or {}
        auto = i.get("autoscaling") or {}
        extra = []
        if _get(nc, "localNvmeSsdBlockConfig", "localSsdCount"):
            extra.append(f"{_get(nc, 'localNvmeSsdBlockConfig', 'localSsdCount')} local SSD")
        if nc.get("spot"):
            extra.append("spot")
        if nc.get("taints"):
            extra.append("tainted")
        if _get(nc, "resourceLabels", "purpose"):
            extra.append(f"expires {_get(nc, 'resourceLabels', 'expires-at')}")
        zones = ",".join(z.rsplit("-", 1)[-1] for z in i.get("nodeLocations") or [])
        return (
            f"{nc.get('machineType')} x {auto.get('totalMinNodeCount')}-{auto.get('totalMaxNodeCount')}"
            f" zones {zones} " + " ".join(extra)
        ).strip()
    if t == "gcp:sql/databaseInstance:DatabaseInstance":
        s = i.get("settings") or {}
        pitr = _get(s, "backupConfiguration", "pointInTimeRecoveryEnabled")
        on_off = "on" if pitr else "off"
        return f"{s.get('tier')} {s.get('availabilityType')} {s.get('diskSize')} GB, PITR {on_off}"
    if t == "gcp:storage/bucket:Bucket":
        rules = i.get("lifecycleRules") or []
        classes = [_get(x, "action", "storageClass") for x in rules if _get(x, "action", "storageClass")]
        versioned = "versioned" if _get(i, "versioning", "enabled") else "unversioned"
        return f"{i.get('name')} {i.get('location')} {versioned} -> {'/'.join(classes) or 'STANDARD'}"
    if t.endswith(":Qserv"):
        spec = i.get("spec") or {}
        czar, worker = spec.get("czar") or {}, spec.get("worker") or {}
        return (
            f"czar x{czar.get('replicas')} {czar.get('storage')}, "
            f"workers x{worker.get('replicas')} {worker.get('storage')} each"
        )
    if t == "gcp:compute/firewall:Firewall":
        ports = ",".join(p for a in i.get("allows") or [] for p in a.get("ports") or [])
        return f"tcp/{ports} from {','.join(i.get('sourceRanges') or [])}"
    if t == "gcp:billing/budget:Budget":
        return f"USD {_get(i, 'amount', 'specifiedAmount', 'units')}/month"
    if t == "kubernetes:core/v1:ResourceQuota":
        hard = _get(i, "spec", "hard") or {}
        return (
            f"cpu {hard.get('requests.cpu')}, memory {hard.get('requests.memory')}, pods {hard.get('pods')}"
        )
    return _identity_and_schedule(r)


def _identity_and_schedule(r: PlannedResource) -> str:  # noqa: PLR0911 -- one branch per resource type
    """Who runs what, when, with which role (the reaper), and what is fetched at deploy time."""
    i, t = r.inputs, r.type
    if t == "gcp:cloudscheduler/job:Job":
        return f"{i.get('schedule')} {i.get('timeZone')} -> POST {_get(i, 'httpTarget', 'uri')}"
    if t == "gcp:cloudrunv2/job:Job":
        spec = _get(i, "template", "template") or {}
        container = (spec.get("containers") or [{}])[0]
        command = " ".join([*(container.get("commands") or []), *(container.get("args") or [])])
        return f"{command} as {spec.get('serviceAccount')}, image {container.get('image')}"
    if t == "gcp:projects/iAMCustomRole:IAMCustomRole":
        return f"{i.get('roleId')} in {i.get('project')}: {len(i.get('permissions') or [])} permissions"
    if t.startswith("gcp:") and (t.endswith(("IAMMember", "IamMember"))):
        condition = _get(i, "condition", "title")
        where = i.get("project") or i.get("bucket") or i.get("billingAccountId") or i.get("name") or ""
        return f"{i.get('role')} on {where} to {i.get('member')}" + (f" if {condition}" if condition else "")
    if t == "gcp:serviceaccount/account:Account":
        return str(i.get("accountId") or "")
    if t == "pulumi-python:dynamic:Resource" and i.get("url"):
        return f"{i.get('url')} sha256 {str(i.get('sha256'))[:12]}..."
    return ""


def short_type(type_token: str) -> str:
    """`gcp:container/nodePool:NodePool` -> `gcp:container/NodePool` (fits a terminal)."""
    parts = type_token.split(":")
    if len(parts) != 3:
        return type_token
    package, module, kind = parts
    return f"{package}:{module.split('/')[0]}/{kind}"


def inventory_table(plan: OfflinePlan) -> Table:
    """A rich table: one row per resource, a section per resource type."""
    custom = sorted((r for r in plan.resources if r.custom), key=lambda r: (r.type, r.name))
    table = Table(title=f"stack {plan.stack}: {len(custom)} resources (offline plan)")
    table.add_column("type", overflow="fold")
    table.add_column("name", overflow="fold")
    table.add_column("key sizing", overflow="fold")
    table.add_column("protect")
    for index, r in enumerate(custom):
        table.add_row(
            escape(short_type(r.type)), escape(r.name), escape(sizing(r)), "yes" if r.protect else ""
        )
        if index + 1 < len(custom) and custom[index + 1].type != r.type:
            table.add_section()
    return table
