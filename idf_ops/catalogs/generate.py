"""Synthetic DC2-shaped catalogs for the five ``dp01_dc2_catalogs`` tables, written as Parquet.

One knob, the number of objects, sizes everything. Objects are spread uniformly over the DC2
footprint (:mod:`idf_ops.catalogs.footprint`); every table is typed column by column from the Felis
schema (all 747 columns of forced_photometry included) and the tables agree with each other:

- ``object``, ``position``, ``reference`` and ``forced_photometry`` have one row per object with the
  same ``objectId`` and coordinates;
- ``truth_match`` has one matched truth entry per object (``match_objectId`` joins ``object``) plus
  10 % unmatched truth entries (``match_objectId = -1``);
- photometry follows one model per object: a true r magnitude (galaxies fainter and more numerous),
  colours, 5-sigma depths per band; fluxes in nJy, magnitudes ``-2.5 log10(flux) + 31.4``, errors from
  the depth, ``extendedness`` 1 for galaxies, flags mostly false. Non-detections are NULL, not NaN.

Output is deterministic for a given (objects, seed): re-running writes identical data, and a stamp
(``generation.json``) lets a second run skip work when nothing changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from idf_core.errors import BadInput
from idf_ops.catalogs import footprint
from idf_ops.catalogs.schema import TABLE_NAMES, felis_schema, felis_yaml_path

__all__ = [
    "GENERATOR_VERSION",
    "GenerationResult",
    "arrow_type",
    "generate",
    "parquet_path",
]

#: Bump when the generated values change, so existing Parquet files are regenerated.
GENERATOR_VERSION = 1
BANDS = ("u", "g", "r", "i", "z", "y")
_AB_ZEROPOINT_NJY = 31.4
#: 5-sigma point-source depths per band (DC2 WFD after ~5 years, rounded).
_DEPTH_5SIGMA_MAG = {"u": 25.0, "g": 26.2, "r": 26.3, "i": 25.8, "z": 25.1, "y": 24.3}
#: nJy per instrumental count, to give instFlux columns counts rather than nJy.
_NJY_PER_COUNT = 57.5
_STAMP = "generation.json"
_ARROW_TYPES = {
    "long": pa.int64(),
    "int": pa.int32(),
    "short": pa.int16(),
    "byte": pa.int8(),
    "double": pa.float64(),
    "float": pa.float32(),
    "boolean": pa.bool_(),
    "char": pa.string(),
    "string": pa.string(),
    "text": pa.string(),
    "unicode": pa.string(),
}


def arrow_type(felis_datatype: str) -> pa.DataType:
    """Arrow type of a Felis column datatype (``long`` -> int64, ``char`` -> string, ...)."""
    return _ARROW_TYPES[felis_datatype]


def parquet_path(data_dir: Path, table: str) -> Path:
    """Where a table's Parquet file lives in the data directory."""
    return data_dir / f"{table}.parquet"


@dataclass(frozen=True)
class GenerationResult:
    """What :func:`generate` did: whether it wrote files, and rows per table."""

    changed: bool
    rows: dict[str, int]


@dataclass
class _Truth:
    """Per-object truth shared by every table."""

    object_id: np.ndarray
    ra: np.ndarray
    dec: np.ndarray
    tract: np.ndarray
    patch: np.ndarray
    is_galaxy: np.ndarray
    redshift: np.ndarray
    true_mag: dict[str, np.ndarray]
    flux: dict[str, np.ndarray]
    flux_err: dict[str, np.ndarray]


def _mag_from_flux(flux_njy: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            flux_njy > 0, -2.5 * np.log10(np.where(flux_njy > 0, flux_njy, 1.0)) + _AB_ZEROPOINT_NJY, np.nan
        )


