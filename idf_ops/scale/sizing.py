"""The Qserv sizing model: a percent of DR1 -> workers, disks, chunks, ingest time.

This module owns the numbers and the arithmetic of docs/sizing.md (read it first; every constant
here has its source there and in the comment beside it):

1. DR1 catalog volumes per table come from Rubin's measured 20%-of-DR1 Qserv dataset (DMTR-16):
   rows and MySQL bytes per table, scaled by 1 / 0.20.
2. Stored bytes = percent x DR1 bytes x replication factor.
3. Chunks: lsst.sphgeom ``Chunker(85, 12)`` (Qserv's default partitioning) over the survey
   footprint box (Dec -90..+2 deg, all RA: the LSST wide-fast-deep sky), chunks per worker.
4. Workers = the largest of three needs: storage (local NVMe SSD x fill factor), shared-scan
   throughput (LDM-552 scan-time targets / per-vCPU scan rate) and a floor; memory is checked
   per worker (a machine type too small for its scan threads is refused).
5. Czar: machine and disk from the IDF production Qserv (n2-standard-32, 4 TiB), disk raised if
   the director secondary index needs more.
6. The scale catalog (the dp01 tables replicated at DR1's Object count, idf_ops/scale/generate.py):
   generation and ingest time from rates MEASURED by ``idf scale bench`` (per core).

Cost is not computed here: :mod:`idf_ops.scale.plan` prices the sized stack with the cost model.
"""

from __future__ import annotations

import math
from typing import Literal

from lsst import sphgeom
from pydantic import BaseModel, ConfigDict, Field

from idf_core.errors import BadInput
from idf_core.qserv_ingest import (
    FOOTPRINT_DEC_MAX_DEG,
    FOOTPRINT_DEC_MIN_DEG,
    generator_parallelism,
    scale_chunks,
)
from idf_ops.cost.prices import PriceTable

__all__ = [
    "CHUNKER_NUM_STRIPES",
    "CHUNKER_NUM_SUBSTRIPES_PER_STRIPE",
    "DMTR16_FRACTION_OF_DR1",
    "DR1_BYTES_PER_TABLE",
    "DR1_ROWS_PER_TABLE",
    "FOOTPRINT_DEC_MAX_DEG",
    "FOOTPRINT_DEC_MIN_DEG",
    "SizingInputs",
    "SizingResult",
    "TableVolume",
    "footprint_chunk_count",
    "size_qserv",
]

TableName = Literal["Object", "Source", "ForcedSource"]
TABLES: tuple[TableName, ...] = ("Object", "Source", "ForcedSource")

TB = 1e12  # decimal terabytes, as DMTR-16 reports sizes
GB = 1e9

# --- DR1 volumes (DMTR-16 "Qserv Fall16 large scale tests", 2017-05-09, section 1) -----------
# Rows and MySQL data (.MYD) + index (.MYI) sizes of the dataset loaded on 25 CC-IN2P3 nodes.
# "Object and Source are now at ~20% of DR1 level and ForcedSource has more than 20% of DR1":
# scaling ForcedSource by 1/0.20 over-estimates it, which errs on the side of more disk.
DMTR16_FRACTION_OF_DR1 = 0.20
DMTR16_ROWS: dict[TableName, int] = {
    "Object": 3_777_968_880,
    "Source": 69_744_689_072,
    "ForcedSource": 344_034_271_380,
}
DMTR16_BYTES: dict[TableName, float] = {
    "Object": (4.6 + 0.1) * TB,
    "Source": (33.6 + 3.6) * TB,
    "ForcedSource": (11.0 + 8.7) * TB,
}
DMTR16_DATADIR_BYTES = 62.4 * TB  # "Total MySQL data dir size"; the rest is other tables + overlap
DMTR16_NODES = 25  # one of the two 25-node halves held the whole 20% dataset
DR1_PLANNED_NODES = 92  # DMTR-16: "DR1 is expected to be on 92 nodes"

