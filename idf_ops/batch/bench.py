"""The workflow-system benchmark and BPS evaluation (L3-MW-0040): the same pipeline over growing
inputs through BPS on HTCondor, through BPS on a second WMS (ctrl_bps_parsl, threads on this
machine) and in one `pipetask run` process, side by side.

The ratio tells whether the workflow layer (DAG submission, negotiation, per-job start-up, the
final job's transfer into the registry) or the tasks dominate. Figures, not assertions: this is
a 2-core machine shared with every other service. The report is what the gate reads.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from idf_clients.batch import BatchClient
from idf_core.errors import BadInput
from idf_core.facts import BATCH_ENVIRONMENT, BATCH_INPUT_COLLECTION, BATCH_OUTPUT_PREFIX
from idf_core.paths import state_dir, state_path
from idf_ops.batch import service

__all__ = ["SIZES", "Evaluation", "EvaluationRow", "load_evaluation", "run_evaluation"]

# Input shapes (tracts, patches per tract, bands) -> quanta = t*p*b + t*p + t + 1.
SIZES: dict[str, tuple[int, int, int]] = {
    "8": (1, 2, 2),
    "50": (1, 12, 3),
    "200": (2, 24, 3),
    "800": (4, 49, 3),
}
PIPELINE = f"{BATCH_ENVIRONMENT.share}/pipelines/dp02_small.yaml"


class EvaluationRow(BaseModel):
    """One input size through both executions."""

    model_config = ConfigDict(extra="forbid")

    quanta: int
    jobs: int = Field(description="HTCondor jobs (quanta are clustered per tract).")
    htcondor_run: str
    htcondor_wall_s: float
    htcondor_quanta_per_s: float
    htcondor_failures: int
    single_wall_s: float
    single_quanta_per_s: float
    overhead_per_quantum_s: float = Field(description="(HTCondor wall - one-process wall) / quanta.")
    parsl_run: str | None = Field(default=None, description="The ctrl_bps_parsl run (None: not run).")
    parsl_wall_s: float | None = None
    parsl_quanta_per_s: float | None = None
    parsl_failures: int | None = Field(default=None, description="Jobs parsl reported failed.")


class Evaluation(BaseModel):
    """The BPS evaluation report (var/local/batch/evaluation.json)."""

    model_config = ConfigDict(extra="forbid")

    measured_at: str
    machine: str
    rows: list[EvaluationRow]


def _path() -> Path:
    return state_path("local", "batch", "evaluation.json")


def load_evaluation() -> Evaluation:
    """The last evaluation report; BadInput naming the command when there is none."""
    path = _path()
    if not path.is_file():
        raise BadInput(f"no BPS evaluation at {path}: run `idf batch bench --sizes 8`")
    return Evaluation.model_validate_json(path.read_text())


def _ensure_inputs(client: BatchClient, tracts: int, patches: int, bands: int) -> None:
    env = client.env
    client.run(
        [
            "python",
            "-m",
            "idf_batch_tasks.inputs",
            "--repo",
            env.repo,
            "--db-url",
            f"postgresql+psycopg2://{env.processing_role}@127.0.0.1:5432/{env.database}",
            "--tracts",
            str(tracts),
            "--patches",
            str(patches),
            "--bands",
            str(bands),
        ],
        timeout_s=1800,
    )


def run_evaluation(
    sizes: list[str], *, progress: Callable[[str], None] = lambda _: None, client: BatchClient | None = None
) -> Evaluation:
    """Run every size through HTCondor (BPS), through parsl (BPS) and through one `pipetask run`;
    save the report."""
    unknown = [s for s in sizes if s not in SIZES]
    if unknown or not sizes:
        raise BadInput(f"--sizes: choose among {', '.join(SIZES)} (got {', '.join(unknown) or 'none'})")
    client = client or BatchClient()
    rows = []
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    for size in sizes:
        tracts, patches, bands = SIZES[size]
        quanta = tracts * patches * bands + tracts * patches + tracts + 1
        progress(f"size {size}: registering inputs ({tracts} tracts x {patches} patches x {bands} bands)")
        _ensure_inputs(client, max(tracts, 2), max(patches, 9), max(bands, 3))
        where = service.dataset_where(tracts, patches, bands)
        progress(f"size {size}: {quanta} quanta through BPS on HTCondor")
        record = service.submit(label=f"bench-{size}", where=where, client=client)
        record = service.wait(record, client=client, progress=lambda r: None)
        failures = record.job_state_counts.get("FAILED", 0)
        progress(f"size {size}: {quanta} quanta in one pipetask process")
        started = time.monotonic()
        client.run(
            [
                "pipetask",
                "--long-log",
                "run",
                "-b",
                client.env.repo,
                "-i",
                BATCH_INPUT_COLLECTION,
                "-o",
                f"{BATCH_OUTPUT_PREFIX}/bench-single-{size}/{stamp}",
                "-p",
                PIPELINE,
                "-d",
                f"skymap = 'DC2' AND {where}",
                "--register-dataset-types",
                "-j",
                "1",
            ],
            cwd=client.env.data,
            timeout_s=3600,
        )
        single = time.monotonic() - started
        progress(f"size {size}: {quanta} quanta through BPS on parsl (threads)")
        parsl = service.run_parsl(label=f"bench-parsl-{size}", where=where, client=client)
        htc = record.wall_s or 0.0
        parsl_wall = parsl.wall_s or 0.0
        rows.append(
            EvaluationRow(
                quanta=record.total_quanta or quanta,
                jobs=sum(v for k, v in record.job_state_counts.items() if k in ("SUCCEEDED", "FAILED")),
                htcondor_run=record.run_name,
                htcondor_wall_s=round(htc, 1),
                htcondor_quanta_per_s=round(quanta / htc, 3) if htc else 0.0,
                htcondor_failures=failures,
                single_wall_s=round(single, 1),
                single_quanta_per_s=round(quanta / single, 3),
                overhead_per_quantum_s=round((htc - single) / quanta, 3),
                parsl_run=parsl.run_name,
                parsl_wall_s=parsl_wall,
                parsl_quanta_per_s=round(quanta / parsl_wall, 3) if parsl_wall else 0.0,
                parsl_failures=parsl.job_state_counts.get("FAILED", 0),
            )
        )
    evaluation = Evaluation(
        measured_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        machine=f"{platform.node()} ({len(os.sched_getaffinity(0))} cores)",
        rows=rows,
    )
    state_dir("local", "batch")
    tmp = _path().with_suffix(".tmp")
    tmp.write_text(evaluation.model_dump_json(indent=2) + "\n")
    tmp.replace(_path())
    return evaluation
