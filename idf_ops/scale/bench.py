"""Measured rates of the scale catalog's path: generation rows/s per core, load rows/s per core.

``idf scale bench`` generates a few chunks from the local seed (the dataload role's dp01 Parquet
files) in one process, then loads them with :func:`idf_ops.qserv_local.load.load_chunk` into a
scratch database of the MariaDB stand-in, one loader stream. Per core means per CPU-second spent:

- generation: rows written / CPU seconds of this process (one single-threaded generator = one core);
- load: rows loaded / (CPU seconds of this process + CPU seconds of the MariaDB server during the
  load), the server's from ``/proc/<pid>/stat`` of the pid in its pid file.

Both are measured per table (the tables' widths differ from 29 to 747 columns), in rows/s and CSV
MB/s, and printed; docs/sizing.md records a run and idf_ops/scale/sizing.py uses those figures.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from idf_core.errors import BadInput, OperationFailed
from idf_core.facts import TAP_SCHEMA
from idf_core.qserv_ingest import read_config
from idf_ops.qserv_local.db import connect
from idf_ops.qserv_local.load import instance, load_chunk
from idf_ops.scale.generate import Seed, chunk_file, generate_chunks, scale_chunks

__all__ = ["BenchResult", "TableRate", "run_bench"]

_SCRATCH = "idf_bench_scale"


class TableRate(BaseModel):
    """Rates of one table."""

    model_config = ConfigDict(extra="forbid")

    rows: int = Field(title="Rows", description="Rows generated and loaded.")
    csv_mb: float = Field(title="CSV MB", description="Size of its CSV chunk files (decimal MB).")
    load_rows_per_core_s: float = Field(
        title="Load rows/s/core", description="Rows per CPU-second of the load."
    )
    load_mb_per_core_s: float = Field(
        title="Load MB/s/core", description="CSV MB per CPU-second of the load."
    )
    load_rows_per_s: float = Field(title="Load rows/s", description="Rows per wall second (one stream).")


class BenchResult(BaseModel):
    """One benchmark run."""

    model_config = ConfigDict(extra="forbid")

    seed_objects: int = Field(title="Seed objects", description="Objects of the seed patch.")
    chunks: int = Field(title="Chunks", description="Chunks generated and loaded.")
    objects_per_chunk: int = Field(title="Objects per chunk", description="Objects in each chunk.")
    generation_rows_per_core_s: float = Field(
        title="Generation rows/s/core", description="Rows of all five tables per CPU-second."
    )
    generation_objects_per_core_s: float = Field(
        title="Generation objects/s/core",
        description="Objects (with their rows in every table) per CPU-second.",
    )
    generation_mb_per_core_s: float = Field(
        title="Generation MB/s/core", description="CSV MB per CPU-second."
    )
    tables: dict[str, TableRate] = Field(title="Tables", description="Per-table load rates.")
    load_rows_per_core_s: float = Field(title="Load rows/s/core", description="All tables.")
    load_mb_per_core_s: float = Field(title="Load MB/s/core", description="All tables.")
    cpu_count: int = Field(title="CPUs", description="os.cpu_count() of the machine.")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_pid(socket: str) -> int:
    with connect(socket) as admin, admin.cursor() as cursor:
        cursor.execute("SELECT @@pid_file")
        pid_file = Path(str(cursor.fetchone()[0]))
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError) as exc:
        raise OperationFailed(
            f"bench: cannot read MariaDB's pid file {pid_file} ({exc}); is it running?"
        ) from exc


def run_bench(seed_dir: Path, *, chunks: int, objects_per_chunk: int, target: str = "idf") -> BenchResult:
    """Generate ``chunks`` chunks of ``objects_per_chunk`` objects and load them; return the rates."""
    from idf_ops.scale.service import write_generated_config  # noqa: PLC0415 - service imports this module's peers

    if not 1 <= chunks <= 50:
        raise BadInput(f"--chunks {chunks}: between 1 and 50 (a local benchmark stays bounded).")
    where = instance(target)
    seed = Seed.from_directory(seed_dir)
    layout = scale_chunks(75)
    ids = layout[len(layout) // 2 : len(layout) // 2 + chunks]
    with tempfile.TemporaryDirectory(prefix="idf-bench-") as tmp:
        out = Path(tmp)
        cpu0 = time.process_time()
        generate_chunks(seed, ids, objects_per_chunk, str(out))
        gen_cpu = max(time.process_time() - cpu0, 1e-9)
        write_generated_config(out, target=target, database=_SCRATCH)
        config = read_config(out)
        pid = _server_pid(where.admin_socket)
        rates: dict[str, TableRate] = {}
        total_rows = total_mb = total_cpu = 0.0
        with connect(where.admin_socket, local_infile=True) as connection:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS `{_SCRATCH}`")
                cursor.execute(f"CREATE DATABASE `{_SCRATCH}`")
                for table in config.table_order():
                    cursor.execute(f"CREATE TABLE `{_SCRATCH}`.`{table}` LIKE `{TAP_SCHEMA}`.`{table}`")
            try:
                for table in config.table_order():
                    columns = [c.name for c in config.tables[table].columns]
                    files = [out / chunk_file(table, c) for c in ids]
                    mb = sum(f.stat().st_size for f in files) / 1e6
                    client0, server0, wall0 = time.process_time(), _cpu_s(pid), time.monotonic()
                    rows = sum(
                        load_chunk(connection, _SCRATCH, table, f, columns=columns, chunk=c)
                        for f, c in zip(files, ids, strict=True)
                    )
                    cpu = max(time.process_time() - client0 + _cpu_s(pid) - server0, 1e-9)
                    wall = max(time.monotonic() - wall0, 1e-9)
                    rates[table] = TableRate(
                        rows=rows,
                        csv_mb=round(mb, 2),
                        load_rows_per_core_s=round(rows / cpu),
                        load_mb_per_core_s=round(mb / cpu, 2),
                        load_rows_per_s=round(rows / wall),
                    )
                    total_rows += rows
                    total_mb += mb
                    total_cpu += cpu
            finally:
                with connection.cursor() as cursor:
                    cursor.execute(f"DROP DATABASE IF EXISTS `{_SCRATCH}`")
    objects = chunks * objects_per_chunk
    return BenchResult(
        seed_objects=seed.rows["object"],
        chunks=chunks,
        objects_per_chunk=objects_per_chunk,
        generation_rows_per_core_s=round(total_rows / gen_cpu),
        generation_objects_per_core_s=round(objects / gen_cpu),
        generation_mb_per_core_s=round(total_mb / gen_cpu, 2),
        tables=rates,
        load_rows_per_core_s=round(total_rows / total_cpu),
        load_mb_per_core_s=round(total_mb / total_cpu, 2),
        cpu_count=os.cpu_count() or 1,
    )
