"""The cross-field rules of a stack file that pydantic cannot express, one function per concern.

Each check reads a few sections of a :class:`~infra.config.models.StackConfig` and yields a
:class:`~infra.config.problems.Problem` per mistake (key path, what is wrong, what to do); it never
stops at the first. :data:`CHECKS` is the one list of them, each with the sections it reads: when a
section failed schema validation, the loader still runs every check that does not read it (see
:func:`infra.config.loader.validate_config_mapping`), so a file's schema errors and its cross-field
problems are reported together.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from idf_core.facts import SCALE_STACK_PREFIX, is_scale_stack
from infra.config.models import (
    EXT4_OVERHEAD_FRACTION,
    LOCAL_SSD_PARTITION_BYTES,
    NodePoolConfig,
    StackConfig,
    local_ssd_raid_capacity_gib,
)
from infra.config.problems import Problem

__all__ = ["CHECKS", "Check", "run_checks"]

META = "config.idf:meta"
NETWORK = "config.idf:network"
GKE = "config.idf:gke"
POOLS = "config.idf:node_pools"
BUCKETS = "config.idf:buckets"
QSERV = "config.idf:qserv"

# Service account ids are at most 30 characters: `butler-reader-<stack>` is the longest we make.
_SERVICE_ACCOUNT_PREFIX = "butler-reader-"
_SERVICE_ACCOUNT_ID_MAX = 30
_GCS_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")
_CLUSTER_RANGES = ("subnet_cidr", "pods_cidr", "services_cidr", "master_cidr")
QSERV_FRONT_END_PORT = 4040
# Pools whose pods must be the only ones scheduled there.
_TAINTED_ROLES = ("user-labs", "qserv-worker", "qserv-czar", "batch")


@dataclass(frozen=True)
class Check:
    """One registered rule: the function and the `StackConfig` fields it reads."""

    run: Callable[[StackConfig], Iterable[Problem]]
    reads: frozenset[str]

    @property
    def name(self) -> str:
        """The function's name (for messages and tests)."""
        return self.run.__name__


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _parse_network(value: str) -> ipaddress.IPv4Network | str:
    """The IPv4 network, or what is wrong with `value` (with what to do)."""
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        return f"{value!r} is not a valid CIDR ({exc}); write it as a.b.c.d/nn"
    if not isinstance(net, ipaddress.IPv4Network):
        return f"{value!r} is IPv6; use an IPv4 range"
    return net


def _network_or_none(value: str) -> ipaddress.IPv4Network | None:
    """The network if `value` is one (its own check reports it otherwise)."""
    net = _parse_network(value)
    return net if isinstance(net, ipaddress.IPv4Network) else None


def _zone_problem(zone: str, region: str, key: str) -> Iterator[Problem]:
    if not re.match(rf"^{re.escape(region)}-[a-z]$", zone):
        yield Problem(key, f"zone {zone!r} is not in region {region!r}; use {region}-a/-b/-c/-f")


def _bucket_name_problem(name: str) -> str | None:
    invalid = f"invalid GCS bucket name {name!r}"
    if not _GCS_NAME.match(name):
        return (
            f"{invalid}: use 3-63 characters, lower-case letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit"
        )
    if name.startswith("goog") or "google" in name or "g00gle" in name:
        return f"{invalid}: names may not start with 'goog' or contain 'google'"
    if _is_ip_address(name):
        return f"{invalid}: an IP address is not a bucket name"
    if ".." in name or ".-" in name or "-." in name:
        return f"{invalid}: no '..', '.-' or '-.'"
    return None


def _is_ip_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# meta
# --------------------------------------------------------------------------------------------


def check_environment_length(cfg: StackConfig) -> Iterator[Problem]:
    """The stack name must fit in the GCP service account ids derived from it."""
    if len(_SERVICE_ACCOUNT_PREFIX + cfg.meta.environment) > _SERVICE_ACCOUNT_ID_MAX:
        fits = _SERVICE_ACCOUNT_ID_MAX - len(_SERVICE_ACCOUNT_PREFIX)
        yield Problem(
            f"{META}.environment",
            f"{cfg.meta.environment!r} is too long for GCP service account ids "
            f"(butler-reader-<stack> must fit in 30 characters); use at most {fits} characters",
        )


# --------------------------------------------------------------------------------------------
# network
# --------------------------------------------------------------------------------------------


