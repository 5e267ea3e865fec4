"""The scale-test catalog: the dp01 catalogs replicated chunk by chunk over 75 % of DR1's footprint.

What the Qserv team did for its own scale tests (LDM-552, DMTR-16): take a real patch of sky and
duplicate it over the sphere, chunk by chunk, with new ids. Here the seed patch is the five
``dp01_dc2_catalogs`` tables (the dataload role's Parquet files locally, dp01's staging bucket on the
cloud), and for every target chunk of ``Chunker(85, 12)``:

1. copy ``k`` of the seed is rotated on the sphere by the rotation that takes the centre of seed cell
   ``k`` (the seed's own chunks that lie wholly inside it, taken in turn; after a full turn each copy
   is also spun about the target's centre) to the target chunk's centre; the SAME rotation moves the
   positions of every table, so joins and cone searches keep their meaning;
2. only rows that land inside the target chunk are kept (their chunk id is computed with
   :func:`idf_ops.qserv_local.chunking.chunk_ids`, checked against lsst.sphgeom), directors by their own
   position, children (forced_photometry, position, reference) with their object;
3. ids are made unique: a new object id is ``chunk << 49 | copy << 35 | seed row``, truth ids the
   same way, and ``match_objectId`` follows its object. A matched truth entry is kept only with its
   object (a 2e-5 deg offset can put a truth entry across a chunk edge from its object: then it is
   dropped in that copy), so every ``match_objectId`` names an object of the generated catalog;
4. copies are added until the chunk holds its share of the sizing model's row count
   (:func:`target_rows`), the last copy cut to the exact count.

Each chunk is written as one MariaDB-ready CSV file per table (``<table>/chunk_<id>.csv``, chunk
columns included: the layout qserv-ingest's ``metadata.json`` describes) plus a marker
``_chunks/chunk_<id>.json`` with its row counts, written last: a rerun skips chunks that have one.
Output goes to a directory, or to a ``gs://`` / ``s3://`` URI through lsst-resources (the Indexed Job).

Columns other than positions and keys keep the seed's values (tract and patch too: they name the
seed's sky-map cell, not the new position).
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from lsst import sphgeom
from lsst.resources import ResourcePath
from pydantic import BaseModel, ConfigDict, Field

from idf_core.errors import BadInput
from idf_core.qserv_ingest import (
    DP01_PARTITIONING,
    NUM_STRIPES,
    NUM_SUB_STRIPES,
    scale_chunks,
)
from idf_core.qserv_ingest import chunk_data_locations as data_locations
from idf_ops.catalogs.schema import TABLE_NAMES
from idf_ops.qserv_local.chunking import chunk_ids
from idf_ops.qserv_local.load import write_chunk_csv
from idf_ops.scale.sizing import DR1_ROWS_PER_TABLE

__all__ = [
    "CHUNK_MARKER_DIR",
    "ChunkResult",
    "Seed",
    "chunk_file",
    "data_locations",
    "generate_chunk",
    "generate_chunks",
    "read_markers",
    "scale_chunks",
    "target_rows",
]

CHUNK_MARKER_DIR = "_chunks"
_CHUNK_BITS = 14  # chunk ids < 2**14 (the largest Chunker(85, 12) id is 14,449)
_COPY_BITS = 14
_ROW_BITS = 35
_GOLDEN_ANGLE_RAD = math.pi * (3.0 - math.sqrt(5.0))


def target_rows(percent: float, seed_rows: dict[str, int]) -> dict[str, int]:
    """Rows per dp01 table at ``percent`` % of DR1: the per-object tables (object, forced_photometry,
    position, reference; DP0.1's forced_photometry is forced photometry on coadds, one row per object,
    not per visit) get DR1's Object count (docs/sizing.md); truth_match keeps the seed's ratio to object."""
    objects = round(DR1_ROWS_PER_TABLE["Object"] * percent / 100.0)
    ratio = {t: seed_rows[t] / seed_rows["object"] for t in TABLE_NAMES}
    return {t: round(objects * ratio[t]) for t in TABLE_NAMES}


def chunk_file(table: str, chunk: int) -> str:
    """Path of a table's chunk file under the output root."""
    return f"{table}/chunk_{chunk}.csv"


def _unit(ra_deg: npt.NDArray[np.float64], dec_deg: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    ra, dec = np.radians(ra_deg), np.radians(dec_deg)
    return np.stack((np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)), axis=-1)