def _truth(rng: np.random.Generator, objects: int) -> _Truth:
    ra, dec = footprint.random_positions(rng, objects)
    tract, patch_x, patch_y = footprint.tract_patch(ra, dec)
    # DC2-like object ids: tract, patch and a running number, so ids sort by sky region.
    patch_index = patch_x * footprint.PATCHES_PER_SIDE + patch_y
    order = np.lexsort((dec, ra, patch_index, tract))
    ra, dec, tract, patch_x, patch_y, patch_index = (
        a[order] for a in (ra, dec, tract, patch_x, patch_y, patch_index)
    )
    region = tract * 100 + patch_index
    boundaries = np.flatnonzero(np.diff(region)) + 1
    starts = np.repeat(
        np.concatenate(([0], boundaries)), np.diff(np.concatenate(([0], boundaries, [objects])))
    )
    running = np.arange(objects) - starts
    object_id = tract.astype(np.int64) * 10**10 + patch_index.astype(np.int64) * 10**8 + running
    patch = np.char.add(np.char.add(patch_x.astype(str), ","), patch_y.astype(str))

    is_galaxy = rng.random(objects) < 0.8
    mag_r = np.where(is_galaxy, 27.5 - rng.exponential(1.6, objects), rng.uniform(16.0, 25.5, objects))
    mag_r = np.clip(mag_r, 16.0, 28.5)
    colours = {  # (mean, sigma) of u-g, g-r, r-i, i-z, z-y
        "ug": (0.8, 0.4),
        "gr": (0.6, 0.3),
        "ri": (0.3, 0.2),
        "iz": (0.2, 0.1),
        "zy": (0.1, 0.1),
    }
    c = {k: rng.normal(m, s, objects) for k, (m, s) in colours.items()}
    true_mag = {"r": mag_r}
    true_mag["g"] = mag_r + c["gr"]
    true_mag["u"] = true_mag["g"] + c["ug"]
    true_mag["i"] = mag_r - c["ri"]
    true_mag["z"] = true_mag["i"] - c["iz"]
    true_mag["y"] = true_mag["z"] - c["zy"]
    flux, flux_err = {}, {}
    for band in BANDS:
        true_flux = 10 ** (-0.4 * (true_mag[band] - _AB_ZEROPOINT_NJY))
        err = 10 ** (-0.4 * (_DEPTH_5SIGMA_MAG[band] - _AB_ZEROPOINT_NJY)) / 5.0
        flux_err[band] = np.full(objects, err) * rng.uniform(0.9, 1.1, objects)
        flux[band] = true_flux + rng.normal(0.0, 1.0, objects) * flux_err[band]
    redshift = np.where(is_galaxy, rng.gamma(2.0, 0.4, objects), 0.0)
    return _Truth(object_id, ra, dec, tract, patch, is_galaxy, redshift, true_mag, flux, flux_err)


_BAND_PATTERNS = (
    re.compile(r"^([ugrizy])_"),  # forced_photometry: g_base_PsfFlux_instFlux
    re.compile(r"_([ugrizy])_cModel$"),  # object: mag_g_cModel
    re.compile(r"_([ugrizy])$"),  # object: psFlux_g
)


def _band_of(table: str, column: str) -> str:
    for pattern in _BAND_PATTERNS:
        match = pattern.search(column)
        if match:
            return match.group(1)
    return "i"  # reference-band measurements (the `reference` table) are i-band in DC2