def check_cluster_ranges(cfg: StackConfig) -> Iterator[Problem]:
    """Subnet, pods, services and control-plane ranges: valid, private, disjoint; a /28 master."""
    nets: dict[str, ipaddress.IPv4Network] = {}
    for key in _CLUSTER_RANGES:
        net = _parse_network(getattr(cfg.network, key))
        if isinstance(net, str):
            yield Problem(f"{NETWORK}.{key}", net)
            continue
        if not net.is_private:
            yield Problem(f"{NETWORK}.{key}", f"{net} is not a private (RFC 1918) range; use one")
        nets[key] = net
    keys = list(nets)
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            if nets[a].overlaps(nets[b]):
                yield Problem(f"{NETWORK}.{b}", f"{nets[b]} overlaps {a} {nets[a]}; choose disjoint ranges")
    if "master_cidr" in nets and nets["master_cidr"].prefixlen != 28:
        yield Problem(f"{NETWORK}.master_cidr", f"{nets['master_cidr']} must be a /28 (GKE requirement)")


def check_science_platform_ranges(cfg: StackConfig) -> Iterator[Problem]:
    """The ranges allowed to reach Qserv are valid and not the whole internet."""
    for i, value in enumerate(cfg.network.science_platform_cidrs):
        key = f"{NETWORK}.science_platform_cidrs[{i}]"
        net = _parse_network(value)
        if isinstance(net, str):
            yield Problem(key, net)
        elif net.prefixlen == 0:
            yield Problem(key, "0.0.0.0/0 would open Qserv to the world; list the Science Platform ranges")


def _qserv_sources(cfg: StackConfig) -> list[ipaddress.IPv4Network]:
    """Ranges that may reach the Qserv front end: the Science Platform's, else the pods range."""
    listed = [_network_or_none(v) for v in cfg.network.science_platform_cidrs]
    allowed = [net for net in listed if net is not None]
    pods = _network_or_none(cfg.network.pods_cidr)
    return allowed or ([pods] if pods is not None else [])


def check_firewall_rules(cfg: StackConfig) -> Iterator[Problem]:
    """Extra ingress rules: unique names, ports where needed, no Qserv or ports open to the world."""
    names = [r.name for r in cfg.network.firewall_rules]
    qserv_sources = _qserv_sources(cfg)
    for i, rule in enumerate(cfg.network.firewall_rules):
        key = f"{NETWORK}.firewall_rules[{i}]"
        if names.count(rule.name) > 1:
            yield Problem(f"{key}.name", f"duplicate rule name {rule.name!r}; names must be unique")
        if rule.protocol in ("tcp", "udp") and not rule.ports:
            yield Problem(f"{key}.ports", f"a {rule.protocol} rule needs ports; list them")
        for j, value in enumerate(rule.source_ranges):
            source_key = f"{key}.source_ranges[{j}]"
            net = _parse_network(value)
            if isinstance(net, str):
                yield Problem(source_key, net)
            elif QSERV_FRONT_END_PORT in rule.ports:
                if not any(net.subnet_of(s) for s in qserv_sources):
                    yield Problem(
                        source_key,
                        f"{net} may not reach the Qserv front end (TCP 4040): only Science Platform "
                        "ranges may; remove it or add the range to science_platform_cidrs",
                    )
            elif net.prefixlen == 0 and rule.protocol != "icmp":
                yield Problem(
                    source_key,
                    "0.0.0.0/0 opens the ports to the internet; expose public services "
                    "through the load balancer instead",
                )


# --------------------------------------------------------------------------------------------
# gke and zones
# --------------------------------------------------------------------------------------------


def check_authorized_networks(cfg: StackConfig) -> Iterator[Problem]:
    """Ranges allowed to reach the control plane are valid and narrow."""
    for i, authorized in enumerate(cfg.gke.master_authorized_networks):
        key = f"{GKE}.master_authorized_networks[{i}].cidr"
        net = _parse_network(authorized.cidr)
        if isinstance(net, str):
            yield Problem(key, net)
        elif net.prefixlen < 8:
            yield Problem(
                key, f"{net} is far too broad for the control plane; list operator ranges (/8 or narrower)"
            )


def check_cluster_zones(cfg: StackConfig) -> Iterator[Problem]:
    """A zonal cluster has one zone in the region, among its node zones; a regional one none."""
    region, gke = cfg.gcp_region, cfg.gke
    if gke.location_type == "zonal":
        if gke.zone is None:
            yield Problem(f"{GKE}.zone", "a zonal cluster needs a zone; set it (e.g. us-central1-b)")
        else:
            yield from _zone_problem(gke.zone, region, f"{GKE}.zone")
    elif gke.zone is not None:
        yield Problem(f"{GKE}.zone", "only zonal clusters take a zone; remove it or set location_type: zonal")
    for i, zone in enumerate(gke.node_zones):
        yield from _zone_problem(zone, region, f"{GKE}.node_zones[{i}]")
    if gke.location_type == "zonal" and gke.zone and gke.zone not in gke.node_zones:
        yield Problem(f"{GKE}.node_zones", f"must include the cluster zone {gke.zone!r}")


