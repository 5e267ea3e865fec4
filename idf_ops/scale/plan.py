"""The scale-test plan: sizing -> stack file -> validated config -> cost.

This module owns the one path every scale-test number takes: the sizing model sizes the
cluster, :mod:`idf_ops.scale.stackfile` renders the stack file, `infra.config` validates it (the
same model `idf config validate` uses), and the cost model prices *that validated config*, so the
plan, the committed stack file and `idf cost qserv-scale75` cannot disagree.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from idf_core.errors import BadInput
from idf_core.facts import REAPER_STACK
from idf_core.qserv_ingest import scale_chunks, scale_staging_uri
from idf_ops.cost.estimate import CostEstimate, estimate_cost
from idf_ops.cost.inventory import inventory_from_stack
from idf_ops.cost.prices import PriceTable
from idf_ops.cost.reaper import ReaperCost, reaper_cost
from idf_ops.scale.sizing import GENERATED_CSV_BYTES_PER_OBJECT, SizingInputs, SizingResult, size_qserv
from idf_ops.scale.stackfile import render_stack_document
from infra.config import dump_stack_file, load_stack_file, resolve_stack_file, validate_config_mapping

__all__ = [
    "DEFAULT_SCALE_STACK",
    "GenerationJob",
    "ScalePlan",
    "TestCost",
    "plan_scale_test",
    "stack_file_text",
    "write_stack_file",
]

DEFAULT_SCALE_STACK = "qserv-scale75"


class TestCost(BaseModel):
    """The cost of the whole scale test, phase by phase, at the stack's hourly price."""

    model_config = ConfigDict(extra="forbid")

    generation_hours: float = Field(title="Generation (h)", description="Generator Job on the stack's nodes.")
    ingest_hours: float = Field(title="Ingest (h)", description="Loading the generated catalog.")
    test_hours: float = Field(title="Test (h)", description="Load tests and gate evidence.")
    usd_per_hour: float = Field(title="USD/h", description="The stack's hourly price.")
    generation_usd: float = Field(title="Generation USD", description="generation h x USD/h.")
    ingest_usd: float = Field(title="Ingest USD", description="ingest h x USD/h.")
    test_usd: float = Field(title="Test USD", description="test h x USD/h.")
    reaper_usd: float = Field(
        title="Reaper USD",
        description="The reaper's hourly cost (idf_ops.cost.reaper) over the same hours (it runs all month).",
    )
    reaper_detail: str = Field(title="Reaper", description="How the reaper's cost was computed.")
    staging_gb: float = Field(
        title="Staging (GB)",
        description="The generated catalog's CSV in the stack's scratch bucket: objects x "
        "GENERATED_CSV_BYTES_PER_OBJECT (measured with the generation rate, docs/sizing.md).",
    )
    staging_usd: float = Field(
        title="Staging USD",
        description="staging GB x Cloud Storage STANDARD per GB-month x (generation + ingest + test "
        "hours) / hours per month: the bucket lives until the stack is destroyed.",
    )
    total_usd: float = Field(title="Total USD", description="Sum of the phases, staging and the reaper.")


class GenerationJob(BaseModel):
    """The generator's Indexed Job as the Pulumi program declares it from the rendered stack file's
    ``idf:scale_catalog`` (infra/program.py ``_scale_catalog``), with its time at the measured rate."""

    model_config = ConfigDict(extra="forbid")

    completions: int = Field(title="Completions", description="One per chunk (scale_chunks(percent)).")
    parallelism: int = Field(title="Pods at once", description="idf:scale_catalog.parallelism.")
    node_pool: str = Field(title="Node pool", description="Key of the Qserv worker pool the pods run on.")
    staging_uri: str = Field(title="Output", description="The stack's scratch staging bucket.")
    hours: float = Field(title="Hours", description="Sizing model: objects / (rate x parallel pods).")
    pod_hours: float = Field(title="Pod-hours", description="hours x parallel pods (single-core pods).")
    timeout_hours: float = Field(title="Wait (h)", description="How long `pulumi up` waits for the Job.")