DR1_ROWS_PER_TABLE: dict[TableName, float] = {t: DMTR16_ROWS[t] / DMTR16_FRACTION_OF_DR1 for t in TABLES}
DR1_BYTES_PER_TABLE: dict[TableName, float] = {t: DMTR16_BYTES[t] / DMTR16_FRACTION_OF_DR1 for t in TABLES}
DR1_OTHER_BYTES = (DMTR16_DATADIR_BYTES - sum(DMTR16_BYTES.values())) / DMTR16_FRACTION_OF_DR1

# --- LDM-552 (Qserv performance targets, qserv-prf-10), glide path --------------------------
# Full-scan time targets; at 75% of DR1 (2019 step) with 90 LV + 40 HV concurrent queries.
SCAN_TARGET_SECONDS: dict[TableName, float] = {
    "Object": 1 * 3600.0,
    "Source": 12 * 3600.0,
    "ForcedSource": 12 * 3600.0,
}
LDM552_CONCURRENT_LV_QUERIES_75PCT = 90
LDM552_CONCURRENT_HV_QUERIES_75PCT = 40
LDM552_LV_LATENCY_TARGET_S = 10.0

# --- Qserv chunking (lsst.sphgeom; Qserv default partitioning) -------------------------------
CHUNKER_NUM_STRIPES = 85
CHUNKER_NUM_SUBSTRIPES_PER_STRIPE = 12
# Survey footprint box (FOOTPRINT_DEC_MIN_DEG/MAX_DEG, idf_core.qserv_ingest: the generator's Indexed
# Job uses the same box); chunks are counted with Chunker.getChunksIntersecting.

# --- Hardware assumptions (docs/sizing.md, "Assumptions") ------------------------------------
LOCAL_SSD_FILL_FACTOR = 0.70  # ASSUMPTION: 30% of local SSD kept free for result/temp tables, ingest staging
SCAN_MB_PER_S_PER_VCPU = 100.0  # ASSUMPTION: MariaDB MyISAM full-scan rate per vCPU on NVMe (re-measure)
WORKER_BASE_MEMORY_GB = 8.0  # ASSUMPTION: MariaDB buffers + xrootd/worker process
WORKER_MEMORY_PER_SCAN_THREAD_GB = 2.0  # ASSUMPTION: working set per concurrent chunk query
MIN_WORKERS = 2  # Qserv needs at least two workers to exercise the distributed path
# Czar: IDF production Qserv (qserv-operator gke-qserv-prod; lsst/idf_deploy): n2-standard-32, 4 TiB.
CZAR_MACHINE_TYPE = "n2-standard-32"
CZAR_BASE_DISK_GB = 4096
SECONDARY_INDEX_BYTES_PER_OBJECT = (
    32  # ASSUMPTION: objectId (8) + chunkId (4) + subChunkId (2) + InnoDB overhead
)
CZAR_INDEX_HEADROOM = 3.0  # index, its rebuild copy and result tables
UTILITY_MACHINE_TYPE = "n2-standard-4"  # idf_deploy utility pool (replication controller, ingest, monitoring)
# --- The scale catalog: generation and ingest, from MEASURED rates (docs/sizing.md, "Measured rates")
# The test's catalog is the dp01 tables replicated over the footprint (idf_ops/scale/generate.py):
# per-object tables at DR1's Object count, truth_match at the seed's 1.1 truth entries per object.
SCALE_CATALOG_ROWS_PER_OBJECT: dict[str, float] = {
    "object": 1.0,
    "truth_match": 1.1,
    "forced_photometry": 1.0,
    "position": 1.0,
    "reference": 1.0,
}
# `idf scale bench --chunks 3 --objects-per-chunk 5000` on this project's 2-core machine
# (2026-12-02, seed: the local stack's 100k-object dp01 catalogs). Generation: objects (with their
# rows in all five tables) per CPU-second of one single-threaded generator.
GENERATION_OBJECTS_PER_S_PER_CORE = 5_283.0
# CSV written per object (its rows in all five tables), the same run: 63.8 MB/s per core at 5,283
# objects/s -> ~12.1 kB. What the scratch staging bucket holds (`idf scale plan` prices it).
GENERATED_CSV_BYTES_PER_OBJECT = 63.8e6 / GENERATION_OBJECTS_PER_S_PER_CORE
# Load into the MariaDB stand-in (LOAD DATA LOCAL, InnoDB), rows per CPU-second of client + server:
# one loader stream is one core of work. (Wall rate here was ~4x lower: this VM's disk, not CPU, bound
# it; NVMe RAID-0 on the workers should approach the CPU bound: re-measure in the first hour.)
LOAD_ROWS_PER_S_PER_CORE: dict[str, float] = {
    "object": 24_068.0,
    "truth_match": 89_392.0,
    "forced_photometry": 7_140.0,
    "position": 204_590.0,
    "reference": 18_091.0,
}
VCPUS_PER_INGEST_LOADER = 4  # ASSUMPTION: one loader per 4 vCPUs leaves CPU for MariaDB itself
# The qserv-kpm-75pct profile runs 2 h (loadtests/profiles/qserv-kpm-75pct.yaml); 8 h leaves room for
# three runs plus the readiness gates.
DEFAULT_TEST_HOURS = 8.0