# --------------------------------------------------------------------------------------------
# node pools
# --------------------------------------------------------------------------------------------


def check_pool_sizes(cfg: StackConfig) -> Iterator[Problem]:
    """min_nodes <= initial_nodes <= max_nodes."""
    for key, pool in cfg.node_pools.items():
        k = f"{POOLS}.{key}"
        if pool.min_nodes > pool.max_nodes:
            yield Problem(
                f"{k}.max_nodes", f"max_nodes {pool.max_nodes} is below min_nodes {pool.min_nodes}; raise it"
            )
        if pool.initial_nodes is not None and not pool.min_nodes <= pool.initial_nodes <= pool.max_nodes:
            yield Problem(f"{k}.initial_nodes", "must lie between min_nodes and max_nodes")


def check_pool_zones(cfg: StackConfig) -> Iterator[Problem]:
    """A pool's zones and fallback zones are in the region; fallbacks exist when used."""
    for key, pool in cfg.node_pools.items():
        k = f"{POOLS}.{key}"
        for i, zone in enumerate(pool.zones):
            yield from _zone_problem(zone, cfg.gcp_region, f"{k}.zones[{i}]")
        for i, zone in enumerate(pool.zone_fallbacks):
            yield from _zone_problem(zone, cfg.gcp_region, f"{k}.zone_fallbacks[{i}]")
        if pool.use_zone_fallbacks and not pool.zone_fallbacks:
            yield Problem(
                f"{k}.use_zone_fallbacks", "is true but zone_fallbacks is empty; list fallback zones"
            )


def check_pool_expiry(cfg: StackConfig) -> Iterator[Problem]:
    """A temporary pool has an expiry, and every expiry has a time zone."""
    for key, pool in cfg.node_pools.items():
        k = f"{POOLS}.{key}"
        if pool.temporary and pool.expires_at is None:
            yield Problem(f"{k}.expires_at", "a temporary pool needs expires_at (ISO 8601 UTC); set it")
        if pool.expires_at is not None and pool.expires_at.tzinfo is None:
            yield Problem(f"{k}.expires_at", "needs a time zone (e.g. 2026-12-01T00:00:00Z)")


def check_pool_roles(cfg: StackConfig) -> Iterator[Problem]:
    """Batch pools run on spot VMs; pools of dedicated roles are tainted."""
    for key, pool in cfg.node_pools.items():
        k = f"{POOLS}.{key}"
        if pool.role == "batch" and not pool.spot:
            yield Problem(f"{k}.spot", "batch pools run on spot VMs; set spot: true")
        if pool.role in _TAINTED_ROLES and not pool.taints:
            yield Problem(
                f"{k}.taints", f"a {pool.role} pool must be tainted so other pods stay off; add a taint"
            )


def check_worker_local_ssds(cfg: StackConfig) -> Iterator[Problem]:
    """Qserv worker pools have local SSDs exactly when the workers keep their data on them."""
    workers_on_pd = cfg.qserv is not None and cfg.qserv.worker_volume == "persistent-disk"
    for key, pool in cfg.node_pools.items():
        if pool.role != "qserv-worker":
            continue
        k = f"{POOLS}.{key}.local_nvme_ssd_count"
        if pool.local_nvme_ssd_count == 0 and not workers_on_pd:
            yield Problem(
                k,
                "Qserv workers keep their data on local NVMe SSDs; set 1 or more "
                "(or idf:qserv.worker_volume: persistent-disk)",
            )
        if pool.local_nvme_ssd_count > 0 and workers_on_pd:
            yield Problem(
                k,
                "idf:qserv.worker_volume is persistent-disk, so these local SSDs would be billed "
                "and never used; set 0 (or worker_volume: local-nvme-ssd)",
            )


# --------------------------------------------------------------------------------------------
# temporary stacks, stateful resources
# --------------------------------------------------------------------------------------------