def _column_values(  # noqa: PLR0911, PLR0912 - one rule per column family reads best as a flat list
    table: str, column: str, datatype: str, t: _Truth, rng: np.random.Generator
) -> np.ndarray:
    n = len(t.object_id)
    lower = column.lower()
    exact = {
        "objectid": t.object_id,
        "ra": t.ra,
        "dec": t.dec,
        "coord_ra": t.ra,
        "coord_dec": t.dec,
        "tract": t.tract.astype(np.int64),
        "patch": t.patch,
        "parentobjectid": np.zeros(n, np.int64),
        "parent": np.zeros(n, np.int64),
        "deblend_nchild": np.zeros(n, np.int64),
    }
    if lower in exact:
        return exact[lower]
    band = _band_of(table, column)
    if datatype == "boolean":
        if "flag" in lower:
            return rng.random(n) < 0.01
        if lower.startswith(("detect_", "merge_")) or lower.endswith(("good", "clean")):
            return rng.random(n) < 0.95
        return rng.random(n) < 0.05
    if datatype in ("int", "long", "short"):
        if "inputcount" in lower:
            return rng.poisson(40, n)
        if "niter" in lower:
            return rng.poisson(15, n)
        return rng.poisson(2, n)
    if datatype not in ("double", "float"):
        raise BadInput(
            f"{felis_yaml_path()}: tables.{table}.columns.{column}: no generator rule for "
            f"datatype {datatype!r}; add one in idf_ops/catalogs/generate.py."
        )
    flux, err = t.flux[band], t.flux_err[band]
    scale = 1.0 / _NJY_PER_COUNT if "instflux" in lower else 1.0
    if "extendedness" in lower:
        noisy = rng.random(n) < 0.05
        return np.where(noisy, ~t.is_galaxy, t.is_galaxy).astype(np.float64)
    if "magerr" in lower:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(flux > 0, 1.0857 * err / flux, np.nan)
    if lower.startswith("mag"):
        return _mag_from_flux(flux)
    if lower.startswith("snr"):
        return flux / err
    if "flux" in lower and "cov" in lower:
        return rng.normal(0.0, 0.1, n)
    if "flux" in lower and ("err" in lower or "sigma" in lower):
        return err * scale
    if "flux" in lower:
        return (flux + rng.normal(0.0, 0.1, n) * err) * scale
    if "blendedness" in lower:
        return rng.uniform(0.0, 0.2, n)
    if "apcorr" in lower:
        return rng.normal(0.0, 0.001, n) ** 2 if "err" in lower else rng.normal(1.0, 0.01, n)
    if "fwhm" in lower:
        return rng.normal(0.8, 0.1, n)
    if "fracdev" in lower or "resolution" in lower:
        return rng.uniform(0.0, 1.0, n)
    if lower.endswith("err"):
        return rng.uniform(0.01, 0.1, n)
    if lower.endswith(("_x", "_y")) or lower in ("x", "y"):
        return rng.uniform(0.0, 4000.0, n)
    if re.search(r"(xx|yy)(psf)?(_pixel)?(_[ugrizy])?$", lower):
        return np.where(t.is_galaxy, rng.uniform(3.0, 12.0, n), rng.uniform(2.0, 3.0, n))
    return rng.normal(0.0, 1.0, n)


