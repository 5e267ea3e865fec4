"""Stage dp01's catalogs for Qserv's ingest: the Parquet tables partitioned into the chunk files the
stack's ingest configuration lists, with that configuration beside them, in the staging bucket.

The ingest Job (:mod:`infra.qserv_ingest`) reads ``file:///staging/<database>/`` (the stack's
``qserv_ingest`` bucket through GKE's FUSE CSI driver): ``metadata.json``, the database and table
files, and ``<table>/chunk_<id>.csv`` for every chunk the configuration lists
(:func:`idf_core.qserv_ingest.dp01_cloud_config`: the ``Chunker(85, 12)`` chunks of the DC2 box).
This module writes exactly that, from the same configuration object the program renders, so the
files and the Job cannot disagree:

- every table is read in record batches (memory stays bounded by a batch and one open CSV writer per
  chunk; DC2's full tables are hundreds of GB) and each row goes to the chunk of its own position
  (:func:`idf_ops.qserv_local.chunking.chunk_ids`, checked against lsst.sphgeom), its ``chunkId`` and
  ``subChunkId`` columns written by the same :func:`idf_ops.qserv_local.load.mariadb_batch` the
  MariaDB stand-in loads through;
- a child row (forced_photometry, position, reference) must lie in its object's chunk: Qserv keeps a
  child with its director. A row that does not, an orphan, or a row outside the listed chunks is an
  error naming the table, the count and an example, and nothing is staged: the configuration would
  load a catalog that differs from the source;
- a listed chunk with no rows gets an empty file (the configuration lists the box's chunks, not the
  data's); a table's files go up when the table is done, then ``stage.json`` (rows, files, bytes per
  table), then the configuration with ``metadata.json`` last: its presence means the staging is whole.

Why not Qserv's own partitioner (``sph-partition``, in Qserv's image): it needs the Qserv build, not
installable here, and CSV input; the layout it writes is the one written here (one file per chunk,
chunk columns included). Overlap files (``chunk_<id>_overlap.csv``) are not written: the
configuration declares the overlap but none of dp01's queries (tests/tap/queries) is a near-neighbour
join, which is all Qserv's overlap serves.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from idf_clients.gcp import StorageClient
from idf_core.errors import BadInput
from idf_core.facts import is_scale_stack
from idf_core.qserv_ingest import (
    DP01_PARTITIONING,
    DP01_SKY_BOX_DEG,
    METADATA_FILE,
    QservIngestConfig,
    dp01_cloud_config,
)
from idf_ops.qserv_local.chunking import chunk_ids
from idf_ops.qserv_local.load import CHUNK_CSV_OPTIONS, mariadb_batch
from infra.config import load_stack_file, resolve_stack_file

__all__ = [
    "STAGE_REPORT_FILE",
    "StackStaging",
    "StageReport",
    "TableStaged",
    "stack_staging",
    "stage_catalogs",
]

STAGE_REPORT_FILE = "stage.json"
_BATCH_ROWS = 65_536
#: Tables some other table names as its director.
_DIRECTING = frozenset(p.director for p in DP01_PARTITIONING.values() if p.director)


class TableStaged(BaseModel):
    """What was staged of one table."""

    model_config = ConfigDict(extra="forbid")

    table: str = Field(title="Table", description="dp01 table.")
    rows: int = Field(title="Rows", description="Rows written (the source's row count).")
    files: int = Field(title="Files", description="Chunk files written (every listed chunk).")
    non_empty: int = Field(title="Non-empty", description="Chunk files with at least one row.")
    bytes: int = Field(title="Bytes", description="Bytes of CSV written.")
    seconds: float = Field(title="Seconds", description="Partitioning time.")


class StageReport(BaseModel):
    """``stage.json``: where the catalogs were staged, and what."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(title="Source", description="Where the Parquet tables were read.")
    destination: str = Field(title="Destination", description="The staging folder (the Job's input).")
    database: str = Field(title="Database", description="Catalog database.")
    chunks: int = Field(title="Chunks", description="Chunks the ingest configuration lists.")
    tables: list[TableStaged] = Field(title="Tables", description="In load order.")
    seconds: float = Field(title="Seconds", description="Wall time of the whole staging (0 in stage.json).")
    publish_seconds: float = Field(
        default=0.0, title="Publish seconds", description="Time spent copying or uploading (0 in stage.json)."
    )


@dataclass(frozen=True)
class StackStaging:
    """What a stack's ingest Job reads: its configuration, and the folder it reads it from."""

    stack: str
    config: QservIngestConfig
    destination: str
    stack_file: str