def check_temporary_stack(cfg: StackConfig) -> Iterator[Problem]:
    """A temporary stack (scale test) has only temporary pools and nothing stateful."""
    if not cfg.meta.temporary:
        return
    for key, pool in cfg.node_pools.items():
        if not pool.temporary:
            yield Problem(
                f"{POOLS}.{key}.temporary", "a temporary stack may only declare temporary pools; set it true"
            )
    if cfg.cloudsql is not None:
        yield Problem(
            "config.idf:cloudsql", "a temporary stack must not declare Cloud SQL; remove the section"
        )
    if cfg.buckets:
        yield Problem(BUCKETS, "a temporary stack must not declare buckets; remove the section")


def check_buckets(cfg: StackConfig) -> Iterator[Problem]:
    """Bucket names are valid GCS names and unique; lifecycle steps come in order."""
    names = [b.name for b in cfg.buckets.values()]
    for role, bucket in cfg.buckets.items():
        k = f"{BUCKETS}.{role}"
        problem = _bucket_name_problem(bucket.name)
        if problem:
            yield Problem(f"{k}.name", problem + "; rename it")
        if names.count(bucket.name) > 1:
            yield Problem(f"{k}.name", f"bucket name {bucket.name!r} is used twice; names must be unique")
        nearline, coldline = bucket.nearline_after_days, bucket.coldline_after_days
        if nearline is not None and coldline is not None and coldline <= nearline:
            yield Problem(f"{k}.coldline_after_days", "must be later than nearline_after_days; raise it")


def check_butler(cfg: StackConfig) -> Iterator[Problem]:
    """The stack has a Butler: its own (Cloud SQL + datastore bucket) or another stack's."""
    has_own_butler = cfg.cloudsql is not None and "butler_datastore" in cfg.buckets
    if not has_own_butler and cfg.butler_reference is None:
        yield Problem(
            "config.idf:butler_reference",
            "the stack has no Cloud SQL + butler_datastore bucket of its own; declare both or "
            "point idf:butler_reference at the Butler of another stack",
        )


def check_phalanx_host(cfg: StackConfig) -> Iterator[Problem]:
    """The Science Platform is served on the stack's public host: Phalanx needs idf:dns."""
    if cfg.phalanx is not None and cfg.dns is None:
        yield Problem(
            "config.idf:phalanx",
            "the Science Platform needs a public host (its fqdn, certificate and ingress address); "
            "declare idf:dns or remove idf:phalanx",
        )


def check_reaper(cfg: StackConfig) -> Iterator[Problem]:
    """The reaper lives on a permanent stack and destroys in another project (the scale tests')."""
    if cfg.reaper is None:
        return
    if cfg.meta.temporary:
        yield Problem(
            "config.idf:reaper",
            "a temporary stack cannot hold the reaper (it would be reaped with it); declare it on dev",
        )
    if cfg.reaper.target_project == cfg.gcp_project:
        yield Problem(
            "config.idf:reaper.target_project",
            f"is this stack's own project {cfg.gcp_project!r}: the reaper may destroy only in the "
            "project of the temporary scale-test stacks; name that project",
        )


# --------------------------------------------------------------------------------------------
# qserv and kubernetes
# --------------------------------------------------------------------------------------------


def _qserv_pool(
    cfg: StackConfig, ref: str, attr: str, role: str
) -> tuple[NodePoolConfig | None, Problem | None]:
    """The pool `ref` (named by `idf:qserv.<attr>`) if it exists with `role`; else the problem."""
    pool = cfg.node_pools.get(ref)
    if pool is None:
        hint = difflib.get_close_matches(ref, list(cfg.node_pools), n=1)
        did = f" (did you mean {hint[0]!r}?)" if hint else ""
        return None, Problem(f"{QSERV}.{attr}", f"no node pool {ref!r}{did}; name a key of idf:node_pools")
    if pool.role != role:
        return None, Problem(f"{QSERV}.{attr}", f"pool {ref!r} has role {pool.role!r}, expected {role!r}")
    return pool, None


def check_qserv_pools(cfg: StackConfig) -> Iterator[Problem]:
    """Czar and worker pools exist with their roles; the workers fit on theirs (one per node)."""
    if cfg.qserv is None:
        return
    for attr, role in (("czar_pool", "qserv-czar"), ("worker_pool", "qserv-worker")):
        pool, problem = _qserv_pool(cfg, getattr(cfg.qserv, attr), attr, role)
        if problem is not None:
            yield problem
        elif pool is not None and attr == "worker_pool" and cfg.qserv.worker_replicas > pool.max_nodes:
            yield Problem(
                f"{QSERV}.worker_replicas",
                f"{cfg.qserv.worker_replicas} workers do not fit on pool {cfg.qserv.worker_pool!r} "
                f"(max_nodes {pool.max_nodes}, one worker per node); raise max_nodes or lower replicas",
            )