def _truth_match_columns(t: _Truth, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """truth_match: one matched entry per object plus 10 % unmatched truth entries."""
    n = len(t.object_id)
    extra = n // 10
    extra_ra, extra_dec = footprint.random_positions(rng, extra)
    extra_tract, extra_px, extra_py = footprint.tract_patch(extra_ra, extra_dec)
    extra_patch = np.char.add(np.char.add(extra_px.astype(str), ","), extra_py.astype(str))
    extra_galaxy = rng.random(extra) < 0.8
    is_galaxy = np.concatenate((t.is_galaxy, extra_galaxy))
    total = n + extra
    cosmodc2_id = np.where(is_galaxy, 9_000_000_000 + np.arange(total), -1)
    star_id = 40_000_000_000 + np.arange(total)
    truth_id = np.where(is_galaxy, cosmodc2_id, star_id).astype(str)
    extra_mag_r = np.clip(27.5 - rng.exponential(1.6, extra), 16.0, 28.5)
    columns: dict[str, np.ndarray] = {
        "id": truth_id,
        "host_galaxy": np.full(total, -1, np.int64),
        "ra": np.concatenate((t.ra + rng.normal(0, 2e-5, n), extra_ra)),
        "dec": np.concatenate((t.dec + rng.normal(0, 2e-5, n), extra_dec)),
        "redshift": np.concatenate((t.redshift, np.where(extra_galaxy, rng.gamma(2.0, 0.4, extra), 0.0))),
        "is_variable": (rng.random(total) < np.where(is_galaxy, 0.0, 0.05)).astype(np.int32),
        "is_pointsource": (~is_galaxy).astype(np.int32),
        "mag_r": np.concatenate((t.true_mag["r"], extra_mag_r)),
        "tract": np.concatenate((t.tract, extra_tract)).astype(np.int64),
        "patch": np.concatenate((t.patch, extra_patch)),
        "cosmodc2_hp": np.where(is_galaxy, 10_000 + (np.arange(total) % 200), -1),
        "cosmodc2_id": cosmodc2_id,
        "truth_type": np.where(is_galaxy, 1, 2).astype(np.int64),
        "match_objectId": np.concatenate((t.object_id, np.full(extra, -1, np.int64))),
        "match_sep": np.concatenate((np.abs(rng.normal(0, 0.08, n)), np.full(extra, np.nan))),
        "is_good_match": np.concatenate((np.ones(n, bool), np.zeros(extra, bool))),
        "is_nearest_neighbor": np.concatenate((np.ones(n, bool), np.zeros(extra, bool))),
        "is_unique_truth_entry": np.ones(total, bool),
    }
    for band in BANDS:
        extra_mag = extra_mag_r + (np.asarray(t.true_mag[band]).mean() - np.asarray(t.true_mag["r"]).mean())
        mags = np.concatenate((t.true_mag[band], extra_mag))
        flux = 10 ** (-0.4 * (mags - _AB_ZEROPOINT_NJY))
        columns[f"flux_{band}"] = flux
        columns[f"flux_{band}_noMW"] = flux * 1.08  # ~0.08 mag of Galactic extinction removed
    return columns


def _table(table_name: str, t: _Truth, rng: np.random.Generator) -> pa.Table:
    table = next(tb for tb in felis_schema().tables if tb.name == table_name)
    special = _truth_match_columns(t, rng) if table_name == "truth_match" else {}
    arrays, fields = [], []
    for column in table.columns:
        datatype = column.datatype.value
        values = special.get(column.name)
        if values is None:
            values = _column_values(table_name, column.name, datatype, t, rng)
        if special and len(values) != len(special["id"]):
            raise BadInput(
                f"{felis_yaml_path()}: tables.truth_match.columns.{column.name}: no truth_match "
                "rule for this column; add one in idf_ops/catalogs/generate.py."
            )
        type_ = arrow_type(datatype)
        arrays.append(pa.array(values, type=type_, from_pandas=True))
        fields.append(pa.field(column.name, type_, nullable=column.nullable is not False))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _stamp(objects: int, seed: int) -> dict[str, object]:
    schema_sha = hashlib.sha256(felis_yaml_path().read_bytes()).hexdigest()
    return {
        "objects": objects,
        "seed": seed,
        "generator_version": GENERATOR_VERSION,
        "schema_sha256": schema_sha,
    }


def generate(data_dir: Path, objects: int, seed: int = 20210630, force: bool = False) -> GenerationResult:
    """Write the five Parquet files for ``objects`` objects; skip when the stamp says they exist."""
    if objects < 1 or objects > 10**9:
        raise BadInput(f"objects={objects}: the number of objects must be between 1 and 1e9.")
    data_dir.mkdir(parents=True, exist_ok=True)
    stamp_path = data_dir / _STAMP
    wanted = _stamp(objects, seed)
    if not force and stamp_path.exists() and all(parquet_path(data_dir, t).exists() for t in TABLE_NAMES):
        previous = json.loads(stamp_path.read_text())
        if previous.get("parameters") == wanted:
            return GenerationResult(changed=False, rows=previous["rows"])
    rng = np.random.default_rng(seed)
    truth = _truth(rng, objects)
    rows: dict[str, int] = {}
    stamp_path.unlink(missing_ok=True)
    for name in TABLE_NAMES:
        table = _table(name, truth, np.random.default_rng([seed, TABLE_NAMES.index(name)]))
        target = parquet_path(data_dir, name)
        tmp = target.with_suffix(".parquet.tmp")
        # Row groups of ~64k rows let loaders stream batches without holding the table in memory.
        pq.write_table(table, tmp, compression="snappy", row_group_size=65_536)
        tmp.replace(target)
        rows[name] = table.num_rows
    stamp_path.write_text(json.dumps({"parameters": wanted, "rows": rows}, indent=2, sort_keys=True) + "\n")
    return GenerationResult(changed=True, rows=rows)
