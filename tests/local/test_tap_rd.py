"""The DaCHS resource descriptor is generated from the Felis YAML: every table and column, typed, indexed."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from idf_core.errors import BadInput
from idf_ops.cli.main import main
from idf_ops.tap import rd

FELIS = rd.default_felis_path()
SCHEMA = rd.load_felis_schema(FELIS)
TABLES = [table.name for table in SCHEMA.tables]


@pytest.fixture(scope="module")
def resource() -> ET.Element:
    text = rd.generate_rd(SCHEMA, FELIS, "title", "creator").split("\n", 2)[2]
    return ET.fromstring(text)  # noqa: S314 - our own generated text


def _served(table: str) -> str:
    return rd.DEFAULT_TABLE_RENAMES.get(table, table)


def _table_element(resource: ET.Element, table: str) -> ET.Element:
    found = resource.find(f"table[@id='{_served(table)}']")
    assert found is not None, f"table {table} missing from the RD"
    return found


@pytest.mark.parametrize("table", TABLES)
def test_every_felis_column_is_declared_with_its_type_unit_and_ucd(resource: ET.Element, table: str) -> None:
    felis_table = next(t for t in SCHEMA.tables if t.name == table)
    declared = {
        c.get("name", "").removeprefix("quoted/"): c
        for c in _table_element(resource, table).findall("column")
    }
    assert list(declared) == [c.name for c in felis_table.columns]
    for column in felis_table.columns:
        element = declared[column.name]
        assert element.get("type", "").startswith(rd.DACHS_TYPES[column.datatype.value]), column.name
        assert element.get("unit") == (column.ivoa_unit or column.fits_tunit or None), column.name
        assert element.get("ucd") == column.ivoa_ucd, column.name
        description = element.find("description")
        assert (description.text if description is not None else None) == (
            column.description or ""
        ).strip() or None


@pytest.mark.parametrize("table", TABLES)
def test_main_position_is_declared_as_a_q3c_index(resource: ET.Element, table: str) -> None:
    felis_table = next(t for t in SCHEMA.tables if t.name == table)
    ra, dec = rd.position_columns(felis_table) or ("", "")
    index = _table_element(resource, table).find("index")
    assert index is not None and index.get("kind") == "q3c" and index.get("metaOnly") == "True"
    assert index.get("columns") == f"{ra},{dec}"


def test_reserved_table_name_is_served_through_a_view(resource: ET.Element) -> None:
    element = _table_element(resource, "position")
    assert element.get("id") == "position_"
    assert "FROM dp01_dc2_catalogs.position)" in (element.get("viewStatement") or "")
    views = resource.find("data[@id='views']")
    assert views is not None and [m.get("table") for m in views.findall("make")] == ["position_"]


def test_generation_is_deterministic() -> None:
    assert rd.generate_rd(SCHEMA, FELIS, "t", "c") == rd.generate_rd(SCHEMA, FELIS, "t", "c")


def test_unmapped_datatype_names_the_column(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(rd.DACHS_TYPES, "double")
    with pytest.raises(BadInput, match=r"tables\.position\.columns\.coord_ra\.datatype"):
        rd.generate_rd(SCHEMA, FELIS, "t", "c")


def test_invalid_felis_file_is_bad_input(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\ntables:\n- name: t\n  columns:\n  - name: c\n    datatype: nonsense\n")
    with pytest.raises(BadInput, match=r"broken\.yaml: key"):
        rd.load_felis_schema(broken)


def test_cli_rejects_bad_served_names_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tap", "rd", "--output", str(tmp_path / "q.rd"), "--served-names", "[1]"]) == 2
    assert not (tmp_path / "q.rd").exists()
    err = capsys.readouterr().err
    assert "--served-names: must be a JSON object" in err and "Traceback" not in err


def test_cli_writes_once_then_reports_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "q.rd"
    assert main(["tap", "rd", "--output", str(target)]) == 0
    assert main(["tap", "rd", "--output", str(target)]) == 0
    # The `tap` role's changed_when reads these lines.
    assert capsys.readouterr().out.splitlines() == [f"{target}: written", f"{target}: unchanged"]


@pytest.mark.local_stack
def test_deployed_rd_validates_with_dachs() -> None:
    result = subprocess.run(
        ["dachs", "val", "dp01_dc2/q"],
        cwd="/var/gavo/inputs",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.strip().splitlines()[-1] == "OK", result.stdout[-2000:]