def _radec(v: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    ra = np.mod(np.degrees(np.arctan2(v[:, 1], v[:, 0])), 360.0)
    dec = np.degrees(np.arcsin(np.clip(v[:, 2], -1.0, 1.0)))
    return ra, dec


def _rotation(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64], spin: float) -> npt.NDArray[np.float64]:
    """The rotation taking unit vector ``a`` to ``b``, followed by a spin of ``spin`` radians about ``b``
    (Rodrigues' formula: numpy does this in a few lines; sphgeom has no rotation type)."""

    def about(axis: npt.NDArray[np.float64], angle: float) -> npt.NDArray[np.float64]:
        k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
        return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * (k @ k)

    cross = np.cross(a, b)
    norm = float(np.linalg.norm(cross))
    align = np.eye(3) if norm < 1e-12 else about(cross / norm, math.atan2(norm, float(np.dot(a, b))))
    return about(b, spin) @ align


def _centre(chunk: int) -> npt.NDArray[np.float64]:
    chunker = sphgeom.Chunker(NUM_STRIPES, NUM_SUB_STRIPES)
    stripe = chunker.getStripe(chunk)
    box = chunker.getChunkBoundingBox(stripe, chunker.getChunk(chunk, stripe))
    centre = sphgeom.LonLat(box.getCenter())
    return _unit(np.array([centre.getLon().asDegrees()]), np.array([centre.getLat().asDegrees()]))[0]


def _bounding_radius_rad(chunk: int) -> float:
    chunker = sphgeom.Chunker(NUM_STRIPES, NUM_SUB_STRIPES)
    stripe = chunker.getStripe(chunk)
    box = chunker.getChunkBoundingBox(stripe, chunker.getChunk(chunk, stripe))
    return float(box.getBoundingCircle().getOpeningAngle().asRadians())


class ChunkResult(BaseModel):
    """One generated chunk: rows per table, copies of the seed used, and the time it took."""

    model_config = ConfigDict(extra="forbid")

    chunk: int = Field(title="Chunk", description="Chunker(85, 12) chunk id.")
    rows: dict[str, int] = Field(title="Rows", description="Table -> rows written.")
    copies: int = Field(title="Copies", description="Rotated copies of the seed used.")
    seconds: float = Field(title="Seconds", description="Wall time (0 when skipped).")
    skipped: bool = Field(default=False, title="Skipped", description="Already generated (marker found).")


