"""Batch milestones (DP0.2 processing): the pool, restarts, the processing Butler, BPS evaluated.

L3-MW-0050 (workflow system in place): the pool's slots answer and a trivial job runs now.
The others read evidence that `idf batch` leaves (run records, the evaluation report) and check
it against the processing Butler itself, through the users' read-only config: L3-MW-0060 (a run
with an injected failure restarted to completion), L3-MW-0070 (outputs written and registered,
read-only config refuses writes), L3-MW-0040 (BPS evaluated against a single-process run),
L2-DP-0030 and the Table 2 batch entries (the small dataset processed).

On a cloud stack (dp02) the pool is HTCondor on GKE: its pods must be Ready; the evidence checks
then read the records of submissions made to that pool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from idf_core.errors import BadInput, OperationFailed
from idf_core.facts import HTCONDOR_NAMESPACE
from idf_ops.gates.checks.base import Budget, CheckContext, CheckFailedError, Outcome, check

if TYPE_CHECKING:
    from idf_ops.batch.service import RunRecord
    from idf_ops.gates.registry import Gate

__all__ = [
    "HTCONDOR_NAMESPACE",
    "check_batch_evaluation",
    "check_batch_pool",
    "check_batch_processing_butler",
    "check_batch_restart",
    "check_batch_small_dataset",
]


def _records(ctx: CheckContext) -> list[RunRecord]:
    from idf_ops.batch.service import list_records  # noqa: PLC0415 - pydantic models, loaded when run

    if ctx.outputs.kind != "local":
        # Submissions to the GKE pool are recorded under the stack's name (runbooks/batch.md).
        raise CheckFailedError(
            f"no batch run on record for stack {ctx.outputs.stack}: "
            "submit to its pool first (runbooks/batch.md)"
        )
    return list_records()


def _evidence(record: RunRecord) -> str:
    outputs = ", ".join(f"{k} {v}" for k, v in sorted(record.outputs.items()))
    return (
        f"run {record.run_name}: {record.state}, {record.total_quanta} quanta, "
        f"{len(record.restarts)} restart(s), output collection {record.output_run} ({outputs})"
    )


@check(id="batch-pool", live=True, stack_kinds={"local", "gcp"}, timeout_s=180)
def check_batch_pool(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """The pool answers with slots and runs a trivial job to completion now."""
    if ctx.outputs.kind == "gcp":
        from idf_ops.gates.checks import _gcp  # noqa: PLC0415 - cloud clients, loaded when needed

        return _gcp.pods_ready(ctx, budget, HTCONDOR_NAMESPACE, "HTCondor central manager and execute pods")
    from idf_clients.batch import BatchClient  # noqa: PLC0415

    client = BatchClient()
    if not client.available():
        raise CheckFailedError("the batch environment is not built; run `idf local up --only batch`")
    try:
        slots = client.slots()
        if not slots:
            raise CheckFailedError("the HTCondor pool advertises no slot (condor_status is empty)")
        evidence = [
            f"{len(slots)} slot(s): " + ", ".join(f"{s.get('Name')} {s.get('Cpus')} cpus" for s in slots)
        ]
        seconds = client.trivial_job(timeout_s=max(5.0, budget.remaining() - 5))
    except OperationFailed as exc:
        raise CheckFailedError(str(exc).splitlines()[0]) from exc
    evidence.append(f"a /bin/true job ran to completion in {seconds:.1f} s")
    return Outcome("the HTCondor pool is up and runs a trivial job", evidence)


@check(id="batch-restart", live=False, stack_kinds={"local", "gcp"}, timeout_s=60)
def check_batch_restart(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """A run with an injected failure failed, was restarted with `bps restart` and completed."""
    restarted = [r for r in _records(ctx) if r.injected_failures and r.restarts]
    if not restarted:
        raise CheckFailedError(
            "no restarted run on record: "
            "`idf batch submit --inject-failure 3828-0-u` then `idf batch restart RUN`"
        )
    complete = [r for r in restarted if r.complete]
    if not complete:
        raise CheckFailedError("a run was restarted but did not complete", [_evidence(restarted[0])])
    record = complete[0]
    return Outcome(
        f"run with injected failure ({', '.join(record.injected_failures)}) restarted to completion",
        [_evidence(record)],
    )


@check(id="batch-processing-butler", live=True, stack_kinds={"local", "gcp"}, timeout_s=120)
def check_batch_processing_butler(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """The processing Butler holds a run's outputs exactly once; its read-only config refuses writes."""
    from idf_ops.batch.service import count_outputs, open_readonly_butler  # noqa: PLC0415

    complete = [r for r in _records(ctx) if r.complete]
    if not complete:
        raise CheckFailedError("no completed batch run on record: `idf batch submit`")
    record = complete[0]
    try:
        outputs, duplicates = count_outputs(record.output_run)
        butler = open_readonly_butler()
    except (OperationFailed, BadInput) as exc:
        raise CheckFailedError(str(exc)) from exc
    evidence = [_evidence(record), f"registry now: {outputs}, {duplicates} duplicated data ids"]
    if outputs != record.outputs or duplicates:
        raise CheckFailedError("the processing Butler no longer matches the run's record", evidence)
    if butler.isWriteable():
        raise CheckFailedError("the users' read-only config opened the processing Butler writeable", evidence)
    try:
        butler.registry.registerRun("u/gates/write-probe")
    except Exception as exc:  # noqa: BLE001 - any refusal is the pass; the message is evidence
        evidence.append(f"write refused: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
    else:
        raise CheckFailedError("the read-only config could register a RUN collection", evidence)
    return Outcome(
        "outputs registered once in the processing Butler; read-only config refuses writes", evidence
    )


@check(id="batch-evaluation", live=False, stack_kinds={"local", "gcp"}, timeout_s=30)
def check_batch_evaluation(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """The BPS evaluation report exists: the pipeline through HTCondor, through parsl and in one process."""
    from idf_ops.batch.bench import load_evaluation  # noqa: PLC0415

    if ctx.outputs.kind != "local":
        raise CheckFailedError(f"no BPS evaluation on record for stack {ctx.outputs.stack}")
    try:
        evaluation = load_evaluation()
    except BadInput as exc:
        raise CheckFailedError(str(exc)) from exc
    rows = [
        f"{row.quanta} quanta: HTCondor {row.htcondor_wall_s:.0f} s ({row.htcondor_quanta_per_s:.2f}/s, "
        f"{row.htcondor_failures} failed), "
        + (
            f"parsl {row.parsl_wall_s:.0f} s ({row.parsl_quanta_per_s or 0:.2f}/s, "
            f"{row.parsl_failures} failed), "
            if row.parsl_wall_s is not None
            else "parsl not run, "
        )
        + f"one process {row.single_wall_s:.0f} s ({row.single_quanta_per_s:.2f}/s), "
        f"overhead {row.overhead_per_quantum_s:.2f} s/quantum"
        for row in evaluation.rows
    ]
    if not rows or any(row.htcondor_failures for row in evaluation.rows):
        raise CheckFailedError("the evaluation has no successful size", rows)
    if any(row.parsl_run is None or row.parsl_failures for row in evaluation.rows):
        raise CheckFailedError(
            "the evaluation lacks a successful second WMS (ctrl_bps_parsl) beside HTCondor; "
            "run `idf batch bench` again",
            rows,
        )
    return Outcome(f"BPS evaluated over {len(rows)} sizes ({evaluation.measured_at})", rows)


@check(id="batch-small-dataset", live=False, stack_kinds={"local", "gcp"}, timeout_s=60)
def check_batch_small_dataset(ctx: CheckContext, gate: Gate, budget: Budget) -> Outcome:
    """A processing run over the whole small input dataset completed."""
    whole = [r for r in _records(ctx) if r.complete and not r.where]
    if not whole:
        raise CheckFailedError(
            "no completed run over the whole small dataset: `idf batch submit` (no --where)"
        )
    return Outcome(f"small dataset processed into {whole[0].output_run}", [_evidence(whole[0])])