class TableVolume(BaseModel):
    """One table at the requested percent of DR1 (one copy)."""

    model_config = ConfigDict(extra="forbid")

    table: TableName = Field(title="Table", description="Catalog table.")
    rows: float = Field(title="Rows", description="Rows at this percent of DR1.")
    bytes_one_copy: float = Field(title="Bytes (one copy)", description="Data + index bytes, one replica.")
    scan_target_hours: float = Field(title="Scan target (h)", description="LDM-552 full-scan time target.")
    scan_rate_needed_mb_per_s: float = Field(
        title="Scan rate needed (MB/s)", description="bytes_one_copy / scan target, aggregate over workers."
    )


class SizingInputs(BaseModel):
    """What the operator chooses."""

    model_config = ConfigDict(extra="forbid")

    percent_of_dr1: float = Field(gt=0, le=100, title="Percent of DR1", description="Catalog size to test.")
    worker_machine_type: str = Field(
        default="n2-standard-16", title="Worker machine", description="GCE type."
    )
    local_ssd_count: int = Field(
        default=24,
        ge=1,
        le=24,
        title="Local SSDs per worker",
        description="375 GB NVMe partitions per worker.",
    )
    replication_factor: int = Field(
        default=1,
        ge=1,
        le=3,
        title="Replication factor",
        description="Copies of each chunk. 1 for a scale test: local SSD is ephemeral anyway and the "
        "input stays in GCS (DMTR-16 also held one copy per 25-node cluster).",
    )
    test_hours: float = Field(
        default=DEFAULT_TEST_HOURS,
        gt=0,
        title="Test hours",
        description="Time the cluster stays up after ingest for load tests and gate evidence.",
    )


