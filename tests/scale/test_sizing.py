"""The sizing model against hand-computed cases (the arithmetic is written out in each test)."""

from __future__ import annotations

import math

import pytest

from idf_core.errors import BadInput
from idf_ops.cost.prices import load_price_table
from idf_ops.scale.sizing import SizingInputs, footprint_chunk_count, size_qserv

PRICES = load_price_table()
TB = 1e12


def test_75_percent_of_dr1_by_hand() -> None:
    r = size_qserv(SizingInputs(percent_of_dr1=75), PRICES)
    # DR1 bytes = DMTR-16 (MYD + MYI) / 0.20:
    #   Object (4.6 + 0.1) / 0.2 = 23.5 TB; Source (33.6 + 3.6) / 0.2 = 186 TB;
    #   ForcedSource (11.0 + 8.7) / 0.2 = 98.5 TB; other (62.4 - 61.6) / 0.2 = 4 TB -> 312 TB.
    # 75%: 17.625 + 139.5 + 73.875 + 3.0 = 234.0 TB, one copy.
    assert {t.table: round(t.bytes_one_copy / TB, 3) for t in r.tables} == {
        "Object": 17.625,
        "Source": 139.5,
        "ForcedSource": 73.875,
    }
    assert r.stored_bytes / TB == pytest.approx(234.0)
    # Usable local SSD per n2-standard-16 worker: 24 x 375 GB x 0.70 = 6,300 GB.
    assert r.worker_usable_gb == pytest.approx(6300)
    # Storage: 234,000 GB / 6,300 GB = 37.14 -> 38 workers.
    assert r.workers_for_storage == 38
    # Scans: 17.625e6 MB / 3600 s + 139.5e6 / 43200 + 73.875e6 / 43200 = 4895.8 + 3229.2 + 1710.1
    #        = 9835.1 MB/s; a worker scans 16 vCPU x 100 MB/s = 1600 MB/s -> ceil(6.15) = 7.
    assert r.workers_for_scans == 7
    assert r.workers == 38
    assert r.binding_constraint == "storage"
    # Chunker(85, 12) over Dec -90..+2: 4745 chunks; 4745 / 38 = 124.87 per worker.
    assert r.chunks_in_footprint == 4745
    assert r.chunks_per_worker == pytest.approx(4745 / 38)
    # Memory: 8 GB + 16 x 2 GB = 40 GB <= 64 GB.
    assert r.worker_memory_needed_gb == 40
    # Czar: secondary index 0.75 x 3,777,968,880 / 0.2 objects x 32 B = 453 GB; x3 = 1360 < 4096.
    assert r.czar_disk_gb == 4096
    rows = 0.75 * (3_777_968_880 + 69_744_689_072 + 344_034_271_380) / 0.2
    assert r.total_rows == pytest.approx(rows)
    # The scale catalog: dp01 tables at 0.75 x 3,777,968,880 / 0.2 = 14,167,383,300 objects; truth_match 1.1x.
    objects = 14_167_383_300
    assert r.scale_catalog_rows["object"] == objects
    assert r.scale_catalog_rows["truth_match"] == round(objects * 1.1)
    # Generation: 38 x 16 / 2 = 304 single-core pods at the measured 5,283 objects/s/core:
    #   14,167,383,300 / (5,283 x 304) = 8,821 s = 2.45 h.
    assert r.generation_cores == 304
    assert r.generation_hours == pytest.approx(objects / (5_283 * 304) / 3600)
    # Ingest: 38 workers x (16 // 4) = 152 loaders, each at the measured rows/s per core of its table:
    #   object            1.417e10 / (152 x  24,068) = 3,873 s -> 1.08 h
    #   forced_photometry 1.417e10 / (152 x   7,140) = 13,054 s -> 3.63 h
    #   reference         1.417e10 / (152 x  18,091) = 5,152 s -> 1.43 h
    #   position          1.417e10 / (152 x 204,590) =   456 s -> 0.13 h
    #   truth_match       1.558e10 / (152 x  89,392) = 1,147 s -> 0.32 h
    #   total 6.58 h
    assert r.ingest_loaders == 152
    hours = r.ingest_hours_per_table
    assert hours["forced_photometry"] == pytest.approx(objects / (152 * 7_140) / 3600)
    assert hours["position"] == pytest.approx(objects / (152 * 204_590) / 3600)
    assert r.ingest_hours == pytest.approx(6.58, abs=0.01)
    # Recommended expiry: ceil((2.45 + 6.58 + 8 h of tests) x 1.25) = ceil(21.29) = 22 h.
    assert r.recommended_expires_in_hours == 22


