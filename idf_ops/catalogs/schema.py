"""The DP0.1 catalog schema as Felis publishes it: tables, columns, datatypes and key columns.

The single source is ``lsst-sdm-schemas``' ``archive/dp01_dc2.yaml`` read with lsst-felis; the
generator, the loader and the checksums take table and column definitions from here, never from a
hand-written list. The schema declares no primary keys, so :data:`KEY_COLUMNS` names the column that
identifies a row in each table (what DESC and Qserv use as the director / match key).

In PostgreSQL the columns are held under their lower-case names (:func:`pg_column`): ``felis create``
makes them quoted mixed-case (``"objectId"``), the ``catalogs`` role folds them, so that ADQL's
regular identifiers (``objectId``, ``OBJECTID``) reach them through DaCHS, which declares the Felis
spelling for TAP_SCHEMA (see ``ansible/roles/tap/README.md``).
"""

# felis is imported on first use (~1 s).
# ruff: noqa: PLC0415

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "KEY_COLUMNS",
    "POSITION_COLUMNS",
    "SCHEMA_NAME",
    "TABLE_NAMES",
    "felis_schema",
    "felis_yaml_path",
    "pg_column",
]

SCHEMA_NAME = "dp01_dc2_catalogs"

#: The five tables in load order (object first: the others refer to its objectIds).
TABLE_NAMES: tuple[str, ...] = ("object", "truth_match", "forced_photometry", "position", "reference")

#: Column identifying one row of each table (the Felis file declares no primary keys).
KEY_COLUMNS: dict[str, str] = {
    "object": "objectId",
    "truth_match": "id",
    "forced_photometry": "objectId",
    "position": "objectId",
    "reference": "objectId",
}

#: (ra, dec) columns of each table, in degrees: the q3c spatial index and cone searches use them.
POSITION_COLUMNS: dict[str, tuple[str, str]] = {
    "object": ("ra", "dec"),
    "truth_match": ("ra", "dec"),
    "forced_photometry": ("coord_ra", "coord_dec"),
    "position": ("coord_ra", "coord_dec"),
    "reference": ("coord_ra", "coord_dec"),
}


def felis_yaml_path() -> Path:
    """Path of the installed ``archive/dp01_dc2.yaml`` (lsst-sdm-schemas)."""
    return Path(str(files("lsst.sdm.schemas").joinpath("archive/dp01_dc2.yaml")))


@cache
def felis_schema() -> Any:  # felis.datamodel.Schema, imported lazily
    """The validated Felis model of ``dp01_dc2_catalogs`` (cached; ~1 s to build)."""
    from felis.datamodel import Schema

    return Schema.model_validate(yaml.safe_load(felis_yaml_path().read_text()))


def pg_column(name: str) -> str:
    """The PostgreSQL column holding Felis column ``name``: its lower-case form (an unquoted
    identifier folds to it, so SQL and DaCHS' ADQL reach it in any case)."""
    return name.lower()
