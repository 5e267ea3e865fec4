"""`idf gates check` as a service: select checkpoints, run their gates on a stack, build the report.

The CLI parses arguments and prints; this module decides (which checkpoints, which gates, which
status) and returns a :class:`~idf_ops.gates.report.Report`. Storage lives elsewhere: the stack
outputs contract (:func:`idf_core.contract.load_outputs`), the registry loaders and the
renderers.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from idf_core.contract import StackOutputs, load_outputs
from idf_core.errors import BadInput
from idf_core.paths import state_path
from idf_ops.gates.checks import CHECKS
from idf_ops.gates.registry import (
    ATTESTATIONS_PATH,
    REGISTRY_PATH,
    Checkpoint,
    Gate,
    Registry,
    load_attestations,
    load_registry,
)
from idf_ops.gates.report import GateResult, Report, checkpoint_result, summarize
from idf_ops.gates.runner import CheckContext, resolve_check, run_gates
from idf_ops.loadtest.provenance import DataScale, stack_provenance

__all__ = ["check_gates", "select_checkpoints", "synthetic_data"]

# What the local stack's Butler holds instead of DP0.1 (idf_ops/local/butler_repo.py).
LOCAL_BUTLER = (
    "registry with dimension records, collections and the DP0.1 dataset types, no images "
    "(ExposureF and other pixel datasets need the Science Pipelines, not on PyPI); stored datasets: "
    "packages and objectTable_tract of a few tracts"
)


def _rows_label(rows: dict[str, int]) -> str:
    counts = sorted(set(rows.values()))
    if len(counts) == 1:
        return f"{counts[0]:,}"
    return f"{counts[0]:,} to {counts[-1]:,}"


def synthetic_data(outputs: StackOutputs, scale: DataScale) -> dict[str, str]:
    """Data set -> what it is instead of the real one, for the board and gates.json.

    The local stack's catalogs are generated rows (idf_ops/catalogs) in the real dp01 schema, and
    its Butler holds registrations without images; cloud stacks hold the real data preview.
    """
    if outputs.kind != "local":
        return {}
    if scale.rows_per_table:
        rows = f"{_rows_label(scale.rows_per_table)} synthetic rows per table"
    else:
        rows = f"synthetic rows (count unknown: {scale.detail})"
    return {
        "catalogs": f"{rows}, generated (not DC2), real dp01 schema ({outputs.qserv.database})",
        "butler": LOCAL_BUTLER,
    }


def select_checkpoints(
    registry: Registry, wanted: list[str], registry_path: Path = REGISTRY_PATH
) -> list[Checkpoint]:
    """The checkpoints asked for (all when none), in registry order; unknown ids are bad input."""
    if not wanted:
        return registry.checkpoints
    unknown = [cid for cid in wanted if registry.get(cid) is None]
    if unknown:
        known = ", ".join(c.id for c in registry.checkpoints)
        raise BadInput(f"{registry_path}: unknown milestone {', '.join(unknown)}; use one of: {known}")
    chosen = {registry.get(cid).id for cid in wanted}  # type: ignore[union-attr]
    return [c for c in registry.checkpoints if c.id in chosen]


def check_gates(
    stack: str,
    wanted: list[str],
    *,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    max_loadtest_age_hours: float | None = None,
    registry_path: Path = REGISTRY_PATH,
    attestations_path: Path = ATTESTATIONS_PATH,
    on_done: Callable[[str, GateResult], None] | None = None,
) -> Report:
    """Run the gates of the selected checkpoints against `stack`; statuses as of `today`."""
    started = time.monotonic()
    registry = load_registry(registry_path)
    attestations = load_attestations(registry, attestations_path)
    checkpoints = select_checkpoints(registry, wanted, registry_path)
    outputs = load_outputs(stack)
    now = now or dt.datetime.now(dt.UTC)
    today = today or now.date()
    ctx = CheckContext(
        outputs=outputs,
        now=now,
        loadtests_dir=state_path("loadtests", stack),  # read only: never created here
        max_loadtest_age_hours=max_loadtest_age_hours,
    )
    jobs: list[tuple[str, Gate]] = [(c.id, gate) for c in checkpoints for gate in c.gates]
    # Provenance (git, the load manifest) is read while the gates run, not after them.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending_provenance = pool.submit(stack_provenance, outputs)
        results = run_gates(jobs, ctx, lambda gate: resolve_check(CHECKS[gate.check], ctx), on_done=on_done)
        provenance = pending_provenance.result()
    rows = [
        checkpoint_result(
            checkpoint,
            [results[(checkpoint.id, gate.id)] for gate in checkpoint.gates],
            attestations.get(checkpoint.id),
            today,
        )
        for checkpoint in checkpoints
    ]
    summary = summarize(rows)
    ok = summary.required_gates_failed == 0
    missing = [row.id for row in rows if row.status == "unattested"]
    return Report(
        stack=outputs.stack,
        stack_kind=provenance.stack_kind,
        provenance=provenance,
        offline_plan=outputs.offline_plan,
        stand_ins=outputs.stand_ins,
        synthetic_data=synthetic_data(outputs, provenance.data_scale),
        today=today,
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        wall_time_s=round(time.monotonic() - started, 2),
        selected=[c.id for c in checkpoints] if wanted else [],
        summary=summary,
        ok=ok,
        ready=ok and not missing and all(row.ready for row in rows),
        missing_attestations=missing,
        checkpoints=rows,
    )
