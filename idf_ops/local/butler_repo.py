"""The DP0.1 Gen3 Butler repository of the local stack (lsst-daf-butler, PostgreSQL registry).

:func:`build_repo` runs the shared bootstrap (:mod:`idf_ops.butler.bootstrap`, the same function the
cloud stacks' Job runs: extension, repository, the four RUN collections and their chain, Appendix B's
dataset types, the SELECT-only role's privileges), then adds what only the local stack has, each step
only when missing:

- dimension records: instrument ``LSSTCam-imSim`` (189 detectors, the six ``*_sim_1.4`` filters),
  the bands, and skymap ``DC2`` with its tracts and 7 x 7 patches over the DC2 footprint (from the
  simplified sky map of :mod:`idf_ops.catalogs.footprint`, with sphgeom regions);
- datasets that are stored and readable with PyPI software: ``packages`` (``Packages``, one per
  RUN as in Appendix B) and a local addition, ``objectTable_tract`` (``ArrowTable``): the object
  catalog rows of a few tracts, read from the Parquet files of the data load. Appendix B's own types
  (``ExposureF``, ``SourceCatalog``, ...) need the Science Pipelines (lsst.afw, lsst.obs_lsst), which
  are not on PyPI, so none of them holds data here;
- the user-facing read-only config: the same repository through the SELECT-only registry role.

The datastore is the repository root: a directory (the default) or ``s3://`` (the local S3 server
of the ``s3`` role, selected by ``idf_butler_datastore``).
"""

# lsst.daf.butler and sphgeom are imported inside the functions: `idf --help` stays fast.
# ruff: noqa: PLC0415

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from idf_core.errors import BadInput, OperationFailed
from idf_ops.butler.bootstrap import CHAIN, DATASET_TYPES, RUNS, BootstrapError, BootstrapSpec, bootstrap
from idf_ops.catalogs import footprint

__all__ = [
    "CHAIN",
    "DATASET_TYPES",
    "INSTRUMENT",
    "RUNS",
    "SKYMAP",
    "BuildResult",
    "build_repo",
    "write_readonly_config",
]

INSTRUMENT = "LSSTCam-imSim"
SKYMAP = "DC2"
_COADD_RUN = "2.2i/runs/DP0.1/coadd/wfd/dr6/v1"
_DETECTORS = 189
_FILTERS = {band: f"{band}_sim_1.4" for band in "ugrizy"}
#: Local addition (not in DP0.1): small per-tract object tables that PyPI software can store and read.
STORED_CATALOG_TYPE = ("objectTable_tract", ("skymap", "tract"), "ArrowTable")


@dataclass(frozen=True)
class BuildResult:
    """What :func:`build_repo` changed."""

    changed: bool
    steps: list[str]


def _box_region(ra_min: float, ra_max: float, dec_min: float, dec_max: float) -> Any:
    from lsst.sphgeom import ConvexPolygon, LonLat, UnitVector3d

    corners = [(ra_min, dec_min), (ra_max, dec_min), (ra_max, dec_max), (ra_min, dec_max)]
    return ConvexPolygon([UnitVector3d(LonLat.fromDegrees(ra, dec)) for ra, dec in corners])


def _insert_instrument(registry: Any) -> None:
    """Instrument, physical filters (bands follow from them) and detectors of LSSTCam-imSim."""
    registry.insertDimensionData(
        "instrument",
        {
            "name": INSTRUMENT,
            "visit_max": 10**8,
            "exposure_max": 10**8,
            "detector_max": _DETECTORS,
            "class_name": "lsst.obs.lsst.LsstCamImSim",
        },
    )
    registry.insertDimensionData(
        "physical_filter",
        *({"instrument": INSTRUMENT, "name": name, "band": band} for band, name in _FILTERS.items()),
    )
    registry.insertDimensionData(
        "detector",
        *(
            {
                "instrument": INSTRUMENT,
                "id": i,
                "full_name": f"R{i // 9:02d}_S{i % 9:02d}",
                "name_in_raft": f"S{i % 9:02d}",
                "raft": f"R{i // 9:02d}",
                "purpose": "SCIENCE",
            }
            for i in range(_DETECTORS)
        ),
    )


