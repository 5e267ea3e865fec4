"""The scale-test catalog generator on a few chunks: counts, ids, foreign keys, chunk assignment."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest
from lsst import sphgeom

from idf_core.errors import BadInput
from idf_core.qserv_ingest import DP01_PARTITIONING, QservUrls, build_config
from idf_ops.catalogs.schema import felis_yaml_path
from idf_ops.scale.generate import (
    Seed,
    chunk_file,
    data_locations,
    generate_chunks,
    read_markers,
    scale_chunks,
    target_rows,
)
from idf_ops.scale.sizing import DR1_ROWS_PER_TABLE

from .conftest import OBJECTS_PER_CHUNK

CHUNKER = sphgeom.Chunker(85, 12)


def _columns(table: str) -> list[str]:
    config = build_config(
        database="x",
        data=data_locations([0]),
        servers=["file://"],
        path="/x",
        qserv=QservUrls(query_url="q", queue_url="q", replication_url="q"),
        felis_path=felis_yaml_path(),
    )
    return [c.name for c in config.tables[table].columns]


def read_chunk(root: Path, table: str, chunk: int) -> pa.Table:
    names = _columns(table)
    return pa_csv.read_csv(
        root / chunk_file(table, chunk),
        read_options=pa_csv.ReadOptions(column_names=names),
        convert_options=pa_csv.ConvertOptions(
            null_values=["\\N"], column_types={"id": pa.string(), "patch": pa.string()}
        ),
    )


def test_75_percent_layout_covers_three_quarters_of_the_footprint() -> None:
    layout = scale_chunks(75)
    everything = scale_chunks(100)
    assert 0.74 < len(layout) / len(everything) < 0.77
    assert len(everything) == 4745  # docs/sizing.md: Chunker(85, 12) over Dec -90..+2
    with pytest.raises(BadInput, match="--percent"):
        scale_chunks(0)


def test_targets_follow_the_sizing_model() -> None:
    rows = target_rows(
        75, {"object": 10, "truth_match": 11, "forced_photometry": 10, "position": 10, "reference": 10}
    )
    assert rows["object"] == round(0.75 * DR1_ROWS_PER_TABLE["Object"])
    assert rows["truth_match"] == round(rows["object"] * 1.1)


def test_each_table_reaches_its_share(generated: Path, two_adjacent_chunks: list[int]) -> None:
    markers = read_markers(str(generated))
    assert sorted(markers) == sorted(two_adjacent_chunks)
    for chunk in two_adjacent_chunks:
        for table in ("object", "forced_photometry", "position", "reference"):
            assert read_chunk(generated, table, chunk).num_rows == OBJECTS_PER_CHUNK, (table, chunk)
        truth = read_chunk(generated, "truth_match", chunk).num_rows
        assert OBJECTS_PER_CHUNK * 0.95 < truth < OBJECTS_PER_CHUNK * 1.25
        assert markers[chunk].rows["object"] == OBJECTS_PER_CHUNK


def test_ids_are_unique_across_chunks(generated: Path, two_adjacent_chunks: list[int]) -> None:
    for table, part in DP01_PARTITIONING.items():
        ids = np.concatenate(
            [
                read_chunk(generated, table, c).column(part.key).to_numpy(zero_copy_only=False)
                for c in two_adjacent_chunks
            ]
        )
        assert len(np.unique(ids)) == len(ids), table


def test_foreign_keys_name_generated_objects(generated: Path, two_adjacent_chunks: list[int]) -> None:
    for chunk in two_adjacent_chunks:
        objects = set(read_chunk(generated, "object", chunk).column("objectId").to_pylist())
        for table in ("forced_photometry", "position", "reference"):
            assert set(read_chunk(generated, table, chunk).column("objectId").to_pylist()) == objects
        matches = read_chunk(generated, "truth_match", chunk).column("match_objectId").to_pylist()
        assert {m for m in matches if m != -1} <= objects
        assert any(m == -1 for m in matches)  # unmatched truth entries are generated too


@pytest.mark.parametrize("table", list(DP01_PARTITIONING))
def test_every_row_lies_in_the_chunk_it_is_filed_under(
    generated: Path, two_adjacent_chunks: list[int], table: str
) -> None:
    part = DP01_PARTITIONING[table]
    for chunk in two_adjacent_chunks:
        data = read_chunk(generated, table, chunk)
        assert set(data.column("chunkId").to_pylist()) == {chunk}
        ra = data.column(part.ra).to_numpy()
        dec = data.column(part.dec).to_numpy()
        stripe = CHUNKER.getStripe(chunk)
        box = CHUNKER.getChunkBoundingBox(stripe, CHUNKER.getChunk(chunk, stripe))
        for r, d in zip(ra, dec, strict=True):
            point = sphgeom.LonLat.fromDegrees(float(r), float(d))
            assert box.contains(point), (table, chunk, r, d)
            circle = sphgeom.Circle(sphgeom.UnitVector3d(point), sphgeom.Angle.fromDegrees(1e-9))
            assert chunk in CHUNKER.getChunksIntersecting(circle)


def test_positions_move_consistently_for_every_table(generated: Path, two_adjacent_chunks: list[int]) -> None:
    chunk = two_adjacent_chunks[0]
    obj = read_chunk(generated, "object", chunk)
    by_id = dict(
        zip(
            obj.column("objectId").to_pylist(),
            zip(obj.column("ra").to_pylist(), obj.column("dec").to_pylist(), strict=True),
            strict=True,
        )
    )
    for table in ("forced_photometry", "position", "reference"):
        data = read_chunk(generated, table, chunk)
        for oid, ra, dec in zip(
            data.column("objectId").to_pylist(),
            data.column("coord_ra").to_pylist(),
            data.column("coord_dec").to_pylist(),
            strict=True,
        ):
            assert math.isclose(ra, by_id[oid][0], abs_tol=1e-9) and math.isclose(
                dec, by_id[oid][1], abs_tol=1e-9
            )
    truth = read_chunk(generated, "truth_match", chunk)
    for match, ra, dec in zip(
        truth.column("match_objectId").to_pylist(),
        truth.column("ra").to_pylist(),
        truth.column("dec").to_pylist(),
        strict=True,
    ):
        if match != -1:  # a matched truth entry stays within arcseconds of its object after the move
            assert (
                abs(ra - by_id[match][0]) * math.cos(math.radians(dec)) < 1e-3
                and abs(dec - by_id[match][1]) < 1e-3
            )


def test_rerun_skips_generated_chunks(seed: Seed, generated: Path, two_adjacent_chunks: list[int]) -> None:
    before = (generated / chunk_file("object", two_adjacent_chunks[0])).stat().st_mtime_ns
    results = generate_chunks(seed, two_adjacent_chunks, OBJECTS_PER_CHUNK, str(generated))
    assert all(r.skipped for r in results)
    assert (generated / chunk_file("object", two_adjacent_chunks[0])).stat().st_mtime_ns == before


def test_indexed_job_shares_split_the_chunks(
    seed: Seed, tmp_path: Path, two_adjacent_chunks: list[int]
) -> None:
    first = generate_chunks(seed, two_adjacent_chunks, 50, str(tmp_path), index=0, count=2)
    second = generate_chunks(seed, two_adjacent_chunks, 50, str(tmp_path), index=1, count=2)
    assert sorted(r.chunk for r in first + second) == sorted(two_adjacent_chunks)
    assert not {r.chunk for r in first} & {r.chunk for r in second}
    with pytest.raises(BadInput, match="--index"):
        generate_chunks(seed, two_adjacent_chunks, 50, str(tmp_path), index=2, count=2)
