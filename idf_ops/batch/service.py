"""What `idf batch` does: submit the small DP0.2 pipeline with BPS, follow, restart and report runs.

Each submission writes a small BPS config that includes the base one of the batch environment
(batch/bps/local-htcondor.yaml) and sets the run's output, data query and injected failures; the
run's record (`var/local/batch/runs/<run>.json`) keeps what the gates need as evidence:
run name, output collection, quanta, restarts and the final state, plus the outputs counted in the
processing Butler through the users' read-only config.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from idf_clients.batch import BatchClient
from idf_clients.butler import open_butler
from idf_core.errors import BadInput, OperationFailed
from idf_core.facts import BATCH_ENVIRONMENT, BATCH_INPUT_COLLECTION, BATCH_OUTPUT_PREFIX
from idf_core.paths import state_dir, state_path

__all__ = [
    "OUTPUT_DATASET_TYPES",
    "RunRecord",
    "cancel",
    "count_outputs",
    "dataset_where",
    "list_records",
    "load_record",
    "report",
    "restart",
    "run_parsl",
    "submit",
    "wait",
]

RESTART_GRACE_S = 120
TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "DELETED", "PRUNED"})
# Output dataset type of each task label (batch/src/idf_batch_tasks/tasks.py): one dataset a quantum.
OUTPUT_DATASET_TYPES = {
    "measurePatch": "dp02_patch_measurement",
    "mergeBands": "dp02_patch_object",
    "tractSummary": "dp02_tract_summary",
    "runSummary": "dp02_run_summary",
}
_LABEL = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_DATA_ID = re.compile(r"^(\d+)-(\d+)-([ugrizy])$")
# The first tracts and bands batch/src/idf_batch_tasks/inputs.py registers (it fills them in order).
DC2_TRACTS = (3828, 3829, 3830, 3831, 4024, 4025, 4026, 4027)
BANDS = ("u", "g", "r", "i", "z", "y")
# The small test dataset of seed Table 2, as the batch role registers it (2 tracts, 9 patches, 3 bands).
SMALL_DATASET = (2, 9, 3)


def dataset_where(tracts: int, patches: int, bands: int) -> str:
    """The Butler data query of the first `tracts` tracts, `patches` patches and `bands` bands."""
    tract_list = ", ".join(str(t) for t in DC2_TRACTS[:tracts])
    band_list = ", ".join(f"'{b}'" for b in BANDS[:bands])
    return f"tract IN ({tract_list}) AND patch < {patches} AND band IN ({band_list})"


BASE_CONFIG = f"{BATCH_ENVIRONMENT.share}/bps/local-htcondor.yaml"
#: The same run through ctrl_bps_parsl (threads on this machine): the evaluation's second WMS.
PARSL_CONFIG = f"{BATCH_ENVIRONMENT.share}/bps/local-parsl.yaml"
# parsl's own end-of-workflow summary, which `bps submit` logs (ctrl_bps_parsl has no `bps report`).
_PARSL_SUMMARY = re.compile(r"'tasks_failed_count': (\d+), 'tasks_completed_count': (\d+)")
READER_DB_AUTH = "db-auth-processing-reader.yaml"


class RunRecord(BaseModel):
    """One submission and what became of it (the batch gates' evidence)."""

    model_config = ConfigDict(extra="forbid")

    run_name: str = Field(description="BPS run name.")
    wms: str = Field(default="htcondor", description="htcondor (the pool) or parsl (the second WMS).")
    run_id: str = Field(description="Latest HTCondor id of the run (a restart gets a new one).")
    submit_path: str = Field(description="Submit directory inside the batch environment.")
    output_run: str = Field(description="Output RUN collection in the processing Butler.")
    label: str
    where: str = Field(description="Butler data query of the input ('' = the whole small dataset).")
    injected_failures: list[str] = Field(default_factory=list, description="tract-patch-band ids.")
    fault_dir: str = Field(default="", description="Fail-once markers of this run (inside the environment).")
    submitted_at: str
    restarts: list[str] = Field(default_factory=list, description="HTCondor ids of the restarts.")
    state: str = "SUBMITTED"
    quanta: dict[str, int] = Field(default_factory=dict, description="Quanta per task label.")
    job_state_counts: dict[str, int] = Field(default_factory=dict)
    wall_s: float | None = Field(default=None, description="Submit (or restart) to done, seconds.")
    outputs: dict[str, int] = Field(default_factory=dict, description="Datasets per output type.")
    duplicates: int = Field(default=0, description="Output data ids found more than once.")

    @property
    def total_quanta(self) -> int:
        """Quanta of the pipeline's tasks (BPS's pipetaskInit job excluded)."""
        return sum(n for label, n in self.quanta.items() if label in OUTPUT_DATASET_TYPES)

    @property
    def complete(self) -> bool:
        """Succeeded, and every expected output exists exactly once."""
        expected = {OUTPUT_DATASET_TYPES[k]: v for k, v in self.quanta.items() if k in OUTPUT_DATASET_TYPES}
        return (
            self.state == "SUCCEEDED" and bool(expected) and self.outputs == expected and self.duplicates == 0
        )


def _runs_dir(*, create: bool) -> Path:
    return state_dir("local", "batch", "runs") if create else state_path("local", "batch", "runs")


def _save(record: RunRecord) -> None:
    path = _runs_dir(create=True) / f"{record.run_name}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(record.model_dump_json(indent=2) + "\n")
    tmp.replace(path)


def load_record(run: str) -> RunRecord:
    """The record of a run, by run name or HTCondor id (latest submission first)."""
    for record in list_records():
        if run in (record.run_name, record.run_id, *record.restarts):
            return record
    raise BadInput(f"no batch run {run!r} on record; `idf batch status` lists them")


def list_records() -> list[RunRecord]:
    """Every run on record, newest first."""
    folder = _runs_dir(create=False)
    if not folder.is_dir():
        return []
    records = [RunRecord.model_validate_json(p.read_text()) for p in folder.glob("*.json")]
    return sorted(records, key=lambda r: r.submitted_at, reverse=True)


def _check_inputs(label: str, inject: list[str]) -> None:
    if not _LABEL.match(label):
        raise BadInput(f"--label {label!r}: use 1-40 of a-z, 0-9 and '-', starting with a letter or digit")
    for data_id in inject:
        if not _DATA_ID.match(data_id):
            raise BadInput(f"--inject-failure {data_id!r}: write TRACT-PATCH-BAND, e.g. 3828-0-g")


def _built(client: BatchClient | None) -> BatchClient:
    """``client`` (or a new one), or OperationFailed when the batch environment is not built yet."""
    client = client or BatchClient()
    if not client.available():
        raise OperationFailed("the batch environment is not built; run `idf local up` (or `--only batch`)")
    return client


def _write_config(
    client: BatchClient, label: str, where: str, inject: list[str], base: str
) -> tuple[str, str, str]:
    """Write the submit config of one run (and its fail-once markers); (stamp, fault dir, config path)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    env = client.env
    faults = f"{env.data}/faults/{stamp}"
    for data_id in inject:
        client.write_file(f"{faults}/{data_id}", "fail once\n")
    # No --where: the small dataset itself (more inputs may be registered, e.g. by the benchmark).
    query = f"skymap = 'DC2' AND ({where or dataset_where(*SMALL_DATASET)})"
    config: dict[str, Any] = {
        "includeConfigs": [base],
        "payload": {
            "output": f"{BATCH_OUTPUT_PREFIX}/{label}",
            "dataQuery": query,
            "inCollection": BATCH_INPUT_COLLECTION,
        },
        "extraQgraphOptions": f"-c measurePatch:failOnceDir={faults}",
    }
    config_path = f"{env.data}/configs/{stamp}.yaml"
    client.write_file(config_path, yaml.safe_dump(config, sort_keys=False))
    return stamp, faults, config_path


def submit(
    *,
    label: str = "small",
    where: str = "",
    inject: list[str] | None = None,
    client: BatchClient | None = None,
) -> RunRecord:
    """Submit the small pipeline over the input (optionally a data query of it); return the record."""
    inject = list(inject or [])
    _check_inputs(label, inject)
    if "\n" in where or len(where) > 2000:
        raise BadInput("--where: one line of at most 2000 characters (a Butler data query)")
    client = _built(client)
    _, faults, config_path = _write_config(client, label, where, inject, BASE_CONFIG)
    started = client.submit(config_path)
    output_run = started.submit_path.split("/submit/", 1)[-1] if "/submit/" in started.submit_path else ""
    record = RunRecord(
        run_name=started.run_name,
        run_id=started.run_id,
        submit_path=started.submit_path,
        output_run=output_run,
        label=label,
        where=where,
        injected_failures=inject,
        fault_dir=faults if inject else "",
        submitted_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    _save(record)
    return record


def run_parsl(
    *, label: str, where: str = "", client: BatchClient | None = None, timeout_s: float = 3600
) -> RunRecord:
    """The same pipeline through ctrl_bps_parsl (threads in the batch environment): its `bps submit`
    runs the workflow to the end before it returns. The record has the wall time of that call, the
    jobs parsl completed and failed (its end-of-workflow summary), and the outputs in the Butler."""
    _check_inputs(label, [])
    client = _built(client)
    stamp, _, config_path = _write_config(client, label, where, [], PARSL_CONFIG)
    started = time.monotonic()
    state, output = "SUCCEEDED", ""
    try:
        output = client.run(["bps", "submit", config_path], cwd=client.env.data, timeout_s=timeout_s)
        run = client.started_run(output)
        run_name = run.run_name
    except OperationFailed as exc:
        state, output, run_name = "FAILED", str(exc), f"parsl-{label}-{stamp}"
    wall = round(time.monotonic() - started, 1)
    summary = _PARSL_SUMMARY.search(output)
    failed, completed = (int(summary.group(1)), int(summary.group(2))) if summary else (0, 0)
    if failed or summary is None:
        state = "FAILED"
    output_run = f"{BATCH_OUTPUT_PREFIX}/{label}/{run_name.rsplit('_', 1)[1]}" if state == "SUCCEEDED" else ""
    record = RunRecord(
        run_name=run_name,
        wms="parsl",
        run_id="",
        submit_path=f"{client.env.data}/submit/{output_run}" if output_run else "",
        output_run=output_run,
        label=label,
        where=where,
        submitted_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        state=state,
        job_state_counts={"SUCCEEDED": completed, "FAILED": failed if summary else 1},
        wall_s=wall,
    )
    if output_run:
        record.outputs, record.duplicates = count_outputs(output_run)
        # No report from the plugin: the quanta done are the outputs written (one per quantum).
        record.quanta = {task: record.outputs.get(kind, 0) for task, kind in OUTPUT_DATASET_TYPES.items()}
    _save(record)
    return record


def _refresh(record: RunRecord, client: BatchClient) -> RunRecord:
    if record.wms != "htcondor":
        return record  # ctrl_bps_parsl has no `bps report`; its record was final when written
    runs = client.report(record.run_id)
    if runs:
        run = runs[0]
        counts = {k: int(v) for k, v in (run.get("job_state_counts") or {}).items()}
        state = str(run.get("state") or record.state)
        total = int(run.get("total_number_jobs") or 0)
        # Just after submission ctrl_bps_htcondor can report a DAG whose nodes it has not read yet
        # as SUCCEEDED with every count 0: an end state counts only once the jobs are accounted for.
        if state in TERMINAL_STATES and (sum(counts.values()) == 0 or sum(counts.values()) < total):
            state = "SUBMITTED"
        record.state = state
        record.quanta = {k: int(v) for k, v in (run.get("quanta") or {}).items()} or record.quanta
        record.job_state_counts = counts
    return record


def wait(
    record: RunRecord,
    *,
    timeout_s: float = 1800,
    poll_s: float = 3,
    progress: Callable[[RunRecord], None] | None = None,
    client: BatchClient | None = None,
) -> RunRecord:
    """Follow a run until HTCondor says it ended; then count its outputs and save the record."""
    client = client or BatchClient()
    started = time.monotonic()
    # Just after `bps restart`, HTCondor may still report the failed attempt's final state: a
    # restarted run counts as ended only once it was seen active again (or after a grace period).
    seen_active = record.state != "RESTARTED"
    while True:
        record = _refresh(record, client)
        if progress is not None:
            progress(record)
        seen_active = seen_active or record.state not in TERMINAL_STATES
        if record.state in TERMINAL_STATES and (seen_active or time.monotonic() - started > RESTART_GRACE_S):
            break
        if time.monotonic() - started > timeout_s:
            _save(record)
            raise OperationFailed(f"batch run {record.run_name} still {record.state} after {timeout_s:.0f} s")
        time.sleep(poll_s)
    record.wall_s = round(time.monotonic() - started, 1)
    if record.output_run:
        record.outputs, record.duplicates = count_outputs(record.output_run)
    _save(record)
    return record


def restart(run: str, *, client: BatchClient | None = None) -> RunRecord:
    """`bps restart` a run that did not succeed; the record keeps the new HTCondor id."""
    client = client or BatchClient()
    record = load_record(run)
    record = _refresh(record, client)
    if record.state == "SUCCEEDED":
        raise BadInput(f"batch run {record.run_name} already succeeded; nothing to restart")
    if record.state not in TERMINAL_STATES:
        raise BadInput(
            f"batch run {record.run_name} is {record.state}; wait for it to end (or cancel it) first"
        )
    started = client.restart(record.submit_path)
    record.restarts.append(started.run_id)
    record.run_id = started.run_id
    record.state = "RESTARTED"
    _save(record)
    return record


def cancel(run: str, *, client: BatchClient | None = None) -> RunRecord:
    """`bps cancel` a run; the record says DELETED once HTCondor removed it."""
    client = client or BatchClient()
    record = load_record(run)
    client.cancel(record.run_id)
    record.state = "DELETED"
    _save(record)
    return record


def report(run: str | None = None, *, client: BatchClient | None = None) -> list[RunRecord]:
    """Refreshed records: one run, or every run on record."""
    client = client or BatchClient()
    records = [load_record(run)] if run else list_records()
    out = []
    for record in records:
        refreshed = _refresh(record, client)
        if refreshed.state in TERMINAL_STATES and refreshed.output_run and not refreshed.outputs:
            refreshed.outputs, refreshed.duplicates = count_outputs(refreshed.output_run)
        _save(refreshed)
        out.append(refreshed)
    return out


def _secrets_dir() -> Path:
    return Path(os.environ.get("IDF_SECRETS_DIR", "/var/lib/idf/secrets"))


def open_readonly_butler() -> Any:
    """The processing Butler through the users' read-only config and the reader's credentials."""
    auth = _secrets_dir() / READER_DB_AUTH
    config = Path(BATCH_ENVIRONMENT.host(BATCH_ENVIRONMENT.readonly_config))
    if not config.exists() or not auth.exists():
        raise OperationFailed(f"{config} or {auth} is missing; run `idf local up --only batch`")
    return open_butler(config, auth, writeable=False)


def count_outputs(output_run: str) -> tuple[dict[str, int], int]:
    """Datasets per output type in the run's collection, and how many data ids appear twice."""
    butler = open_readonly_butler()
    counts: dict[str, int] = {}
    duplicates = 0
    for dataset_type in OUTPUT_DATASET_TYPES.values():
        try:
            refs = butler.query_datasets(
                dataset_type, collections=output_run, find_first=False, explain=False
            )
        except Exception:  # noqa: BLE001 - a type never registered (nothing ran) counts as none
            refs = []
        ids = [json.dumps(dict(ref.dataId.required), sort_keys=True, default=str) for ref in refs]
        counts[dataset_type] = len(set(ids))
        duplicates += len(ids) - len(set(ids))
    return {k: v for k, v in counts.items() if v}, duplicates
