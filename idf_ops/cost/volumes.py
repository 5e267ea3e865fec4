"""Expected bucket sizes of a data preview, derived from the seed: the documented defaults of
``idf:buckets.<role>.expected_size_gb``.

Storage is the cost driver of a cloud IDF (seed §2.3), so `idf cost` prices every bucket by
default. A bucket's size comes from its ``expected_size_gb`` in the stack file when set, else from
this module's default for its role and the stack's ``meta.data_preview``:

- ``butler_datastore`` (DP0.1): the sum over the seed's Appendix B (Table 3, dataset counts in the
  Gen3 registry) of count x typical file size. Image sizes are *derived* from pixel geometry
  (uncompressed FITS, so upper bounds): a DC2 sensor is 4096 x 4096 pixels (LSST CCDs are 4k x 4k,
  16-bit raw; DC2's imSim writes them at that size); a calexp stores image (float32), mask
  (int32) and variance (float32), 12 bytes per pixel; a DC2 coadd patch is 4000 x 4000 pixels plus
  a 100-pixel overlap on each side (4200 x 4200). Catalog and small-file sizes are *assumed*
  (marked so below): the seed gives no sizes, re-check against the repository's real usage
  (`gsutil du -s`) before a budget.
- ``qserv_ingest`` (DP0.1): the DP0.1 catalog volume, rows x row width. Row widths are computed
  from the Felis schema (lsst-sdm-schemas ``dp01_dc2.yaml``: long/double 8 B, int/float 4 B,
  short 2 B, byte/boolean 1 B, char/string their length); the row count is the DP0.1 Object
  catalog's ~147 million objects (recalled from the DP0.1 documentation, dp0-1.lsst.io; not in a
  stored copy), one row per object in object, position, reference and forced_photometry and 10 %
  more in truth_match, as the local generator models it.
- ``backups``: a month of daily registry exports (30 x the registry size, assumed 2 kB per dataset
  of Table 3).
- Other roles, other data previews (DP0.2 has no Appendix B) and stacks serving none: no default,
  the estimate says so and asks for ``expected_size_gb``.

The lesser-used collections (what the seed's mitigation would keep at NCSA and expose through
S3, §2.3) are the processing inputs and intermediates users of DP0.1 rarely read: raws,
calibration frames and the per-visit and per-patch by-products; users read calexps, coadds
(deepCoadd_calexp) and the catalogs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

__all__ = [
    "APPENDIX_B_COUNTS",
    "DP01_OBJECTS",
    "TYPICAL_FILE_MB",
    "BucketSize",
    "catalog_volume_gb",
    "datastore_volume_gb",
    "default_bucket_size",
    "lesser_used_volume",
]

MB_PER_GB = 1000.0
_SENSOR_PIXELS = 4096 * 4096
_PATCH_PIXELS = 4200 * 4200

#: Seed Appendix B, Table 3: counts of each dataset type in the DP0.1 Gen3 registry.
APPENDIX_B_COUNTS: dict[str, int] = {
    "skyMap": 1,
    "raw": 3_652_567,
    "icSrc": 3_651_927,
    "calexp": 3_651_777,
    "calexpBackground": 3_651_777,
    "src": 3_651_777,
    "srcMatch": 3_651_777,
    "skyCorr": 3_650_625,
    "deepCoadd": 42_206,
    "deepCoadd_calexp": 42_206,
    "deepCoadd_calexp_background": 42_206,
    "deepCoadd_deblendedFlux": 42_206,
    "deepCoadd_det": 42_206,
    "deepCoadd_forced_src": 42_206,
    "deepCoadd_mcalmax_deblended": 7_042,
    "deepCoadd_meas": 42_206,
    "deepCoadd_measMatch": 42_206,
    "deepCoadd_measMatchFull": 42_206,
    "deepCoadd_mergeDet": 7_043,
    "deepCoadd_ngmix_deblended": 7_005,
    "deepCoadd_nImage": 42_206,
    "deepCoadd_ref": 7_043,
    "camera": 1,
    "bias": 189,
    "dark": 189,
    "flat": 1_134,
    "cal_ref_cat_2_2": 1_213,
    "packages": 4,
    # the 14 *_schema dataset types (1 to 3 files each, a few kB) are left out: < 1 MB in all.
}

#: Typical file size (MB) per dataset type: "derived" from pixel geometry or "assumed".
TYPICAL_FILE_MB: dict[str, tuple[float, str]] = {
    "raw": (_SENSOR_PIXELS * 2 / 1e6, "derived: 4096^2 px x 2 B (16-bit raw)"),
    "calexp": (_SENSOR_PIXELS * 12 / 1e6, "derived: 4096^2 px x 12 B (image, mask, variance)"),
    "bias": (_SENSOR_PIXELS * 4 / 1e6, "derived: 4096^2 px x 4 B (float32)"),
    "dark": (_SENSOR_PIXELS * 4 / 1e6, "derived: 4096^2 px x 4 B (float32)"),
    "flat": (_SENSOR_PIXELS * 4 / 1e6, "derived: 4096^2 px x 4 B (float32)"),
    "deepCoadd": (_PATCH_PIXELS * 12 / 1e6, "derived: 4200^2 px x 12 B"),
    "deepCoadd_calexp": (_PATCH_PIXELS * 12 / 1e6, "derived: 4200^2 px x 12 B"),
    "deepCoadd_nImage": (_PATCH_PIXELS * 4 / 1e6, "derived: 4200^2 px x 4 B (int32)"),
    "calexpBackground": (0.1, "assumed: binned background model"),
    "skyCorr": (0.1, "assumed: binned sky correction"),
    "icSrc": (1.0, "assumed: bright-star catalog per sensor"),
    "src": (5.0, "assumed: source catalog per sensor"),
    "srcMatch": (0.5, "assumed: reference matches per sensor"),
    "deepCoadd_calexp_background": (0.5, "assumed"),
    "deepCoadd_det": (5.0, "assumed"),
    "deepCoadd_meas": (50.0, "assumed: measurement catalog per patch and band"),
    "deepCoadd_forced_src": (50.0, "assumed: forced photometry per patch and band"),
    "deepCoadd_deblendedFlux": (20.0, "assumed"),
    "deepCoadd_measMatch": (1.0, "assumed"),
    "deepCoadd_measMatchFull": (5.0, "assumed"),
    "deepCoadd_mergeDet": (5.0, "assumed"),
    "deepCoadd_ref": (30.0, "assumed"),
    "deepCoadd_mcalmax_deblended": (30.0, "assumed"),
    "deepCoadd_ngmix_deblended": (30.0, "assumed"),
    "cal_ref_cat_2_2": (10.0, "assumed: one HTM shard of the reference catalog"),
    "skyMap": (1.0, "assumed"),
    "camera": (1.0, "assumed"),
    "packages": (0.1, "assumed"),
}

#: Dataset types users of DP0.1 rarely read: candidates for an external S3 store (seed §2.3).
LESSER_USED = frozenset(
    {
        "raw",
        "bias",
        "dark",
        "flat",
        "icSrc",
        "calexpBackground",
        "skyCorr",
        "srcMatch",
        "deepCoadd",
        "deepCoadd_calexp_background",
        "deepCoadd_nImage",
        "deepCoadd_det",
        "deepCoadd_measMatch",
        "deepCoadd_measMatchFull",
        "deepCoadd_mergeDet",
    }
)

#: DP0.1 Object catalog rows (~147 million; dp0-1.lsst.io, recalled, not in a stored copy).
DP01_OBJECTS = 147_000_000
_TRUTH_MATCH_FACTOR = 1.1
_REGISTRY_KB_PER_DATASET = 2.0
_BACKUP_EXPORTS_KEPT = 30
_FELIS_BYTES = {"long": 8, "double": 8, "int": 4, "float": 4, "short": 2, "byte": 1, "boolean": 1}


@dataclass(frozen=True)
class BucketSize:
    """A bucket's expected size and where the number came from."""

    gb: float | None
    source: str


