"""Query sets render into checkable queries; VOTable verdicts; the DaCHS spelling of ADQL."""

from __future__ import annotations

import random

import pytest

from loadtests.querysets import adapt_adql, load_cell_set, load_query_set, render
from loadtests.users.votable import check_votable


def _votable(status: str, rows: int = 0) -> bytes:
    body = "".join(f"<TR><TD>{i}</TD></TR>" for i in range(rows))
    table = (
        f'<TABLE><FIELD name="objectId" datatype="long"/><DATA><TABLEDATA>{body}</TABLEDATA></DATA></TABLE>'
    )
    return (
        f'<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE type="results">'
        f'<INFO name="QUERY_STATUS" value="{status}">message</INFO>{table if rows else ""}'
        "</RESOURCE></VOTABLE>"
    ).encode()


def test_ok_votable_counts_rows() -> None:
    verdict = check_votable(_votable("OK", 3))
    assert verdict.ok and verdict.rows == 3


def test_error_votable_is_not_ok() -> None:
    verdict = check_votable(_votable("ERROR"))
    assert not verdict.ok and verdict.status == "ERROR"


@pytest.mark.parametrize(
    "body", [b"", b"<html>Bad gateway</html>", b'<VOTABLE version="1.4"><RESOURCE/></VOTABLE>']
)
def test_non_votable_or_statusless_is_rejected(body: bytes) -> None:
    with pytest.raises(ValueError, match=r"VOTable"):
        check_votable(body)


@pytest.mark.parametrize("name", ["tap", "qserv"])
def test_every_template_renders_in_every_dialect(name: str) -> None:
    queries = load_query_set(name)
    rng = random.Random(1)  # noqa: S311 - query parameters, not secrets
    for template in queries.low_volume + queries.high_volume:
        for dialect in template.text:
            text = render(template, dialect, queries.area, list(range(1, 100)), rng).text
            assert "{" not in text and "}" not in text, (template.kind, text)


def test_id_lookups_expect_one_row_per_id() -> None:
    queries = load_query_set("tap")
    several = next(t for t in queries.low_volume if t.kind == "tap.lv.objectid.several")
    query = render(several, "adql", queries.area, list(range(1, 100)), random.Random(2))  # noqa: S311
    assert query.rows_exact == 10
    assert query.check_rows(10) is None
    assert "expected exactly 10" in (query.check_rows(9) or "")


def test_adql_avoids_dachs_dialect_limits() -> None:
    """FIELD-NOTES: DaCHS 2.7 has no `<>`; Rubin's ADQL has no `!=`; `position` must be quoted."""
    queries = load_query_set("tap")
    for template in queries.low_volume + queries.high_volume:
        text = template.text["adql"]
        assert "<>" not in text and "!=" not in text, template.kind
        assert ".position " not in text, template.kind


def test_dachs_spelling_renames_position_and_keeps_columns_as_users_write_them() -> None:
    text = (
        'SELECT o.objectId, ra FROM dp01_dc2_catalogs."position" AS o '
        "WHERE o.mag_r_cModel < 20 AND 'ICRS' = 'ICRS'"
    )
    adapted = adapt_adql(text, "dachs")
    assert adapted == (
        "SELECT o.objectId, ra FROM dp01_dc2_catalogs.position_ AS o "
        "WHERE o.mag_r_cModel < 20 AND 'ICRS' = 'ICRS'"
    )
    assert adapt_adql(text, "rubin") == text


def test_qserv_dialects_differ_where_they_must() -> None:
    queries = load_query_set("qserv")
    cone = next(t for t in queries.low_volume if t.kind == "qserv.lv.cone.object")
    assert "scisql_s2PtInCircle" in cone.text["qserv"]
    assert "scisql" not in cone.text["mariadb-standin"]
    box = next(t for t in queries.low_volume if t.kind == "qserv.lv.box.object")
    assert "qserv_areaspec_box" in box.text["qserv"] and "BETWEEN" in box.text["mariadb-standin"]


def test_cells_have_expected_output() -> None:
    assert all(cell.expect_output for cell in load_cell_set().cells)