def stack_staging(stack: str) -> StackStaging:
    """The ingest configuration ``pulumi up -s <stack>`` renders into its ingest Job, and the staging
    folder (``gs://<qserv_ingest bucket>/<database>/``) the Job mounts; BadInput for a stack that has
    none (no Qserv, no ``qserv_ingest`` bucket, or a scale stack, whose own generator stages)."""
    path = resolve_stack_file(stack)
    cfg = load_stack_file(path)
    if is_scale_stack(stack):
        raise BadInput(
            f"stack {stack}: a scale-test stack's catalog is generated in the cluster by its own Indexed Job "
            "(`idf scale run`); stage dp01's catalogs instead."
        )
    if cfg.qserv is None or "qserv_ingest" not in cfg.buckets:
        raise BadInput(
            f"{path}: stack {stack} has no idf:qserv or no `qserv_ingest` bucket in idf:buckets, so no "
            "ingest Job reads a staging folder; stage for a stack that serves Qserv (dp01)."
        )
    q = cfg.qserv
    bucket = cfg.buckets["qserv_ingest"].name
    return StackStaging(
        stack=stack,
        config=dp01_cloud_config(bucket, q.database, q.namespace, q.database),
        destination=f"gs://{bucket}/{q.database}/",
        stack_file=str(path),
    )


class _ChunkWriters:
    """One CSV writer per chunk of one table, opened on first use, every listed chunk closed as a file."""

    def __init__(self, directory: Path, listed: list[int]) -> None:
        self.directory = directory
        self.listed = listed
        self.writers: dict[int, pa_csv.CSVWriter] = {}
        directory.mkdir(parents=True, exist_ok=True)

    def write(self, chunk: int, batch: pa.RecordBatch) -> None:
        writer = self.writers.get(chunk)
        if writer is None:
            writer = pa_csv.CSVWriter(
                str(self.directory / f"chunk_{chunk}.csv"), batch.schema, write_options=CHUNK_CSV_OPTIONS
            )
            self.writers[chunk] = writer
        writer.write_batch(batch)

    def close(self) -> list[Path]:
        for writer in self.writers.values():
            writer.close()
        paths = []
        for chunk in self.listed:
            path = self.directory / f"chunk_{chunk}.csv"
            if chunk not in self.writers:
                path.write_text("")
            paths.append(path)
        return paths


class _Directors:
    """The chunk of every director key seen so far (object's ``objectId``), for the child check."""

    def __init__(self) -> None:
        self.parts: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = []
        self._sorted: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None

    def add(self, keys: npt.NDArray[np.int64], chunks: npt.NDArray[np.int64]) -> None:
        self.parts.append((keys, chunks))
        self._sorted = None

    def chunks_of(self, keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The director chunk of each key; -1 where no director has the key."""
        if self._sorted is None:
            all_keys = np.concatenate([k for k, _ in self.parts]) if self.parts else np.zeros(0, np.int64)
            all_chunks = np.concatenate([c for _, c in self.parts]) if self.parts else np.zeros(0, np.int64)
            order = np.argsort(all_keys, kind="stable")
            self._sorted = (all_keys[order], all_chunks[order])
        sorted_keys, sorted_chunks = self._sorted
        if not len(sorted_keys):
            return np.full(len(keys), -1, dtype=np.int64)
        pos = np.clip(np.searchsorted(sorted_keys, keys), 0, len(sorted_keys) - 1)
        return np.where(sorted_keys[pos] == keys, sorted_chunks[pos], -1)


def _values(batch: pa.RecordBatch, column: str) -> npt.NDArray[Any]:
    return np.asarray(batch.column(batch.schema.names.index(column)).to_numpy(zero_copy_only=False))


def _numbers(batch: pa.RecordBatch, column: str) -> npt.NDArray[np.float64]:
    return _values(batch, column).astype(np.float64)


def _keys(batch: pa.RecordBatch, column: str) -> npt.NDArray[np.int64]:
    return _values(batch, column).astype(np.int64)


def _partition_table(  # noqa: PLR0917 - one call site; each argument a distinct fact
    name: str,
    parquet: Path,
    listed: list[int],
    directors: dict[str, _Directors],
    out_dir: Path,
    source_label: str,
) -> tuple[list[Path], int, int]:
    """Write ``name``'s chunk files into ``out_dir``; return (paths, rows, non-empty files)."""
    part = DP01_PARTITIONING[name]
    allowed = np.asarray(listed, dtype=np.int64)
    writers = _ChunkWriters(out_dir, listed)
    rows = 0
    try:
        for batch in pq.ParquetFile(parquet).iter_batches(batch_size=_BATCH_ROWS):
            ready = mariadb_batch(batch, (part.ra, part.dec))
            chunks: npt.NDArray[np.int64] = np.asarray(
                chunk_ids(_numbers(batch, part.ra), _numbers(batch, part.dec))[0], dtype=np.int64
            )
            outside = ~np.isin(chunks, allowed)
            if outside.any():
                i = int(np.flatnonzero(outside)[0])
                raise BadInput(
                    f"{source_label}/{name}.parquet: {int(outside.sum())} rows lie outside the "
                    f"{len(listed)} chunks the ingest configuration lists (the DC2 box "
                    f"DP01_SKY_BOX_DEG={DP01_SKY_BOX_DEG}), e.g. row {rows + i} in chunk {int(chunks[i])}; "
                    "widen the box in idf_core/qserv_ingest.py (the program and this command read it)."
                )
            if part.director is None:
                if name in _DIRECTING:  # truth_match's string ids direct nothing: not read
                    directors.setdefault(name, _Directors()).add(_keys(batch, part.key), chunks)
            else:
                keys = _keys(batch, part.key)
                theirs = directors[part.director].chunks_of(keys)
                wrong = theirs != chunks
                if wrong.any():
                    i = int(np.flatnonzero(wrong)[0])
                    why = (
                        f"no {part.director} has {part.key} {int(keys[i])}"
                        if theirs[i] < 0
                        else f"{part.key} {int(keys[i])} is in chunk {int(chunks[i])}, its {part.director} "
                        f"in chunk {int(theirs[i])}"
                    )
                    raise BadInput(
                        f"{source_label}/{name}.parquet: {int(wrong.sum())} rows are not in their "
                        f"{part.director}'s chunk ({why}); Qserv keeps a child row with its director: "
                        f"fix the source catalog."
                    )
            order = np.argsort(chunks, kind="stable")
            ready = ready.take(pa.array(order))
            sorted_chunks = chunks[order]
            bounds = np.flatnonzero(np.diff(sorted_chunks)) + 1
            for start, stop in zip(
                np.concatenate(([0], bounds)), np.concatenate((bounds, [len(order)])), strict=True
            ):
                if stop > start:
                    writers.write(int(sorted_chunks[start]), ready.slice(int(start), int(stop - start)))
            rows += batch.num_rows
    finally:
        paths = writers.close()
    return paths, rows, len(writers.writers)


def _publish(folder: Path, destination: str, client: StorageClient | None) -> None:
    """Copy the staged ``folder`` to ``destination`` with ``metadata.json`` last (a previous staging's
    is removed first, so that no moment shows it beside half-rewritten files)."""
    if client is not None:
        stale = destination.rstrip("/") + "/" + METADATA_FILE
        client.delete(stale)
        client.upload_dir(folder, destination, last=METADATA_FILE)
        return
    target = Path(destination)
    (target / METADATA_FILE).unlink(missing_ok=True)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != METADATA_FILE)
    for path in [*files, folder / METADATA_FILE]:
        out = target / path.relative_to(folder)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        shutil.copyfile(path, tmp)
        tmp.replace(out)