def datastore_volume_gb(types: frozenset[str] | None = None) -> float:
    """GB of the DP0.1 Butler datastore (or of the dataset types ``types``): Appendix B x sizes."""
    return sum(
        count * TYPICAL_FILE_MB[name][0] / MB_PER_GB
        for name, count in APPENDIX_B_COUNTS.items()
        if types is None or name in types
    )


def lesser_used_volume() -> tuple[float, int]:
    """(GB, files) of the lesser-used DP0.1 collections."""
    files = sum(count for name, count in APPENDIX_B_COUNTS.items() if name in LESSER_USED)
    return datastore_volume_gb(LESSER_USED), files


@cache
def catalog_volume_gb() -> float:
    """GB of the DP0.1 catalogs: Felis row widths x the DP0.1 row counts."""
    from idf_ops.catalogs.schema import felis_schema  # noqa: PLC0415 - felis on first use (~1 s)

    total = 0.0
    for table in felis_schema().tables:
        width = sum(
            _FELIS_BYTES.get(str(column.datatype), int(getattr(column, "length", None) or 16))
            for column in table.columns
        )
        rows = DP01_OBJECTS * (_TRUTH_MATCH_FACTOR if table.name == "truth_match" else 1.0)
        total += width * rows / 1e9
    return total


def default_bucket_size(role: str, data_preview: str) -> BucketSize:
    """The documented default size of bucket role ``role`` for ``data_preview`` (module docstring)."""
    if data_preview != "dp0.1":
        return BucketSize(None, f"no default for data preview {data_preview!r}: set expected_size_gb")
    if role == "butler_datastore":
        return BucketSize(
            datastore_volume_gb(), "seed Appendix B counts x typical file sizes (idf_ops/cost/volumes.py)"
        )
    if role == "qserv_ingest":
        return BucketSize(
            catalog_volume_gb(), "DP0.1 catalog volume: Felis row widths x ~147M objects (volumes.py)"
        )
    if role == "backups":
        datasets = sum(APPENDIX_B_COUNTS.values())
        gb = datasets * _REGISTRY_KB_PER_DATASET / 1e6 * _BACKUP_EXPORTS_KEPT
        return BucketSize(
            gb, f"{_BACKUP_EXPORTS_KEPT} daily registry exports, 2 kB x Appendix B datasets (assumed)"
        )
    return BucketSize(None, f"no default for bucket role {role!r}: set expected_size_gb")
