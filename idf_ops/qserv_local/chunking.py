"""Qserv chunk and sub-chunk ids of sky positions, as lsst.sphgeom's ``Chunker`` defines them.

Qserv partitions director tables by ``Chunker(85, 12)``: 85 declination stripes, each split into
chunks of (nearly) equal area, each chunk into 12 sub-stripes of sub-chunks. ``lsst.sphgeom``
exposes the partitioning (which chunks and sub-chunks a region intersects) but no per-point lookup,
and a point on a boundary intersects two chunks. This module computes the single id Qserv's
partitioner assigns (the stripe/chunk formula: floor of latitude and longitude over the cell
sizes), vectorised with numpy, from layout tables built with the same algorithm as sphgeom's
``Chunker`` constructor; :func:`verify_layout` checks those tables against sphgeom itself
(chunk ids per stripe and sub-chunk ids per chunk), and the tests check points against
``getSubChunksIntersecting``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
from lsst.sphgeom import Chunker

__all__ = ["ChunkLayout", "chunk_ids", "layout", "verify_layout"]

QSERV_NUM_STRIPES = 85
QSERV_NUM_SUB_STRIPES_PER_STRIPE = 12


def _segments(lat_min: float, lat_max: float, width: float) -> int:
    """Number of segments of angular width ``width`` fitting in a latitude band (sphgeom's formula)."""
    lat = max(abs(lat_min), abs(lat_max))
    if lat > 0.5 * math.pi - 4.85e-6:
        return 1
    cos_width = math.cos(width)
    sin_lat = math.sin(lat)
    cos_lat = math.cos(lat)
    x = cos_width - sin_lat * sin_lat
    u = cos_lat * cos_lat
    y = math.sqrt(abs(u * u - x * x))
    return math.floor(2.0 * math.pi / abs(math.atan2(y, x)))


@dataclass(frozen=True)
class ChunkLayout:
    """Per-stripe and per-sub-stripe cell counts of a Chunker."""

    num_stripes: int
    num_sub_stripes_per_stripe: int
    chunks_per_stripe: npt.NDArray[np.int64]  # by stripe
    sub_chunks_per_chunk: npt.NDArray[np.int64]  # by global sub-stripe
    max_sub_chunks_per_sub_stripe_chunk: int

    @property
    def stripe_height_deg(self) -> float:
        return 180.0 / self.num_stripes

    @property
    def sub_stripe_height_deg(self) -> float:
        return 180.0 / (self.num_stripes * self.num_sub_stripes_per_stripe)


@cache
def layout(
    num_stripes: int = QSERV_NUM_STRIPES, num_sub_stripes_per_stripe: int = QSERV_NUM_SUB_STRIPES_PER_STRIPE
) -> ChunkLayout:
    """Build the cell counts exactly as sphgeom's ``Chunker`` constructor does."""
    num_sub_stripes = num_stripes * num_sub_stripes_per_stripe
    stripe_height = math.pi / num_stripes
    sub_stripe_height = math.pi / num_sub_stripes
    chunks = np.zeros(num_stripes, dtype=np.int64)
    sub_chunks = np.zeros(num_sub_stripes, dtype=np.int64)
    max_sub = 0
    for stripe in range(num_stripes):
        n_chunks = _segments(
            stripe * stripe_height - 0.5 * math.pi,
            (stripe + 1) * stripe_height - 0.5 * math.pi,
            stripe_height,
        )
        chunks[stripe] = n_chunks
        for sub_stripe in range(
            stripe * num_sub_stripes_per_stripe, (stripe + 1) * num_sub_stripes_per_stripe
        ):
            n_sub = _segments(
                sub_stripe * sub_stripe_height - 0.5 * math.pi,
                (sub_stripe + 1) * sub_stripe_height - 0.5 * math.pi,
                sub_stripe_height,
            )
            per_chunk = n_sub // n_chunks
            sub_chunks[sub_stripe] = per_chunk
            max_sub = max(max_sub, per_chunk)
    return ChunkLayout(num_stripes, num_sub_stripes_per_stripe, chunks, sub_chunks, max_sub)


def chunk_ids(
    ra_deg: npt.ArrayLike, dec_deg: npt.ArrayLike, cells: ChunkLayout | None = None
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """(chunkId, subChunkId) of each position (degrees), vectorised."""
    cells = cells or layout()
    ra = np.mod(np.asarray(ra_deg, dtype=np.float64), 360.0)
    dec = np.clip(np.asarray(dec_deg, dtype=np.float64), -90.0, 90.0)
    n_sub_total = cells.num_stripes * cells.num_sub_stripes_per_stripe
    sub_stripe = np.minimum(
        np.floor((dec + 90.0) / cells.sub_stripe_height_deg).astype(np.int64), n_sub_total - 1
    )
    stripe = sub_stripe // cells.num_sub_stripes_per_stripe
    n_chunks = cells.chunks_per_stripe[stripe]
    chunk = np.minimum(np.floor(ra * n_chunks / 360.0).astype(np.int64), n_chunks - 1)
    n_sub_chunks = cells.sub_chunks_per_chunk[sub_stripe] * n_chunks
    sub_chunk_global = np.minimum(np.floor(ra * n_sub_chunks / 360.0).astype(np.int64), n_sub_chunks - 1)
    sub_chunk = sub_chunk_global - chunk * cells.sub_chunks_per_chunk[sub_stripe]
    chunk_id = stripe * 2 * cells.num_stripes + chunk
    sub_chunk_id = (
        sub_stripe - stripe * cells.num_sub_stripes_per_stripe
    ) * cells.max_sub_chunks_per_sub_stripe_chunk + sub_chunk
    return chunk_id.astype(np.int32), sub_chunk_id.astype(np.int32)


def verify_layout(chunks_to_check: list[int] | None = None, cells: ChunkLayout | None = None) -> None:
    """Raise ValueError unless the layout matches lsst.sphgeom's Chunker (all chunks, some sub-chunks)."""

    cells = cells or layout()
    chunker = Chunker(cells.num_stripes, cells.num_sub_stripes_per_stripe)
    expected = sorted(chunker.getAllChunks())
    ours = sorted(
        stripe * 2 * cells.num_stripes + chunk
        for stripe in range(cells.num_stripes)
        for chunk in range(int(cells.chunks_per_stripe[stripe]))
    )
    if expected != ours:
        raise ValueError("chunk layout differs from lsst.sphgeom.Chunker.getAllChunks()")
    for chunk_id in chunks_to_check or []:
        stripe = chunk_id // (2 * cells.num_stripes)
        ours_sub = sorted(
            local * cells.max_sub_chunks_per_sub_stripe_chunk + k
            for local in range(cells.num_sub_stripes_per_stripe)
            for k in range(int(cells.sub_chunks_per_chunk[stripe * cells.num_sub_stripes_per_stripe + local]))
        )
        if sorted(chunker.getAllSubChunks(chunk_id)) != ours_sub:
            raise ValueError(f"sub-chunk layout of chunk {chunk_id} differs from lsst.sphgeom.Chunker")