class ScalePlan(BaseModel):
    """Everything `idf scale plan` reports."""

    model_config = ConfigDict(extra="forbid")

    stack: str = Field(title="Stack", description="Scale-test stack name.")
    sizing: SizingResult = Field(title="Sizing", description="The sized cluster.")
    nodes_total: int = Field(title="Nodes", description="Workers + czar + utility nodes.")
    local_ssd_total_gb: int = Field(title="Local SSD total (GB)", description="Over all workers.")
    czar_disk_gb: int = Field(title="Czar disk (GB)", description="pd-ssd volume of the czar.")
    cost: CostEstimate = Field(title="Cost", description="Priced inventory of the rendered stack.")
    hours: float = Field(title="Hours", description="Hours the stack is up (ingest + test unless given).")
    usd_for_hours: float = Field(title="USD for the run", description="cost.usd_per_hour x hours.")
    expires_at: datetime = Field(title="Expires at", description="Expiry written into the stack file.")
    test_cost: TestCost = Field(title="Test cost", description="Generation + ingest + test + reaper.")
    generation_job: GenerationJob = Field(
        title="Generation Job", description="The generator's Indexed Job, from the rendered stack file."
    )


def reaper_of_permanent_stack() -> ReaperCost:
    """The cost of the reaper that guarantees every scale stack's teardown: `idf:reaper` of
    :data:`idf_core.facts.REAPER_STACK`'s stack file, at the serverless price table's rates."""
    cfg = load_stack_file(resolve_stack_file(REAPER_STACK))
    if cfg.reaper is None:
        raise BadInput(
            f"{cfg.source}: no idf:reaper; a scale test's teardown without the operator needs it "
            "(runbooks/qserv-scale-test.md), so a plan cannot be priced without it"
        )
    return reaper_cost(cfg.reaper)


def _validated(doc: dict[str, Any], stack: str) -> Any:
    return validate_config_mapping(doc, f"stacks/Pulumi.{stack}.yaml (rendered by the sizing model)", stack)


