"""Create the processing Butler repository and register the small DP0.2 input dataset in it.

Run inside the batch environment (`python -m idf_batch_tasks.inputs --help`) by the `batch`
Ansible role. The repository is the processing Butler: a PostgreSQL registry on the same server
as the read-only DP0.1 registry (its own database, owned by the processing role that may write)
and a directory datastore. The input is generated and DC2-shaped: skymap `DC2`, real DC2 tract
numbers, 7 x 7 patches per tract, bands u..y, one per-patch catalog per (tract, patch, band) with
positions inside the patch. Everything is idempotent: existing records and datasets are kept.

Printed on stdout: one JSON object (repo, input collection, dataset and quantum counts).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

from lsst.daf.butler import Butler, CollectionType, Config, DatasetType
from lsst.sphgeom import Box, LonLat

__all__ = [
    "DC2_TRACTS",
    "INPUT_COLLECTION",
    "INPUT_DATASET_TYPE",
    "INSTRUMENT",
    "SKYMAP",
    "main",
    "quanta_for",
]

SKYMAP = "DC2"
# DC2's instrument name in Rubin's DP0.2 repository; the class is not importable (no obs package):
# nothing here needs one, the record only carries the simulated filters.
INSTRUMENT = "LSSTCam-imSim"
# Tract numbers of the DC2 skymap over the simulated area (RA 50-75 deg, Dec -45 to -25 deg).
DC2_TRACTS = (3828, 3829, 3830, 3831, 4024, 4025, 4026, 4027, 4028, 4029, 4030, 4225, 4226, 4227, 4228, 4229)
PATCHES_PER_SIDE = 7
BANDS = ("u", "g", "r", "i", "z", "y")
INPUT_COLLECTION = "2.2i/inputs/dp02-small"
INPUT_DATASET_TYPE = "dp02_input_catalog"
TRACT_SIZE_DEG = 1.6


def quanta_for(tracts: int, patches: int, bands: int) -> int:
    """Quanta of pipelines/dp02_small.yaml over that input: measure + merge + gather + summary."""
    return tracts * patches * bands + tracts * patches + tracts + 1


def _tract_box(index: int) -> tuple[float, float]:
    """Lower-left corner (ra, dec) of the index-th tract, tiled over the DC2 area."""
    per_row = 8
    return 55.0 + (index % per_row) * TRACT_SIZE_DEG, -44.0 + (index // per_row) * TRACT_SIZE_DEG


def _patch_box(tract_index: int, patch: int) -> Box:
    ra0, dec0 = _tract_box(tract_index)
    step = TRACT_SIZE_DEG / PATCHES_PER_SIDE
    px, py = patch % PATCHES_PER_SIDE, patch // PATCHES_PER_SIDE
    return Box.fromDegrees(ra0 + px * step, dec0 + py * step, ra0 + (px + 1) * step, dec0 + (py + 1) * step)


def _catalog(tract: int, patch: int, band: str, box: Box, sources: int) -> dict[str, Any]:
    rng = random.Random(f"{tract}-{patch}-{band}")  # noqa: S311 - synthetic data, not a secret
    ra_lo, ra_hi = box.getLon().getA().asDegrees(), box.getLon().getB().asDegrees()
    dec_lo, dec_hi = box.getLat().getA().asDegrees(), box.getLat().getB().asDegrees()
    ra = [rng.uniform(ra_lo, ra_hi) for _ in range(sources)]
    dec = [rng.uniform(dec_lo, dec_hi) for _ in range(sources)]
    flux = [rng.lognormvariate(7.0, 1.5) for _ in range(sources)]
    flux_err = [max(1.0, f**0.5) for f in flux]
    for r, d in zip(ra, dec, strict=True):
        if not box.contains(LonLat.fromDegrees(r, d)):
            raise AssertionError(f"generated position ({r}, {d}) outside patch {tract}/{patch}")
    return {
        "tract": tract,
        "patch": patch,
        "band": band,
        "ra": ra,
        "dec": dec,
        "flux": flux,
        "flux_err": flux_err,
    }


def create_repo(root: Path, db_url: str) -> bool:
    """Create the repository unless its butler.yaml exists; True when it was created now."""
    if (root / "butler.yaml").exists():
        return False
    Butler.makeRepo(str(root), config=Config({"registry": {"db": db_url}}))
    return True


def write_readonly_config(root: Path, reader_db_url: str, host_root: str, path: Path) -> None:
    """Write the users' read-only config: the repository's own, with the SELECT-only registry role
    and the datastore root as the host sees it (users open it from the host's notebooks)."""
    config = Config(str(root / "butler.yaml"))
    config["registry", "db"] = reader_db_url
    config["datastore", "root"] = f"file://{host_root}{root}/"
    text = (
        "# Read-only view of the processing Butler (SELECT-only role). Written by idf_batch_tasks.inputs.\n"
    )
    text += config.dump() or ""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.chmod(0o644)
    tmp.replace(path)


def register(butler: Butler, tracts: int, patches: int, bands: int, sources: int) -> int:
    """Register dimension records and the input datasets; return how many datasets were new."""
    registry = butler.registry
    registry.syncDimensionData(
        "skymap",
        {
            "name": SKYMAP,
            "hash": b"idf-dc2-rehearsal",
            "tract_max": max(DC2_TRACTS) + 1,
            "patch_nx_max": PATCHES_PER_SIDE,
            "patch_ny_max": PATCHES_PER_SIDE,
        },
    )
    # Bands exist through an instrument's physical filters (the dimension universe derives `band`
    # from `physical_filter`): DC2's simulated LSSTCam filters, as the DP0.2 repository has them.
    registry.syncDimensionData(
        "instrument",
        {
            "name": INSTRUMENT,
            "visit_max": 10_000_000,
            "visit_system": 1,
            "exposure_max": 10_000_000,
            "detector_max": 1000,
            "class_name": "idf_batch_tasks.inputs.NoInstrumentClass",
        },
    )
    for band in BANDS[:bands]:
        registry.syncDimensionData(
            "physical_filter", {"instrument": INSTRUMENT, "name": f"{band}_sim_1.4", "band": band}
        )
    registry.registerDatasetType(
        DatasetType(
            INPUT_DATASET_TYPE,
            ("skymap", "tract", "patch", "band"),
            "StructuredDataDict",
            universe=butler.dimensions,
        )
    )
    registry.registerCollection(INPUT_COLLECTION, CollectionType.RUN)
    new = 0
    for tract_index, tract in enumerate(DC2_TRACTS[:tracts]):
        ra0, dec0 = _tract_box(tract_index)
        tract_region = Box.fromDegrees(ra0, dec0, ra0 + TRACT_SIZE_DEG, dec0 + TRACT_SIZE_DEG)
        registry.syncDimensionData("tract", {"skymap": SKYMAP, "id": tract, "region": tract_region})
        for patch in range(patches):
            box = _patch_box(tract_index, patch)
            registry.syncDimensionData(
                "patch",
                {
                    "skymap": SKYMAP,
                    "tract": tract,
                    "id": patch,
                    "cell_x": patch % PATCHES_PER_SIDE,
                    "cell_y": patch // PATCHES_PER_SIDE,
                    "region": box,
                },
            )
            for band in BANDS[:bands]:
                data_id = {"skymap": SKYMAP, "tract": tract, "patch": patch, "band": band}
                if butler.find_dataset(INPUT_DATASET_TYPE, data_id, collections=INPUT_COLLECTION) is not None:
                    continue
                butler.put(
                    _catalog(tract, patch, band, box, sources),
                    INPUT_DATASET_TYPE,
                    data_id,
                    run=INPUT_COLLECTION,
                )
                new += 1
    return new


def main(argv: list[str] | None = None) -> int:
    """Command line: create the repository if needed, register the input, print a JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True, help="Repository root (a directory).")
    parser.add_argument(
        "--db-url", required=True, help="Registry URL, postgresql+psycopg2://user@host:port/db."
    )
    parser.add_argument("--tracts", type=int, default=2, help=f"Tracts (1-{len(DC2_TRACTS)}).")
    parser.add_argument(
        "--patches", type=int, default=9, help=f"Patches per tract (1-{PATCHES_PER_SIDE**2})."
    )
    parser.add_argument("--bands", type=int, default=3, help=f"Bands (1-{len(BANDS)}).")
    parser.add_argument("--sources", type=int, default=200, help="Sources per input catalog.")
    parser.add_argument("--readonly-config", type=Path, help="Where to write the users' read-only config.")
    parser.add_argument("--reader-db-url", default="", help="Registry URL of the SELECT-only role.")
    parser.add_argument("--host-root", default="", help="Path of this environment's root on the host.")
    args = parser.parse_args(argv)
    limits = {"tracts": len(DC2_TRACTS), "patches": PATCHES_PER_SIDE**2, "bands": len(BANDS)}
    for name, limit in limits.items():
        if not 1 <= getattr(args, name) <= limit:
            print(f"inputs: --{name} must be between 1 and {limit}", file=sys.stderr)
            return 2
    created = create_repo(args.repo, args.db_url)
    butler = Butler.from_config(str(args.repo), writeable=True)
    new = register(butler, args.tracts, args.patches, args.bands, args.sources)
    if args.readonly_config is not None:
        write_readonly_config(args.repo, args.reader_db_url, args.host_root, args.readonly_config)
    datasets = args.tracts * args.patches * args.bands
    print(
        json.dumps(
            {
                "repo": str(args.repo),
                "created": created,
                "input_collection": INPUT_COLLECTION,
                "input_datasets": datasets,
                "new_datasets": new,
                "expected_quanta": quanta_for(args.tracts, args.patches, args.bands),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
