"""L3-MW-0030 (read-only Gen3 Butler): the user-facing Butler reads DP0.1 and cannot write."""

# Heavy clients are imported inside the checks that use them, so that `idf --help` and the
# registry commands stay fast (CONTRIBUTING: cheap imports).
# ruff: noqa: PLC0415

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from idf_clients.butler import open_butler
from idf_ops.butler.bootstrap import DATASET_TYPES, RUNS
from idf_ops.gates.checks import _gcp
from idf_ops.gates.checks._common import db_auth_path, tcp_probe
from idf_ops.gates.checks.base import Budget, CheckContext, CheckFailedError, Outcome, check

if TYPE_CHECKING:
    from idf_core.contract import StackOutputs
    from idf_ops.gates.registry import Gate

__all__ = ["DP01_DATASET_TYPES", "DP01_RUNS", "check_butler_read", "check_butler_write_refused"]

# The four DP0.1 RUN collections (seed section 2.1.2) and the dataset types of seed Appendix B
# (Table 3): the bootstrap's own lists, defined once.
DP01_RUNS = RUNS
DP01_DATASET_TYPES = tuple(DATASET_TYPES)


def _open_butler(out: StackOutputs, writeable: bool) -> Any:
    # Where the user-facing config's registry password lives: $LSST_DB_AUTH if set, else the
    # stack's secrets directory (db_auth_path), in force only while the Butler is built.
    auth = db_auth_path(out)
    try:
        return open_butler(out.butler.readonly_config, auth, writeable=writeable)
    except Exception as exc:
        raise CheckFailedError(
            f"Butler {out.butler.readonly_config} does not open: {type(exc).__name__}: {exc}"
        ) from exc


def _registry_reachable(out: StackOutputs, budget: Budget) -> None:
    # The Butler's SQLAlchemy engine has no connect timeout of ours: probe the registry's port first
    # so a dead or silent database fails within the budget with a clear reason.
    tcp_probe(out.butler.registry_host, out.butler.registry_port, budget)


@check(
    id="butler-read",
    live=True,
    stack_kinds={"local", "gcp"},
    timeout_s=60,
    requires=("lsst.daf.butler",),
)
def check_butler_read(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """Open with the user-facing read-only config; the DP0.1 chain, runs and dataset types exist.

    The same on gcp stacks, where the config and the datastore are gs:// URIs (lsst-resources
    reads them with google-cloud-storage) once Cloud Storage credentials exist.
    """
    out = ctx.outputs
    if out.kind == "gcp":
        _gcp.butler_preflight(ctx, budget)
    _registry_reachable(out, budget)
    butler = _open_butler(out, writeable=False)
    evidence = [f"opened {out.butler.readonly_config} read-only (isWriteable={butler.isWriteable()})"]
    if butler.isWriteable():
        raise CheckFailedError("the user-facing config opens a writeable Butler", evidence)
    from lsst.daf.butler import CollectionType, MissingCollectionError

    try:
        chain = butler.collections.get_info(out.butler.collection)
    except MissingCollectionError as exc:
        raise CheckFailedError(f"collection {out.butler.collection} missing", evidence) from exc
    if chain.type is not CollectionType.CHAINED:
        raise CheckFailedError(f"{out.butler.collection} is {chain.type.name}, not CHAINED", evidence)
    children = set(chain.children)
    evidence.append(f"{out.butler.collection}: CHAINED -> {len(children)} collections")
    missing_runs = []
    for run in DP01_RUNS:
        info = butler.collections.query_info(run) if run in children else []
        if not info or info[0].type is not CollectionType.RUN:
            missing_runs.append(run)
    if missing_runs:
        raise CheckFailedError(f"RUN collections missing from the chain: {', '.join(missing_runs)}", evidence)
    evidence.append(f"the four DP0.1 RUN collections are in the chain: {', '.join(DP01_RUNS)}")
    registered = {dt_.name for dt_ in butler.registry.queryDatasetTypes()}
    missing_types = [name for name in DP01_DATASET_TYPES if name not in registered]
    evidence.append(f"{len(registered)} dataset types registered")
    if missing_types:
        raise CheckFailedError(
            f"{len(missing_types)} DP0.1 dataset types missing: {', '.join(missing_types[:8])}", evidence
        )
    evidence.append(f"all {len(DP01_DATASET_TYPES)} dataset types of the seed's Appendix B present")
    # A read through the datastore, not only the registry: `packages` exists in every DP0.1 RUN.
    ref = butler.find_dataset("packages", collections=out.butler.collection)
    if ref is None:
        raise CheckFailedError(f"no `packages` dataset in {out.butler.collection}: nothing to read", evidence)
    packages = butler.get(ref)
    evidence.append(f"read `packages` from {ref.run} through the datastore ({len(packages)} packages)")
    return Outcome("read-only Butler opens, finds the DP0.1 collections and dataset types, reads", evidence)


def _refusal(exc: BaseException) -> str | None:
    """The database's or client's refusal message in an exception chain, or None."""
    seen: BaseException | None = exc
    while seen is not None:
        message = " ".join(str(seen).split())
        if "permission denied" in message.lower() or "read-only" in message.lower():
            return message[:160]
        seen = seen.__cause__ or seen.__context__
    return None


@check(
    id="butler-write-refused",
    live=True,
    stack_kinds={"local", "gcp"},
    timeout_s=60,
    requires=("lsst.daf.butler",),
)
def check_butler_write_refused(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """A write through the user-facing config is refused by the database, not only by the client
    (gcp stacks: the same through the gs:// config)."""
    out = ctx.outputs
    if out.kind == "gcp":
        _gcp.butler_preflight(ctx, budget)
    _registry_reachable(out, budget)
    probe_run = "gates/write-probe"
    evidence = []
    butler = _open_butler(out, writeable=False)
    try:
        butler.collections.register(probe_run)
    except Exception as exc:  # noqa: BLE001 -- any failure is reported, never a traceback
        evidence.append(f"client (writeable=False): refused — {type(exc).__name__}: {exc}")
    else:
        butler.collections.x_remove(probe_run)
        raise CheckFailedError("a writeable=False Butler registered a RUN collection", evidence)
    # The registry role behind the user-facing config must refuse too: a user can pass
    # writeable=True. Opening writeable already writes (opaque tables), so either step may refuse.
    try:
        writer = open_butler(out.butler.readonly_config, db_auth_path(out), writeable=True)
        writer.collections.register(probe_run)
    except Exception as exc:
        refusal = _refusal(exc)
        if refusal is None:
            raise CheckFailedError(
                f"write failed for another reason than a refusal: {type(exc).__name__}: {exc}", evidence
            ) from exc
        evidence.append(f"registry role (writeable=True): refused — {refusal}")
    else:
        with contextlib.suppress(Exception):
            writer.collections.x_remove(probe_run)
        raise CheckFailedError(
            "the user-facing registry role registered a RUN collection: writes are NOT refused", evidence
        )
    return Outcome("writes are refused by the client and by the registry's read-only role", evidence)
