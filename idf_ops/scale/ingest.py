"""The ingest step of the scale test: generated chunks -> Qserv, with progress and a resumable state.

The step follows the qserv-ingest configuration (:mod:`idf_core.qserv_ingest`): tables in its order
(directors first), the chunk ids its ``metadata.json`` lists, the columns its table files name. One
unit of work is one chunk of one table; after each, the state file (``ingest-state.json`` beside the
data, written atomically) records it with its row count, so a rerun after a crash, a SIGKILL or a
lost connection skips every unit already loaded and resumes at the first one that is not. A chunk is
*done* when all its tables are; progress reports chunks done / total and rows/s.

The state is also the record of what was loaded: :func:`loaded_rows` sums it per table, and the
75 % checkpoint's gate reads those counts (``idf_ops.gates.checks.loadtests``).

Loading a unit is the loader's business (:class:`ChunkLoader`): locally the MariaDB stand-in
(:func:`idf_ops.qserv_local.load.load_chunk`, which replaces the chunk, so a unit loaded twice —
killed after the load, before the state was written — is still loaded once).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from idf_core.errors import BadInput, OperationFailed
from idf_core.paths import state_dir, state_path
from idf_core.qserv_ingest import QservIngestConfig
from idf_ops.qserv_local.load import load_chunk
from idf_ops.scale.generate import chunk_file

__all__ = [
    "RECORD_FILE",
    "STATE_FILE",
    "ChunkLoader",
    "IngestProgress",
    "IngestRecord",
    "IngestState",
    "JobCondition",
    "MariaDbChunkLoader",
    "follow_cluster_ingest",
    "ingest",
    "loaded_rows",
    "read_record",
    "read_state",
    "state_from_counters",
    "write_record",
]

STATE_FILE = "ingest-state.json"
#: The record of a stack's ingest, where the gates look: ``var/stacks/<stack>/ingest.json``.
RECORD_FILE = "ingest.json"


class ChunkLoader(Protocol):
    """Loads one chunk file of one table; returns the rows the chunk holds afterwards."""

    def __call__(self, table: str, chunk: int, path: Path, columns: list[str]) -> int: ...


class IngestState(BaseModel):
    """What was loaded, unit by unit."""

    model_config = ConfigDict(extra="forbid")

    database: str = Field(title="Database", description="Target database.")
    loaded: dict[str, dict[int, int]] = Field(
        default_factory=dict, title="Loaded", description="Table -> chunk -> rows loaded."
    )
    chunks_total: int = Field(default=0, title="Chunks", description="Chunks the configuration lists.")
    seconds: float = Field(default=0.0, title="Seconds", description="Load time summed over runs.")


@dataclass(frozen=True)
class IngestProgress:
    """One progress report: after each chunk."""

    chunks_done: int
    chunks_total: int
    rows: int
    rows_per_s: float
    skipped: int

    def line(self) -> str:
        return (
            f"ingest: {self.chunks_done}/{self.chunks_total} chunks, {self.rows:,} rows, "
            f"{self.rows_per_s:,.0f} rows/s ({self.skipped} chunks already loaded)"
        )


def read_state(path: Path, database: str) -> IngestState:
    """The state at ``path``, a fresh one when absent; BadInput when corrupt or of another database."""
    if not path.exists():
        return IngestState(database=database)
    try:
        state = IngestState.model_validate_json(path.read_text())
    except (ValidationError, ValueError) as exc:
        raise BadInput(
            f"{path}: corrupt ingest state ({str(exc).splitlines()[0]}); remove it to reload everything."
        ) from None
    if state.database != database:
        raise BadInput(
            f"{path}: ingest state of database {state.database!r}, not {database!r}; "
            "use another --state or remove it."
        )
    return state


def _save(path: Path, state: IngestState) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state.model_dump(mode="json"), indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def loaded_rows(state: IngestState) -> dict[str, int]:
    """Table -> rows loaded (the ingest step's record)."""
    return {table: sum(chunks.values()) for table, chunks in state.loaded.items()}


def ingest(
    config: QservIngestConfig,
    data_root: Path,
    loader: ChunkLoader,
    *,
    state_path: Path | None = None,
    on_progress: Callable[[IngestProgress], None] | None = None,
) -> IngestState:
    """Load every chunk the configuration lists from ``data_root``, skipping what the state says is loaded."""
    database = config.database.database
    path = state_path or data_root / STATE_FILE
    state = read_state(path, database)
    order = config.table_order()
    chunks = config.chunk_ids()
    state.chunks_total = len(chunks)
    columns = {table: [c.name for c in config.tables[table].columns] for table in order}
    started = time.monotonic()
    rows_this_run = 0
    skipped = 0
    for done, chunk in enumerate(chunks, start=1):
        all_loaded = True
        for table in order:
            if chunk in state.loaded.get(table, {}):
                continue
            all_loaded = False
            file = data_root / chunk_file(table, chunk)
            if not file.exists():
                raise BadInput(
                    f"{file}: chunk {chunk} of {table} listed by metadata.json is missing; generate it."
                )
            unit_started = time.monotonic()
            rows = loader(table, chunk, file, columns[table])
            state.loaded.setdefault(table, {})[chunk] = rows
            state.seconds = round(state.seconds + time.monotonic() - unit_started, 3)
            rows_this_run += rows
            _save(path, state)
        skipped += all_loaded
        if on_progress is not None:
            elapsed = max(time.monotonic() - started, 1e-9)
            on_progress(IngestProgress(done, len(chunks), rows_this_run, rows_this_run / elapsed, skipped))
    _save(path, state)
    return state


@dataclass
class MariaDbChunkLoader:
    """The stand-in's loader: :func:`idf_ops.qserv_local.load.load_chunk` on one root connection."""

    connection: Any
    database: str

    def __call__(self, table: str, chunk: int, path: Path, columns: list[str]) -> int:
        return load_chunk(self.connection, self.database, table, path, columns=columns, chunk=chunk)


class IngestRecord(BaseModel):
    """What the ingest step loaded into a stack: counted rows per table (the gates' evidence)."""

    model_config = ConfigDict(extra="forbid")

    stack: str = Field(title="Stack", description="Stack whose Qserv was loaded.")
    database: str = Field(title="Database", description="Database loaded.")
    rows_per_table: dict[str, int] = Field(
        title="Rows per table", description="Rows loaded, counted per chunk."
    )
    chunks_loaded: int = Field(title="Chunks loaded", description="Chunks with every table loaded.")
    chunks_total: int = Field(title="Chunks", description="Chunks the configuration lists.")
    complete: bool = Field(title="Complete", description="Every chunk of every table loaded.")
    finished_at: datetime = Field(title="Finished at", description="When the step ended (UTC).")


def write_record(stack: str, state: IngestState, tables: int) -> Path:
    """Write ``var/stacks/<stack>/ingest.json`` from the ingest state (``tables``: tables per chunk)."""
    done = _chunks_done(state, tables)
    record = IngestRecord(
        stack=stack,
        database=state.database,
        rows_per_table=loaded_rows(state),
        chunks_loaded=done,
        chunks_total=state.chunks_total,
        complete=done == state.chunks_total,
        finished_at=datetime.now(UTC).replace(microsecond=0),
    )
    path = state_dir("stacks", stack) / RECORD_FILE
    path.write_text(record.model_dump_json(indent=2) + "\n")
    return path


def read_record(stack: str) -> IngestRecord | None:
    """The stack's ingest record, None when there is none; BadInput when corrupt."""
    path = state_path("stacks", stack, RECORD_FILE)
    if not path.exists():
        return None
    try:
        return IngestRecord.model_validate_json(path.read_text())
    except (ValidationError, ValueError) as exc:
        raise BadInput(
            f"{path}: corrupt ingest record ({str(exc).splitlines()[0]}); rerun the ingest step."
        ) from None


# --- On GKE: following qserv-ingest's Job by Qserv's own row counters --------------------------
#
# A scale stack's ingest runs in the cluster (infra/qserv_ingest.py: qserv-ingest's workflow in a
# Job, not awaited by `pulumi up`). Its resumable state is upstream's: the workflow's chunk queue
# (the ``qservIngest`` database) and Qserv's own transactions, which a restarted pod of the Job
# continues from. What we add is the view from outside: the replication controller's row counters
# (``/ingest/table-stats``, :func:`idf_clients.qserv.ingest_table_stats_in_cluster`) read while the
# Job runs give progress and, when it ends, the record of what was loaded. Nothing of that view is
# held by our process: a follower killed midway and started again reads the same counters.

TableStats = Callable[[str], dict[int, int]]
"""Table -> rows per chunk that Qserv has ingested (overlaps excluded)."""


@dataclass(frozen=True)
class JobCondition:
    """Where the ingest Job stands: None while it runs, else ``Complete`` or ``Failed`` and why."""

    condition: str | None
    message: str = ""


def state_from_counters(
    database: str, tables: list[str], chunks_total: int, stats: TableStats
) -> IngestState:
    """The ingest state Qserv's counters describe (a chunk of a table with rows is loaded)."""
    loaded = {table: {c: n for c, n in stats(table).items() if n > 0} for table in tables}
    return IngestState(database=database, loaded=loaded, chunks_total=chunks_total)


def follow_cluster_ingest(
    *,
    database: str,
    tables: list[str],
    chunks_total: int,
    stats: TableStats,
    job: Callable[[], JobCondition],
    on_progress: Callable[[IngestProgress], None] | None = None,
    poll_s: float = 30.0,
    deadline_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    max_failed_polls: int = 10,
) -> tuple[IngestState, JobCondition]:
    """Poll the Job and Qserv's counters until the Job ends or ``deadline_s`` passes; returns the
    last state and how the Job ended (``condition`` None: the deadline passed first).

    A poll that cannot read the Job or the counters (the replication controller starting, an API
    server or proxy hiccup) is not an end: the previous state stands until the next poll, and only
    ``max_failed_polls`` such polls in a row end the follow (OperationFailed), since giving up
    early tears a paid-for stack down. Progress reports chunks with every table loaded, rows and
    rows/s since this follower started (``skipped``: chunks already done when it started, e.g. by
    a follower that was killed)."""
    started = clock()
    state = IngestState(database=database, chunks_total=chunks_total)
    first_rows: int | None = None
    first_done = 0
    failed_polls = 0
    while True:
        try:
            ended = job()
            state = state_from_counters(database, tables, chunks_total, stats)
            failed_polls = 0
        except OperationFailed:
            failed_polls += 1
            if failed_polls >= max_failed_polls:
                raise
            ended = JobCondition(None)
        rows = sum(loaded_rows(state).values())
        done = _chunks_done(state, len(tables))
        if first_rows is None and failed_polls == 0:
            # What was loaded before this follower: counted from its first poll that read it.
            first_rows, first_done = rows, done
        if on_progress is not None:
            elapsed = max(clock() - started, 1e-9)
            since = rows - (rows if first_rows is None else first_rows)
            on_progress(IngestProgress(done, chunks_total, rows, since / elapsed, first_done))
        if ended.condition is not None:
            state.seconds = round(clock() - started, 3)
            return state, ended
        if clock() - started >= deadline_s:
            state.seconds = round(clock() - started, 3)
            return state, JobCondition(None, f"not ended after {deadline_s:.0f} s")
        sleep(poll_s)


def _chunks_done(state: IngestState, tables: int) -> int:
    per_chunk: dict[int, int] = {}
    for chunks in state.loaded.values():
        for chunk in chunks:
            per_chunk[chunk] = per_chunk.get(chunk, 0) + 1
    return sum(1 for n in per_chunk.values() if n == tables)
