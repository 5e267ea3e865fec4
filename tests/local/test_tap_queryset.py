"""The TAP query set (loadtests/data/tap.yaml), written as users write it, against the live local TAP.

Every template is rendered at a point where it must find rows, sent to the balancer, and must come
back with QUERY_STATUS OK (pyvo raises on ERROR) and rows in the parsed VOTable; the same query with
its column names upper-cased and lower-cased must give the same rows (ADQL regular identifiers are
case-insensitive, issue 12). Needs `idf local up` (marker ``local_stack``).
"""

from __future__ import annotations

import random
import re
from functools import cache

import pytest
import pyvo

from idf_ops.catalogs.schema import felis_schema
from idf_ops.local.settings import TAP_URL
from loadtests.querysets import Area, QueryTemplate, adapt_adql, load_query_set, render

pytestmark = pytest.mark.local_stack

QUERY_SET = load_query_set("tap")
# Full-table scans take ~10 s each here with their two re-cased runs: outside the CI budget.
TEMPLATES = [pytest.param(t, id=t.kind) for t in QUERY_SET.low_volume] + [
    pytest.param(t, id=t.kind, marks=pytest.mark.slow) for t in QUERY_SET.high_volume
]
# Quoted parts (string literals, delimited identifiers) are never re-cased.
_QUOTED_OR_WORD = re.compile(r"('[^']*'|\"[^\"]*\"|\b[A-Za-z_][A-Za-z0-9_]*\b)")


@cache
def column_names() -> frozenset[str]:
    return frozenset(column.name.lower() for table in felis_schema().tables for column in table.columns)


def recase(text: str, case: str) -> str:
    """``text`` with every catalog column name written in upper or lower case."""

    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token[0] in "'\"" or token.lower() not in column_names():
            return token
        return token.upper() if case == "upper" else token.lower()

    return _QUOTED_OR_WORD.sub(one, text)


@pytest.fixture(scope="module")
def tap() -> pyvo.dal.TAPService:
    return pyvo.dal.TAPService(TAP_URL)


@pytest.fixture(scope="module")
def object_ids(tap: pyvo.dal.TAPService) -> list[int]:
    sample = QUERY_SET.object_id_sample["adql"].format(limit=50)
    return [int(value) for value in tap.run_sync(sample)["objectId"]]


@pytest.fixture(scope="module")
def close_pair_point(tap: pyvo.dal.TAPService) -> tuple[float, float]:
    """A point of an object with a neighbour closer than 5 arcsec (the near-neighbour query finds rows)."""
    result = tap.run_sync(
        "SELECT TOP 1 a.ra, a.dec FROM dp01_dc2_catalogs.object AS a JOIN dp01_dc2_catalogs.object AS b "
        "ON 1 = CONTAINS(POINT('ICRS', b.ra, b.dec), CIRCLE('ICRS', a.ra, a.dec, 0.0014)) "
        # A fifth of the area: a few seconds even on a busy machine (~15 such pairs expected there).
        "WHERE a.ra BETWEEN 50 AND 55 AND a.objectId < b.objectId"
    )
    assert len(result) == 1, "the catalog has no pair closer than 5 arcsec"
    return float(result["ra"][0]), float(result["dec"][0])


@pytest.fixture(scope="module")
def object_point(tap: pyvo.dal.TAPService, object_ids: list[int]) -> tuple[float, float]:
    query = f"SELECT ra, dec FROM dp01_dc2_catalogs.object WHERE objectId = {object_ids[0]}"  # noqa: S608
    result = tap.run_sync(query)
    return float(result["ra"][0]), float(result["dec"][0])


def _at(point: tuple[float, float]) -> Area:
    """A degenerate area: every random position falls on ``point`` (an object), so cones find it."""
    ra, dec = point
    return Area(ra_min_deg=ra, ra_max_deg=ra + 1e-9, dec_min_deg=dec, dec_max_deg=dec + 1e-9)


def _rows(tap: pyvo.dal.TAPService, text: str) -> list[tuple[str, ...]]:
    table = tap.run_sync(text, maxrec=100_000).to_table()
    return sorted(tuple(str(value) for value in row) for row in table.iterrows())


@pytest.mark.parametrize("template", TEMPLATES)
def test_query_returns_rows_in_any_case(
    tap: pyvo.dal.TAPService,
    template: QueryTemplate,
    object_ids: list[int],
    object_point: tuple[float, float],
    close_pair_point: tuple[float, float],
) -> None:
    point = close_pair_point if template.kind == "tap.lv.near_neighbour" else object_point
    query = render(template, "adql", _at(point), object_ids, random.Random(12))  # noqa: S311 - test data
    text = adapt_adql(query.text, "dachs")
    rows = _rows(tap, text)
    assert rows, f"{template.kind}: no rows for {text}"
    assert query.check_rows(len(rows)) is None, f"{template.kind}: {query.check_rows(len(rows))}"
    for case in ("upper", "lower"):
        assert _rows(tap, recase(text, case)) == rows, f"{template.kind}: {case}-case names differ"


def test_recase_changes_columns_only() -> None:
    text = "SELECT o.objectId FROM dp01_dc2_catalogs.\"position\" AS o WHERE 'objectId' = o.mag_r_cModel"
    assert recase(text, "upper") == (
        "SELECT o.OBJECTID FROM dp01_dc2_catalogs.\"position\" AS o WHERE 'objectId' = o.MAG_R_CMODEL"
    )