class SizingResult(BaseModel):
    """The sized Qserv cluster and how each number was reached."""

    model_config = ConfigDict(extra="forbid")

    inputs: SizingInputs = Field(title="Inputs", description="What was asked.")
    tables: list[TableVolume] = Field(title="Tables", description="Per-table volumes.")
    other_bytes_one_copy: float = Field(
        title="Other bytes", description="Other tables and overlap (DMTR-16)."
    )
    total_rows: float = Field(title="Total rows", description="Rows of the three tables.")
    stored_bytes: float = Field(title="Stored bytes", description="All copies.")
    chunks_in_footprint: int = Field(
        title="Chunks", description="Chunker(85,12) chunks in the footprint box."
    )
    worker_local_ssd_gb: int = Field(title="Local SSD per worker (GB)", description="Partitions x 375 GB.")
    worker_usable_gb: float = Field(title="Usable per worker (GB)", description="Local SSD x fill factor.")
    workers_for_storage: int = Field(
        title="Workers for storage", description="ceil(stored / usable per worker)."
    )
    workers_for_scans: int = Field(
        title="Workers for scans", description="ceil(scan rate / per-worker rate)."
    )
    workers: int = Field(title="Workers", description="max(storage, scans, floor).")
    binding_constraint: Literal["storage", "scans", "minimum"] = Field(
        title="Binding constraint", description="Which need set the worker count."
    )
    chunks_per_worker: float = Field(title="Chunks per worker", description="chunks x replicas / workers.")
    data_per_worker_gb: float = Field(title="Data per worker (GB)", description="stored / workers.")
    worker_memory_needed_gb: float = Field(
        title="Worker memory needed (GB)", description="base + per scan thread."
    )
    worker_memory_gb: float = Field(title="Worker memory (GB)", description="Of the machine type.")
    czar_machine_type: str = Field(title="Czar machine", description="GCE type of the czar.")
    czar_disk_gb: int = Field(title="Czar disk (GB)", description="Czar pd-ssd volume.")
    utility_machine_type: str = Field(title="Utility machine", description="Replication/ingest services.")
    scale_catalog_rows: dict[str, int] = Field(
        title="Scale catalog rows",
        description="dp01 table -> rows of the generated catalog (DR1 Object count x rows per object).",
    )
    generation_cores: int = Field(title="Generator cores", description="Single-core generator pods at once.")
    generation_chunks: int = Field(
        title="Generator completions",
        description="Chunks of the generated catalog (idf_core.qserv_ingest.scale_chunks): one completion "
        "of the generator's Indexed Job each.",
    )
    generation_hours: float = Field(
        title="Generation hours", description="objects / (measured objects/s/core x generator cores)."
    )
    ingest_loaders: int = Field(title="Ingest loaders", description="Parallel loaders over all workers.")
    ingest_rows_per_s: float = Field(
        title="Ingest rate (rows/s)", description="Aggregate effective rate: all rows / ingest time."
    )
    ingest_hours_per_table: dict[str, float] = Field(
        title="Ingest hours per table",
        description="rows x replicas / (measured rows/s/core x loaders), per dp01 table.",
    )
    ingest_hours: float = Field(
        title="Ingest hours", description="Sum over tables (loaded one after another)."
    )
    recommended_expires_in_hours: int = Field(
        title="Recommended expiry (h)",
        description="ceil(generation + ingest + test + 25% margin): the minimum --expires-in.",
    )
    dr1_planned_nodes: int = Field(
        title="DR1 planned nodes", description="DMTR-16's 92-node DR1 plan, for comparison."
    )


def footprint_chunk_count(
    dec_min_deg: float = FOOTPRINT_DEC_MIN_DEG, dec_max_deg: float = FOOTPRINT_DEC_MAX_DEG
) -> int:
    """Chunks of Qserv's Chunker(85, 12) that intersect the footprint box (all RA)."""
    chunker = sphgeom.Chunker(CHUNKER_NUM_STRIPES, CHUNKER_NUM_SUBSTRIPES_PER_STRIPE)
    box = sphgeom.Box.fromDegrees(0.0, dec_min_deg, 360.0, dec_max_deg)
    return len(chunker.getChunksIntersecting(box))