def _insert_dimensions(butler: Any, steps: list[str]) -> None:
    registry = butler.registry
    existing_instruments = {r.name for r in butler.query_dimension_records("instrument", explain=False)}
    if INSTRUMENT not in existing_instruments:
        with butler.transaction():
            _insert_instrument(registry)
        steps.append(f"instrument {INSTRUMENT}: {_DETECTORS} detectors, {len(_FILTERS)} filters")
    existing_skymaps = {r.name for r in butler.query_dimension_records("skymap", explain=False)}
    if SKYMAP not in existing_skymaps:
        tracts = footprint.footprint_tracts()
        n = footprint.PATCHES_PER_SIDE
        with butler.transaction():
            registry.insertDimensionData(
                "skymap",
                {
                    "name": SKYMAP,
                    "hash": hashlib.sha1(b"idf-dc2-rings-1.75deg-7x7").digest(),  # noqa: S324 - an identifier
                    "tract_max": max(t.tract_id for t in tracts) + 1,
                    "patch_nx_max": n,
                    "patch_ny_max": n,
                },
            )
            registry.insertDimensionData(
                "tract",
                *(
                    {
                        "skymap": SKYMAP,
                        "id": t.tract_id,
                        "region": _box_region(t.ra_min_deg, t.ra_max_deg, t.dec_min_deg, t.dec_max_deg),
                    }
                    for t in tracts
                ),
            )
            patches = []
            for t in tracts:
                width, height = (t.ra_max_deg - t.ra_min_deg) / n, (t.dec_max_deg - t.dec_min_deg) / n
                for x in range(n):
                    for y in range(n):
                        patches.append(
                            {
                                "skymap": SKYMAP,
                                "tract": t.tract_id,
                                "id": x * n + y,
                                "cell_x": x,
                                "cell_y": y,
                                "region": _box_region(
                                    t.ra_min_deg + x * width,
                                    t.ra_min_deg + (x + 1) * width,
                                    t.dec_min_deg + y * height,
                                    t.dec_min_deg + (y + 1) * height,
                                ),
                            }
                        )
            registry.insertDimensionData("patch", *patches)
        steps.append(f"skymap {SKYMAP}: {len(tracts)} tracts, {len(tracts) * n * n} patches")


def _store_datasets(butler: Any, catalog_dir: Path, stored_tracts: int, steps: list[str]) -> None:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    from lsst.utils.packages import Packages

    for run in RUNS:
        if butler.find_dataset("packages", collections=run) is None:
            butler.put(Packages.fromSystem(), "packages", run=run)
            steps.append(f"packages in {run}")
    parquet = catalog_dir / "object.parquet"
    if not parquet.exists():
        raise BadInput(f"{parquet}: the object catalog is missing; run the data load (role dataload) first.")
    objects = pq.read_table(parquet)
    tracts = sorted(set(pc.unique(objects.column("tract")).to_pylist()))[:stored_tracts]
    for tract in tracts:
        data_id = {"skymap": SKYMAP, "tract": int(tract)}
        if butler.find_dataset(STORED_CATALOG_TYPE[0], data_id, collections=_COADD_RUN) is not None:
            continue
        rows = objects.filter(pc.equal(objects.column("tract"), tract))
        butler.put(rows, STORED_CATALOG_TYPE[0], data_id, run=_COADD_RUN)
        steps.append(f"{STORED_CATALOG_TYPE[0]} tract {tract}: {rows.num_rows} rows")


def write_readonly_config(repo_uri: str, reader_db_url: str, readonly_config: Path) -> bool:
    """Write the read-only config: the repo's config with the SELECT-only registry URL and the
    datastore root spelled out (the file may live elsewhere than the repository's butler.yaml)."""
    from lsst.daf.butler import Config
    from lsst.resources import ResourcePath

    root = ResourcePath(repo_uri, forceDirectory=True)
    config = Config(root.join("butler.yaml"))
    config["registry", "db"] = reader_db_url
    config["datastore", "root"] = str(root)
    text = (
        "# Read-only view of the DP0.1 Butler: SELECT-only registry role. "
        "Generated by `idf local butler-build`.\n"
    )
    text += config.dump() or ""
    if readonly_config.exists() and readonly_config.read_text() == text:
        return False
    readonly_config.write_text(text)
    readonly_config.chmod(0o644)
    return True


def build_repo(
    repo_uri: str,
    *,
    db_url: str,
    reader_db_url: str,
    readonly_config: Path,
    catalog_dir: Path,
    stored_tracts: int,
) -> BuildResult:
    """Bootstrap (shared with the cloud Job) and complete the repository; see the module docstring."""
    from lsst.daf.butler import Butler
    from sqlalchemy.engine import make_url

    reader_role = make_url(reader_db_url).username or ""
    spec = BootstrapSpec(
        repo_uri=repo_uri,
        db_url=db_url,
        reader_role=reader_role,
        extra_dataset_types={STORED_CATALOG_TYPE[0]: (STORED_CATALOG_TYPE[1], STORED_CATALOG_TYPE[2], False)},
    )
    try:
        steps = list(bootstrap(spec).steps)
    except BootstrapError as exc:
        raise OperationFailed(f"butler: {exc}; then run `idf local up --only butler`.") from exc
    butler = Butler.from_config(repo_uri, writeable=True)
    try:
        _insert_dimensions(butler, steps)
        _store_datasets(butler, catalog_dir, stored_tracts, steps)
    finally:
        butler.close()
    if write_readonly_config(repo_uri, reader_db_url, readonly_config):
        steps.append(f"read-only config {readonly_config}")
    return BuildResult(changed=bool(steps), steps=steps)
