"""The DC2 footprint and a simplified DC2 sky map: where synthetic objects lie, which tract and patch.

DC2's wide-fast-deep area is about 300 deg² around RA 50-75 deg, Dec -45 to -27 deg. The real DC2 sky
map is an LSST ``RingsSkyMap``; this module models it with the same shape of numbering (declination
rings of tracts, each tract cut into 7 x 7 patches named ``"x,y"``), so the catalogs' ``tract`` and
``patch`` columns and the Butler's tract/patch dimension records agree. It is a stand-in, not the
pipelines' sky map (which needs lsst.skymap from the Science Pipelines).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DEC_MAX_DEG",
    "DEC_MIN_DEG",
    "PATCHES_PER_SIDE",
    "RA_MAX_DEG",
    "RA_MIN_DEG",
    "TRACT_SIZE_DEG",
    "Tract",
    "footprint_area_deg2",
    "footprint_tracts",
    "random_positions",
    "tract_patch",
]

RA_MIN_DEG, RA_MAX_DEG = 50.0, 75.0
DEC_MIN_DEG, DEC_MAX_DEG = -45.0, -27.0
#: Height of a declination ring of tracts and nominal tract width (DC2 tracts are ~1.7° inner size).
TRACT_SIZE_DEG = 1.75
PATCHES_PER_SIDE = 7
_RINGS = math.ceil(180.0 / TRACT_SIZE_DEG)


def _ring_sizes() -> np.ndarray:
    """Tracts per declination ring: fewer towards the poles, like a RingsSkyMap."""
    centers = -90.0 + (np.arange(_RINGS) + 0.5) * TRACT_SIZE_DEG
    return np.maximum(1, np.floor(360.0 * np.cos(np.radians(centers)) / TRACT_SIZE_DEG)).astype(np.int64)


_RING_SIZES = _ring_sizes()
_RING_OFFSETS = np.concatenate(([0], np.cumsum(_RING_SIZES)[:-1]))


@dataclass(frozen=True)
class Tract:
    """One tract of the simplified sky map: id and its box in degrees."""

    tract_id: int
    ra_min_deg: float
    ra_max_deg: float
    dec_min_deg: float
    dec_max_deg: float


def footprint_area_deg2() -> float:
    """Solid angle of the RA/Dec box in square degrees."""
    d_sin = math.sin(math.radians(DEC_MAX_DEG)) - math.sin(math.radians(DEC_MIN_DEG))
    return math.degrees(1.0) ** 2 * math.radians(RA_MAX_DEG - RA_MIN_DEG) * d_sin


def random_positions(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` points uniform on the sphere inside the footprint: (ra_deg, dec_deg)."""
    ra = rng.uniform(RA_MIN_DEG, RA_MAX_DEG, count)
    sin_dec = rng.uniform(math.sin(math.radians(DEC_MIN_DEG)), math.sin(math.radians(DEC_MAX_DEG)), count)
    return ra, np.degrees(np.arcsin(sin_dec))


def tract_patch(ra_deg: np.ndarray, dec_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tract id and patch (x index, y index) of each position."""
    ring = np.clip(((dec_deg + 90.0) // TRACT_SIZE_DEG).astype(np.int64), 0, _RINGS - 1)
    n_in_ring = _RING_SIZES[ring]
    width = 360.0 / n_in_ring
    index_in_ring = np.minimum((ra_deg % 360.0) // width, n_in_ring - 1).astype(np.int64)
    tract = _RING_OFFSETS[ring] + index_in_ring
    frac_x = ((ra_deg % 360.0) - index_in_ring * width) / width
    frac_y = (dec_deg - (-90.0 + ring * TRACT_SIZE_DEG)) / TRACT_SIZE_DEG
    patch_x = np.clip((frac_x * PATCHES_PER_SIDE).astype(np.int64), 0, PATCHES_PER_SIDE - 1)
    patch_y = np.clip((frac_y * PATCHES_PER_SIDE).astype(np.int64), 0, PATCHES_PER_SIDE - 1)
    return tract, patch_x, patch_y


def footprint_tracts() -> list[Tract]:
    """Every tract that overlaps the footprint, in id order."""
    tracts: list[Tract] = []
    for ring in range(_RINGS):
        dec_lo = -90.0 + ring * TRACT_SIZE_DEG
        dec_hi = dec_lo + TRACT_SIZE_DEG
        if dec_hi <= DEC_MIN_DEG or dec_lo >= DEC_MAX_DEG:
            continue
        width = 360.0 / int(_RING_SIZES[ring])
        for index in range(int(_RING_SIZES[ring])):
            ra_lo, ra_hi = index * width, (index + 1) * width
            if ra_hi <= RA_MIN_DEG or ra_lo >= RA_MAX_DEG:
                continue
            tracts.append(Tract(int(_RING_OFFSETS[ring] + index), ra_lo, ra_hi, dec_lo, dec_hi))
    return tracts