def size_qserv(inputs: SizingInputs, prices: PriceTable) -> SizingResult:
    """Size a Qserv cluster for `inputs` (machine shapes come from the price table)."""
    shape = prices.machine(inputs.worker_machine_type, where="--machine-type")
    if inputs.local_ssd_count > shape.max_local_ssd_count:
        raise BadInput(
            f"--local-ssd: {inputs.worker_machine_type} accepts at most {shape.max_local_ssd_count} "
            f"local SSD partitions, {inputs.local_ssd_count} asked; "
            "choose an n1/n2 machine type or fewer SSDs."
        )
    fraction = inputs.percent_of_dr1 / 100.0
    tables = [
        TableVolume(
            table=t,
            rows=DR1_ROWS_PER_TABLE[t] * fraction,
            bytes_one_copy=DR1_BYTES_PER_TABLE[t] * fraction,
            scan_target_hours=SCAN_TARGET_SECONDS[t] / 3600.0,
            scan_rate_needed_mb_per_s=DR1_BYTES_PER_TABLE[t] * fraction / 1e6 / SCAN_TARGET_SECONDS[t],
        )
        for t in TABLES
    ]
    other = DR1_OTHER_BYTES * fraction
    one_copy = sum(t.bytes_one_copy for t in tables) + other
    stored = one_copy * inputs.replication_factor

    ssd_gb = inputs.local_ssd_count * prices.local_ssd_partition_gb
    usable_gb = ssd_gb * LOCAL_SSD_FILL_FACTOR
    workers_storage = math.ceil(stored / GB / usable_gb)
    # Shared scans of the three tables run concurrently; their rates add up.
    scan_needed = sum(t.scan_rate_needed_mb_per_s for t in tables)
    workers_scans = math.ceil(scan_needed / (shape.vcpus * SCAN_MB_PER_S_PER_VCPU))
    workers = max(workers_storage, workers_scans, MIN_WORKERS)
    binding: Literal["storage", "scans", "minimum"]
    if workers == workers_storage:
        binding = "storage"
    elif workers == workers_scans:
        binding = "scans"
    else:
        binding = "minimum"

    chunks = footprint_chunk_count()
    if workers > chunks * inputs.replication_factor:
        raise BadInput(
            f"--percent {inputs.percent_of_dr1:g}: {workers} workers exceed the "
            f"{chunks * inputs.replication_factor} chunk replicas; a worker without a chunk is idle. "
            "Use a smaller machine type or fewer local SSDs."
        )

    memory_needed = WORKER_BASE_MEMORY_GB + shape.vcpus * WORKER_MEMORY_PER_SCAN_THREAD_GB
    if memory_needed > shape.memory_gb:
        raise BadInput(
            f"--machine-type: {inputs.worker_machine_type} has {shape.memory_gb:g} GB but a Qserv worker "
            f"with {shape.vcpus} scan threads needs {memory_needed:g} GB "
            f"({WORKER_BASE_MEMORY_GB:g} + {shape.vcpus} x {WORKER_MEMORY_PER_SCAN_THREAD_GB:g}); "
            "choose a standard or highmem type."
        )

    object_rows = DR1_ROWS_PER_TABLE["Object"] * fraction
    index_gb = object_rows * SECONDARY_INDEX_BYTES_PER_OBJECT / GB
    czar_disk_gb = max(CZAR_BASE_DISK_GB, math.ceil(index_gb * CZAR_INDEX_HEADROOM))

    total_rows = sum(t.rows for t in tables)
    objects = round(DR1_ROWS_PER_TABLE["Object"] * fraction)
    catalog_rows = {t: round(objects * k) for t, k in SCALE_CATALOG_ROWS_PER_OBJECT.items()}
    generation_cores = generator_parallelism(workers, shape.vcpus)
    generation_chunks = len(scale_chunks(inputs.percent_of_dr1))
    generation_hours = objects / (GENERATION_OBJECTS_PER_S_PER_CORE * generation_cores) / 3600.0
    loaders = workers * max(1, shape.vcpus // VCPUS_PER_INGEST_LOADER)
    copies = inputs.replication_factor
    per_table: dict[str, float] = {
        t: copies * rows / (LOAD_ROWS_PER_S_PER_CORE[t] * loaders) / 3600.0
        for t, rows in catalog_rows.items()
    }
    ingest_hours = sum(per_table.values())
    ingest_rate = copies * sum(catalog_rows.values()) / (ingest_hours * 3600.0)
    recommended = math.ceil((generation_hours + ingest_hours + inputs.test_hours) * 1.25)

    return SizingResult(
        inputs=inputs,
        tables=tables,
        other_bytes_one_copy=other,
        total_rows=total_rows,
        stored_bytes=stored,
        chunks_in_footprint=chunks,
        worker_local_ssd_gb=ssd_gb,
        worker_usable_gb=usable_gb,
        workers_for_storage=workers_storage,
        workers_for_scans=workers_scans,
        workers=workers,
        binding_constraint=binding,
        chunks_per_worker=chunks * inputs.replication_factor / workers,
        data_per_worker_gb=stored / GB / workers,
        worker_memory_needed_gb=memory_needed,
        worker_memory_gb=shape.memory_gb,
        czar_machine_type=CZAR_MACHINE_TYPE,
        czar_disk_gb=czar_disk_gb,
        utility_machine_type=UTILITY_MACHINE_TYPE,
        scale_catalog_rows=catalog_rows,
        generation_cores=generation_cores,
        generation_chunks=generation_chunks,
        generation_hours=generation_hours,
        ingest_loaders=loaders,
        ingest_rows_per_s=ingest_rate,
        ingest_hours_per_table=per_table,
        ingest_hours=ingest_hours,
        recommended_expires_in_hours=recommended,
        dr1_planned_nodes=DR1_PLANNED_NODES,
    )