def stage_catalogs(
    source: Path,
    config: QservIngestConfig,
    destination: str,
    *,
    on_table: Callable[[TableStaged], None] | None = None,
) -> StageReport:
    """Partition the ``<table>.parquet`` files of the directory ``source`` into the chunk files
    ``config`` lists and stage them with ``config``'s files under ``destination`` (a directory or a
    ``gs://`` URI, written through :class:`idf_clients.gcp.StorageClient`)."""
    started = time.monotonic()
    if "://" in destination and not destination.startswith("gs://"):
        raise BadInput(f"--to {destination}: give a directory or a gs:// URI.")
    # Credentials first: a machine without them learns it before minutes of partitioning.
    client = StorageClient() if destination.startswith("gs://") else None
    order = config.table_order()
    for name in order:
        if name not in DP01_PARTITIONING:
            raise BadInput(f"ingest configuration: table {name!r} has no partitioning in DP01_PARTITIONING.")
        if not (source / f"{name}.parquet").is_file():
            raise BadInput(
                f"{source / f'{name}.parquet'}: not found; --from must hold every dp01 table as "
                "<table>.parquet (the dataload role's directory)."
            )
    staged: list[TableStaged] = []
    directors: dict[str, _Directors] = {}
    with tempfile.TemporaryDirectory(prefix="idf-stage-") as tmp:
        folder = Path(tmp)
        # Every table is partitioned before anything is published: a bad row in the last table must
        # not leave a half-staged folder that looks like a catalog.
        for name in order:
            table_started = time.monotonic()
            listed = sorted({c for loc in config.data_of(name) for c in loc.chunks})
            directory = config.data_of(name)[0].directory
            paths, rows, non_empty = _partition_table(
                name, source / f"{name}.parquet", listed, directors, folder / directory, str(source)
            )
            entry = TableStaged(
                table=name,
                rows=rows,
                files=len(paths),
                non_empty=non_empty,
                bytes=sum(p.stat().st_size for p in paths),
                seconds=round(time.monotonic() - table_started, 3),
            )
            staged.append(entry)
            if on_table is not None:
                on_table(entry)
        report = StageReport(
            source=str(source),
            destination=destination,
            database=config.database.database,
            chunks=len(config.chunk_ids()),
            tables=staged,
            seconds=0.0,
        )
        for file_name, text in config.files().items():
            (folder / file_name).write_text(text)
        publish_started = time.monotonic()
        (folder / STAGE_REPORT_FILE).write_text(report.model_dump_json(indent=2))
        _publish(folder, destination, client)
        report.publish_seconds = round(time.monotonic() - publish_started, 3)
    report.seconds = round(time.monotonic() - started, 3)
    return report
