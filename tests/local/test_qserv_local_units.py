"""Qserv chunk ids equal lsst.sphgeom's, and the MariaDB flavour of the Felis schema (no stack needed)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from lsst.sphgeom import Angle, Chunker, Circle, LonLat, UnitVector3d

from idf_ops.catalogs.schema import KEY_COLUMNS, POSITION_COLUMNS
from idf_ops.qserv_local import chunking
from idf_ops.qserv_local.schema import CHUNK_COLUMNS, derived_schema

CHUNKER = Chunker(85, 12)


def sphgeom_cells(ra_deg: float, dec_deg: float) -> set[tuple[int, int]]:
    """(chunkId, subChunkId) pairs sphgeom says a (tiny disc around the) point intersects."""
    disc = Circle(UnitVector3d(LonLat.fromDegrees(ra_deg, dec_deg)), Angle.fromDegrees(1e-9))
    return {(chunk, sub) for chunk, subs in CHUNKER.getSubChunksIntersecting(disc) for sub in subs}


# Random points over the DC2 footprint and over the whole sky (poles included), fixed seed.
_RNG = np.random.default_rng(20210630)
POINTS = [
    *zip(_RNG.uniform(50, 75, 40), _RNG.uniform(-45, -25, 40), strict=True),
    *zip(_RNG.uniform(0, 360, 40), np.degrees(np.arcsin(_RNG.uniform(-1, 1, 40))), strict=True),
    (0.0, 89.99),
    (359.999, -89.99),
]


@pytest.mark.parametrize(("ra_deg", "dec_deg"), POINTS, ids=[f"{r:.3f},{d:.3f}" for r, d in POINTS])
def test_chunk_ids_equal_sphgeom(ra_deg: float, dec_deg: float) -> None:
    chunk, sub_chunk = chunking.chunk_ids([ra_deg], [dec_deg])
    assert sphgeom_cells(ra_deg, dec_deg) == {(int(chunk[0]), int(sub_chunk[0]))}


def test_layout_equals_sphgeom_for_dc2_chunks() -> None:
    chunks, _ = chunking.chunk_ids(_RNG.uniform(50, 75, 2000), _RNG.uniform(-45, -25, 2000))
    chunking.verify_layout(sorted({int(c) for c in chunks}))


def test_a_wrong_layout_is_caught() -> None:
    wrong = dataclasses.replace(chunking.layout(), max_sub_chunks_per_sub_stripe_chunk=70)
    with pytest.raises(ValueError, match="sub-chunk layout"):
        chunking.verify_layout([3762], cells=wrong)
    chunk, sub_chunk = chunking.chunk_ids([62.0], [-37.0], cells=wrong)
    assert sphgeom_cells(62.0, -37.0) != {(int(chunk[0]), int(sub_chunk[0]))}


def test_qserv_default_has_8983_chunks() -> None:
    assert int(chunking.layout().chunks_per_stripe.sum()) == 8983 == len(CHUNKER.getAllChunks())


@pytest.mark.parametrize("table", sorted(POSITION_COLUMNS))
def test_derived_schema_strips_descriptions_and_adds_chunk_columns(table: str) -> None:
    document = derived_schema()
    felis_table = next(t for t in document["tables"] if t["name"] == table)
    assert all("description" not in column for column in felis_table["columns"])
    names = [column["name"] for column in felis_table["columns"]]
    assert names[-2:] == list(CHUNK_COLUMNS)
    indexed = [index["columns"] for index in felis_table["indexes"]]
    assert [f"#{table}.chunkId", f"#{table}.subChunkId"] in indexed
    assert [f"#{table}.{KEY_COLUMNS[table]}"] in indexed