def check_qserv_worker_storage(cfg: StackConfig) -> Iterator[Problem]:
    """A worker's volume fits the RAID-0 of its pool's local SSDs (when it lives there)."""
    q = cfg.qserv
    if q is None or q.worker_volume != "local-nvme-ssd":
        return
    # A bad pool reference is check_qserv_pools' problem, no SSDs check_worker_local_ssds'.
    pool, _ = _qserv_pool(cfg, q.worker_pool, "worker_pool", "qserv-worker")
    if pool is None or pool.local_nvme_ssd_count == 0:
        return
    ssds = pool.local_nvme_ssd_count
    fits = local_ssd_raid_capacity_gib(ssds)
    if q.worker_storage_gb > fits:
        yield Problem(
            f"{QSERV}.worker_storage_gb",
            f"{q.worker_storage_gb} GiB per worker does not fit the RAID-0 of the {ssds} local SSDs of "
            f"pool {q.worker_pool!r} ({ssds} x {LOCAL_SSD_PARTITION_BYTES // 10**9} GB = {fits} GiB "
            f"after the {EXT4_OVERHEAD_FRACTION:.0%} ext4 margin); lower worker_storage_gb to {fits} or "
            "less, raise local_nvme_ssd_count, or set worker_volume: persistent-disk",
        )


def check_scale_catalog(cfg: StackConfig) -> Iterator[Problem]:
    """The generated scale catalog belongs to a temporary scale-test stack with Qserv (its Indexed Job
    runs on the Qserv workers and writes to the stack's prefix of the shared staging bucket)."""
    if cfg.scale_catalog is None:
        return
    key = "config.idf:scale_catalog"
    if not cfg.meta.temporary or not is_scale_stack(cfg.stack):
        yield Problem(
            key,
            f"only a temporary scale-test stack ({SCALE_STACK_PREFIX}*, idf:meta.temporary: true) "
            "generates a scale catalog; remove the section",
        )
    if cfg.qserv is None:
        yield Problem(key, "the generator runs on the Qserv worker pool; declare idf:qserv")


def check_qserv_namespace(cfg: StackConfig) -> Iterator[Problem]:
    """The Qserv namespace is declared (with its quota) in idf:kubernetes."""
    if cfg.qserv is not None and cfg.qserv.namespace not in cfg.kubernetes.namespaces:
        yield Problem(
            "config.idf:kubernetes.namespaces",
            f"the Qserv namespace {cfg.qserv.namespace!r} is missing; add it with a quota",
        )


# --------------------------------------------------------------------------------------------
# the registry
# --------------------------------------------------------------------------------------------


def _check(run: Callable[[StackConfig], Iterable[Problem]], *reads: str) -> Check:
    return Check(run=run, reads=frozenset(reads))


# Every cross-field rule, in the order its problems are reported, with the StackConfig fields
# (python names) it reads. A check runs only when all of them passed schema validation.
CHECKS: tuple[Check, ...] = (
    _check(check_environment_length, "meta"),
    _check(check_cluster_ranges, "network"),
    _check(check_science_platform_ranges, "network"),
    _check(check_firewall_rules, "network"),
    _check(check_authorized_networks, "gke"),
    _check(check_cluster_zones, "gcp_region", "gke"),
    _check(check_pool_sizes, "node_pools"),
    _check(check_pool_zones, "gcp_region", "node_pools"),
    _check(check_pool_expiry, "node_pools"),
    _check(check_pool_roles, "node_pools"),
    _check(check_worker_local_ssds, "node_pools", "qserv"),
    _check(check_temporary_stack, "meta", "node_pools", "cloudsql", "buckets"),
    _check(check_buckets, "buckets"),
    _check(check_butler, "cloudsql", "buckets", "butler_reference"),
    _check(check_phalanx_host, "phalanx", "dns"),
    _check(check_reaper, "reaper", "meta", "gcp_project"),
    _check(check_qserv_pools, "qserv", "node_pools"),
    _check(check_qserv_worker_storage, "qserv", "node_pools"),
    _check(check_qserv_namespace, "qserv", "kubernetes"),
    _check(check_scale_catalog, "scale_catalog", "meta", "qserv"),
)


def run_checks(cfg: StackConfig, valid_fields: Iterable[str] | None = None) -> list[Problem]:
    """Problems of every check whose fields are all in `valid_fields` (default: all of them)."""
    valid = set(StackConfig.model_fields) if valid_fields is None else set(valid_fields)
    return [problem for check in CHECKS if check.reads <= valid for problem in check.run(cfg)]