def test_20_percent_is_dmtr16s_dataset() -> None:
    r = size_qserv(SizingInputs(percent_of_dr1=20), PRICES)
    # 20% of DR1 is exactly DMTR-16's 62.4 TB data directory.
    assert r.stored_bytes / TB == pytest.approx(62.4)
    # 62,400 GB / 6,300 GB = 9.9 -> 10 workers (DMTR-16 used 25 nodes with 8 x 1 TB HDD each).
    assert r.workers == 10


def test_replication_doubles_storage_workers() -> None:
    r = size_qserv(SizingInputs(percent_of_dr1=75, replication_factor=2), PRICES)
    # 2 x 234,000 GB / 6,300 GB = 74.3 -> 75 workers; 2 x 4745 / 75 = 126.5 chunk replicas each.
    assert r.workers == 75
    assert r.chunks_per_worker == pytest.approx(2 * 4745 / 75)
    # Ingest loads both copies, at 75 x 4 = 300 loaders:
    #   2 x 1.417e10 forced_photometry rows / (300 x 7,140 rows/s) = 13,229 s.
    rows = r.scale_catalog_rows["forced_photometry"]
    assert r.ingest_hours_per_table["forced_photometry"] == pytest.approx(2 * rows / (300 * 7_140) / 3600)


def test_scan_rate_binds_on_small_machines() -> None:
    r = size_qserv(SizingInputs(percent_of_dr1=75, worker_machine_type="n2-highmem-2"), PRICES)
    # n2-highmem-2 scans 2 x 100 = 200 MB/s: ceil(9835.1 / 200) = 50 workers > 38 for storage.
    assert r.workers_for_scans == math.ceil(9835.07 / 200)
    assert r.workers == 50
    assert r.binding_constraint == "scans"


def test_fewer_local_ssds_need_more_workers() -> None:
    r = size_qserv(SizingInputs(percent_of_dr1=75, local_ssd_count=8), PRICES)
    # 8 x 375 x 0.7 = 2,100 GB usable: 234,000 / 2,100 = 111.4 -> 112 workers.
    assert r.workers == 112


def test_memory_guard_refuses_small_workers() -> None:
    # n2-standard-2: 8 GB < 8 + 2 x 2 = 12 GB needed.
    with pytest.raises(BadInput, match="n2-standard-2 has 8 GB"):
        size_qserv(SizingInputs(percent_of_dr1=75, worker_machine_type="n2-standard-2"), PRICES)


def test_local_ssd_guard_refuses_e2() -> None:
    with pytest.raises(BadInput, match="at most 0 local SSD"):
        size_qserv(SizingInputs(percent_of_dr1=75, worker_machine_type="e2-standard-16"), PRICES)


def test_unknown_machine_type_is_bad_input() -> None:
    with pytest.raises(BadInput, match="unknown machine type 'n9-huge-1'"):
        size_qserv(SizingInputs(percent_of_dr1=75, worker_machine_type="n9-huge-1"), PRICES)


def test_chunker_counts() -> None:
    # FIELD-NOTES: Chunker(85, 12) has 8,983 chunks over the whole sky.
    assert footprint_chunk_count(-90.0, 90.0) == 8983
    # The footprint (south of +2 deg) holds a little over half of them.
    assert footprint_chunk_count() == 4745
    assert footprint_chunk_count(-90.0, 2.0) < footprint_chunk_count(-90.0, 30.0)