def plan_scale_test(
    inputs: SizingInputs,
    prices: PriceTable,
    *,
    expires_at: datetime,
    stack: str = DEFAULT_SCALE_STACK,
    hours: float | None = None,
    owner: str | None = None,
) -> tuple[ScalePlan, dict[str, Any]]:
    """Size, render, validate and price a scale test; returns the plan and the stack document."""
    sizing = size_qserv(inputs, prices)
    kwargs: dict[str, Any] = {"stack": stack, "expires_at": expires_at}
    if owner:
        kwargs["owner"] = owner
    run_hours = (
        hours if hours is not None else sizing.generation_hours + sizing.ingest_hours + inputs.test_hours
    )
    # Price first without the budget (the budget amount is derived from the price), then render.
    unbudgeted = _validated(render_stack_document(sizing, prices, **kwargs), stack)
    cost = estimate_cost(inventory_from_stack(unbudgeted, nodes_at="max"), prices)
    doc = render_stack_document(sizing, prices, run_usd=cost.usd_per_hour * run_hours, **kwargs)
    cfg = _validated(doc, stack)
    nodes = sum(pool.max_nodes for pool in cfg.node_pools.values())
    catalog, qserv = cfg.scale_catalog, cfg.qserv
    if catalog is None or qserv is None:  # render_stack_document writes both
        raise ValueError(f"{stack}: the rendered stack file has no idf:scale_catalog / idf:qserv")
    if catalog.parallelism != sizing.generation_cores:  # one definition: generator_parallelism
        raise ValueError(
            f"{stack}: idf:scale_catalog.parallelism {catalog.parallelism} != the model's "
            f"{sizing.generation_cores} generator cores"
        )
    job = GenerationJob(
        completions=len(scale_chunks(catalog.percent_of_dr1)),
        parallelism=catalog.parallelism,
        node_pool=qserv.worker_pool,
        staging_uri=scale_staging_uri(stack),
        hours=sizing.generation_hours,
        pod_hours=sizing.generation_hours * catalog.parallelism,
        timeout_hours=catalog.timeout_hours,
    )
    rate = cost.usd_per_hour
    phases = (sizing.generation_hours, sizing.ingest_hours, inputs.test_hours)
    reaper_rate = reaper_of_permanent_stack()
    reaper = reaper_rate.usd_per_hour * sum(phases)
    staging_gb = sizing.scale_catalog_rows["object"] * GENERATED_CSV_BYTES_PER_OBJECT / 1e9
    staging_usd = (
        staging_gb * prices.gcs_usd_per_gb_month["STANDARD"].usd * sum(phases) / prices.hours_per_month
    )
    test_cost = TestCost(
        generation_hours=phases[0],
        ingest_hours=phases[1],
        test_hours=phases[2],
        usd_per_hour=rate,
        generation_usd=rate * phases[0],
        ingest_usd=rate * phases[1],
        test_usd=rate * phases[2],
        reaper_usd=reaper,
        reaper_detail=f"{REAPER_STACK}'s idf:reaper: {reaper_rate.detail} a month",
        staging_gb=staging_gb,
        staging_usd=staging_usd,
        total_usd=rate * sum(phases) + staging_usd + reaper,
    )
    plan = ScalePlan(
        stack=stack,
        sizing=sizing,
        nodes_total=nodes,
        local_ssd_total_gb=sizing.workers * sizing.worker_local_ssd_gb,
        czar_disk_gb=sizing.czar_disk_gb,
        cost=cost,
        hours=run_hours,
        usd_for_hours=cost.usd_per_hour * run_hours,
        expires_at=expires_at,
        test_cost=test_cost,
        generation_job=job,
    )
    return plan, doc


def _header(plan: ScalePlan, command: str) -> str:
    s = plan.sizing
    return (
        f"Stack {plan.stack}: the temporary Qserv scale test at {s.inputs.percent_of_dr1:g}% of DR1 "
        "(seed 4.2; LDM-552 glide path).\n"
        "GENERATED by the sizing model (idf_ops/scale/sizing.py, docs/sizing.md); do not edit by hand:\n"
        f"  {command}\n"
        f"Model: {s.workers} x {s.inputs.worker_machine_type} workers ({s.binding_constraint}-bound), "
        f"{s.inputs.local_ssd_count} x 375 GB local NVMe each\n"
        "(worker data lives on one RAID-0 of them per worker: the qserv-local-ssd StorageClass),\n"
        f"{s.chunks_per_worker:.1f} chunks/worker, czar {s.czar_machine_type} + {s.czar_disk_gb} GB, "
        f"~${plan.cost.usd_per_hour:,.2f}/h at list price.\n"
        "Temporary pools only (labelled purpose=scale-test, owner, expires-at by the program);\n"
        "no Cloud SQL, no declared buckets: the Butler is dp01's, read-only; the generated catalog\n"
        "goes to a scratch bucket the program creates and destroys with the stack.\n"
        "Tear down: `idf scale down` (runbooks/qserv-scale-test.md)."
    )


def write_stack_file(plan: ScalePlan, doc: dict[str, Any], command: str, path: Path) -> Path:
    """Write the stack file through `infra.config.dump_stack_file` (validated again on write)."""
    cfg = _validated(doc, plan.stack)
    tmp = path.with_name(path.name + ".tmp")
    dump_stack_file(cfg, tmp, header=_header(plan, command))
    tmp.replace(path)
    return path


def stack_file_text(plan: ScalePlan, doc: dict[str, Any], command: str) -> str:
    """The stack file's text exactly as :func:`write_stack_file` would write it."""
    with tempfile.TemporaryDirectory() as tmp:
        return write_stack_file(plan, doc, command, Path(tmp) / f"Pulumi.{plan.stack}.yaml").read_text()