@dataclass
class Seed:
    """The seed patch: the five dp01 tables in memory, with object positions as unit vectors."""

    tables: dict[str, pa.Table]

    @classmethod
    def from_directory(cls, directory: Path) -> Seed:
        """Read ``<table>.parquet`` of every dp01 table from ``directory`` (the dataload layout)."""
        tables = {}
        for name in TABLE_NAMES:
            path = directory / f"{name}.parquet"
            if not path.exists():
                raise BadInput(f"{path}: seed table missing; give --seed-dir the dataload directory.")
            tables[name] = pq.read_table(path)
        return cls(tables)

    @classmethod
    def from_location(cls, location: str) -> Seed:
        """The seed from a directory or a URI (``gs://``: each table is copied to a local folder first)."""
        if "://" not in location or location.startswith("file://"):
            return cls.from_directory(Path(location.removeprefix("file://")))
        root = ResourcePath(location, forceDirectory=True)
        with tempfile.TemporaryDirectory(prefix="idf-seed-") as tmp:
            for name in TABLE_NAMES:
                source = root.join(f"{name}.parquet")
                if not source.exists():
                    raise BadInput(f"{source}: seed table missing; upload dp01's Parquet files there.")
                ResourcePath(str(Path(tmp) / f"{name}.parquet")).transfer_from(source, transfer="copy")
            return cls.from_directory(Path(tmp))

    @property
    def rows(self) -> dict[str, int]:
        return {name: table.num_rows for name, table in self.tables.items()}

    def _column(self, table: str, column: str) -> npt.NDArray[np.float64]:
        return np.asarray(self.tables[table].column(column).to_numpy(zero_copy_only=False), dtype=np.float64)

    @cached_property
    def object_ids(self) -> npt.NDArray[np.int64]:
        return np.asarray(self.tables["object"].column("objectId").to_numpy(), dtype=np.int64)

    @cached_property
    def _sorted_ids(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        order = np.argsort(self.object_ids, kind="stable")
        return self.object_ids[order], order

    def object_index(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Seed row of each object id (-1 for an id that names no object, e.g. match_objectId -1)."""
        sorted_ids, order = self._sorted_ids
        pos = np.clip(np.searchsorted(sorted_ids, ids), 0, len(sorted_ids) - 1)
        return np.where(sorted_ids[pos] == ids, order[pos], -1)

    @cached_property
    def vectors(self) -> dict[str, npt.NDArray[np.float64]]:
        """Unit vectors of every table's positions."""
        out = {}
        for name, part in DP01_PARTITIONING.items():
            out[name] = _unit(self._column(name, part.ra), self._column(name, part.dec))
        return out

    @cached_property
    def parents(self) -> dict[str, npt.NDArray[np.int64]]:
        """Seed object row of every row of each table (truth_match: of its match, or -1)."""
        out = {"object": np.arange(len(self.object_ids), dtype=np.int64)}
        for name, part in DP01_PARTITIONING.items():
            if part.director == "object":
                ids = np.asarray(self.tables[name].column(part.key).to_numpy(), dtype=np.int64)
                out[name] = self.object_index(ids)
        matches = self.tables["truth_match"].column("match_objectId").to_numpy(zero_copy_only=False)
        out["truth_match"] = self.object_index(np.asarray(matches, dtype=np.int64))
        return out

    @cached_property
    def cells(self) -> list[npt.NDArray[np.float64]]:
        """Centres of the seed's own chunks that lie wholly inside the seed (the copies' sources)."""
        v = self.vectors["object"]
        ra, dec = _radec(v)
        ids, _ = chunk_ids(ra, dec)
        chunker = sphgeom.Chunker(NUM_STRIPES, NUM_SUB_STRIPES)
        hull = sphgeom.Box.fromDegrees(float(ra.min()), float(dec.min()), float(ra.max()), float(dec.max()))
        inside = [
            int(c)
            for c in np.unique(ids)
            if hull.contains(
                chunker.getChunkBoundingBox(
                    chunker.getStripe(int(c)), chunker.getChunk(int(c), chunker.getStripe(int(c)))
                )
            )
        ]
        if not inside:
            # A seed smaller than a chunk: its own centre is the only source.
            mean = v.mean(axis=0)
            return [mean / np.linalg.norm(mean)]
        return [_centre(c) for c in inside]


def _new_ids(chunk: int, copy: int, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    if copy >= 1 << _COPY_BITS or (len(rows) and int(rows.max()) >= 1 << _ROW_BITS):
        raise BadInput(
            f"chunk {chunk}: {copy + 1} copies of a seed of up to {int(rows.max()) + 1} rows exceed the id "
            f"space (2^{_COPY_BITS} copies, 2^{_ROW_BITS} rows); use a larger seed or a smaller --percent."
        )
    return (np.int64(chunk) << (_COPY_BITS + _ROW_BITS)) | (np.int64(copy) << _ROW_BITS) | rows


def _select(seed: Seed, chunk: int, objects_wanted: int) -> tuple[dict[str, pa.Table], int]:
    """The rows of every table for ``chunk``: copies of the seed rotated there, cut to ``objects_wanted``."""
    target = _centre(chunk)
    # Angular reach of the chunk from its centre (its bounding circle), plus a margin.
    reach = _bounding_radius_rad(chunk) + math.radians(0.05)
    cos_reach = math.cos(min(reach, math.pi))
    parts: dict[str, list[pa.Table]] = {name: [] for name in DP01_PARTITIONING}
    have, copy = 0, 0
    cells = seed.cells
    while have < objects_wanted:
        source = cells[copy % len(cells)]
        spin = _GOLDEN_ANGLE_RAD * (copy // len(cells))
        rot = _rotation(source, target, spin)
        moved: dict[str, npt.NDArray[np.float64]] = {}
        in_chunk = {}
        for name, v in seed.vectors.items():
            # Only rows near the source cell can land in the chunk: rotate those alone.
            near = np.flatnonzero(v @ source >= cos_reach)
            moved[name] = np.zeros_like(v)
            moved[name][near] = v[near] @ rot.T
            in_chunk[name] = np.zeros(len(v), dtype=bool)
            ra, dec = _radec(moved[name][near])
            in_chunk[name][near] = chunk_ids(ra, dec)[0] == chunk
        kept_objects = np.flatnonzero(in_chunk["object"])
        if copy > 4 * len(cells) and have == 0:
            raise BadInput(
                f"chunk {chunk}: no seed object lands in it after {copy} copies; the seed is empty?"
            )
        room = objects_wanted - have
        if len(kept_objects) > room:
            kept_objects = kept_objects[:room]
        keep_object = np.zeros(len(seed.object_ids), dtype=bool)
        keep_object[kept_objects] = True
        for name, part in DP01_PARTITIONING.items():
            parent = seed.parents[name]
            if name == "object":
                rows = kept_objects
            elif name == "truth_match":
                matched = parent >= 0
                has_object = np.zeros(len(parent), dtype=bool)
                has_object[matched] = keep_object[parent[matched]]
                unmatched = np.flatnonzero(in_chunk[name] & ~matched)
                # The last, cut copy keeps the same share of unmatched truth entries as of objects.
                share = len(kept_objects) / max(1, int(in_chunk["object"].sum()))
                unmatched = unmatched[: round(len(unmatched) * share)]
                rows = np.sort(np.concatenate((np.flatnonzero(in_chunk[name] & has_object), unmatched)))
            else:
                rows = np.flatnonzero((parent >= 0) & keep_object[np.maximum(parent, 0)])
            parts[name].append(_moved_rows(seed, name, part.ra, part.dec, rows, moved[name], chunk, copy))
        have += len(kept_objects)
        copy += 1
    return {name: pa.concat_tables(tables) for name, tables in parts.items()}, copy


def _moved_rows(  # noqa: PLR0917 - one call site; each argument a distinct fact
    seed: Seed,
    name: str,
    ra_col: str,
    dec_col: str,
    rows: npt.NDArray[np.int64],
    moved: npt.NDArray[np.float64],
    chunk: int,
    copy: int,
) -> pa.Table:
    table = seed.tables[name].take(pa.array(rows, type=pa.int64()))
    ra, dec = _radec(moved[rows])

    def replace(t: pa.Table, column: str, values: pa.Array) -> pa.Table:
        index = t.schema.get_field_index(column)
        return t.set_column(index, t.schema.field(index), values.cast(t.schema.field(index).type))

    table = replace(table, ra_col, pa.array(ra))
    table = replace(table, dec_col, pa.array(dec))
    if name == "truth_match":
        table = replace(table, "id", pc.cast(pa.array(_new_ids(chunk, copy, rows)), pa.string()))
        parent = seed.parents["truth_match"][rows]
        new_match = np.where(parent >= 0, _new_ids(chunk, copy, np.maximum(parent, 0)), -1)
        table = replace(table, "match_objectId", pa.array(new_match))
    else:
        parent = rows if name == "object" else seed.parents[name][rows]
        table = replace(table, "objectId", pa.array(_new_ids(chunk, copy, parent)))
    return table


def generate_chunk(seed: Seed, chunk: int, objects: int, out: ResourcePath) -> ChunkResult:
    """Write ``chunk`` with ``objects`` objects (and the rows that go with them) under ``out``."""
    marker = out.join(f"{CHUNK_MARKER_DIR}/chunk_{chunk}.json")
    if marker.exists():
        done = ChunkResult.model_validate_json(marker.read())
        return done.model_copy(update={"skipped": True, "seconds": 0.0})
    started = time.monotonic()
    tables, copies = _select(seed, chunk, objects)
    with tempfile.TemporaryDirectory(prefix=f"idf-gen-{chunk}-") as tmp:
        for name, table in tables.items():
            part = DP01_PARTITIONING[name]
            local = Path(tmp) / chunk_file(name, chunk)
            write_chunk_csv(table, (part.ra, part.dec), local)
            destination = out.join(chunk_file(name, chunk))
            destination.transfer_from(ResourcePath(str(local)), transfer="copy", overwrite=True)
    result = ChunkResult(
        chunk=chunk,
        rows={name: t.num_rows for name, t in tables.items()},
        copies=copies,
        seconds=round(time.monotonic() - started, 3),
    )
    marker.write(result.model_dump_json().encode(), overwrite=True)
    return result


def generate_chunks(
    seed: Seed,
    chunks: list[int],
    objects_per_chunk: int,
    out: str,
    *,
    index: int = 0,
    count: int = 1,
    on_chunk: Callable[[ChunkResult], None] | None = None,
) -> list[ChunkResult]:
    """Generate this worker's share of ``chunks`` (every ``count``-th from ``index``: an Indexed Job's
    completion index and completions) under ``out`` (a directory or a URI)."""
    if not 0 <= index < count:
        raise BadInput(f"--index {index}: must be in [0, --of {count}).")
    if objects_per_chunk < 1:
        raise BadInput(f"objects per chunk {objects_per_chunk}: must be at least 1.")
    root = ResourcePath(out, forceDirectory=True)
    results = []
    for chunk in chunks[index::count]:
        result = generate_chunk(seed, chunk, objects_per_chunk, root)
        results.append(result)
        if on_chunk is not None:
            on_chunk(result)
    return results


def read_markers(out: str) -> dict[int, ChunkResult]:
    """Chunk -> result of every chunk generated under ``out``."""
    root = ResourcePath(out, forceDirectory=True).join(f"{CHUNK_MARKER_DIR}/", forceDirectory=True)
    found = {}
    if root.exists():
        for directory, _, names in root.walk():
            for name in names:
                if name.startswith("chunk_") and name.endswith(".json"):
                    result = ChunkResult.model_validate_json(directory.join(name).read())
                    found[result.chunk] = result
    return found
