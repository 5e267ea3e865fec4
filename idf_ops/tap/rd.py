"""Generate the GAVO DaCHS resource descriptor (RD) of the DP0.1 catalogs from their Felis schema.

The RD is never written by hand: every table, column, datatype, unit, UCD and description comes
from the Felis YAML in lsst-sdm-schemas (``archive/dp01_dc2.yaml``), read through lsst-felis'
pydantic model. The tables already exist and hold data (the ``catalogs`` and ``dataload`` roles),
so the RD is imported metadata-only (``dachs imp -m``).

Mapping decisions (documented here because DaCHS and Felis differ):

- Felis datatypes map to the PostgreSQL types lsst-felis itself creates (``long`` -> ``bigint``,
  ``char`` with a length -> ``char(n)``, ...), so that DaCHS' declared type equals the on-disk one.
- Every column is declared as a DaCHS regular identifier under its Felis spelling (``objectId``):
  DaCHS lists that spelling in TAP_SCHEMA and the VOTable, resolves ADQL names without regard to
  case (``objectId``, ``OBJECTID``, ``objectid``) and writes them unquoted into SQL, where they
  fold to the lower-case columns PostgreSQL holds (the ``catalogs`` role folds felis' quoted names;
  :func:`idf_ops.catalogs.schema.pg_column`). A delimited ``"objectId"`` is case-sensitive in ADQL
  and is not found (``"objectid"`` is).
- Each table's main position is the column pair with UCDs ``pos.eq.ra`` / ``pos.eq.dec``. It is
  declared as a q3c index with ``metaOnly`` (the loader builds the real q3c index), which is what
  DaCHS' ADQL translator needs to turn ``CONTAINS(POINT, CIRCLE)`` into an indexed ``q3c_join``.
- ``tap:principal`` 1 -> verbosity level 10 (shown by default), 0 -> 30.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import yaml
from felis.datamodel import Column, Schema, Table
from pydantic import ValidationError

from idf_core.errors import BadInput
from idf_core.facts import TAP_SERVED_RENAMES
from idf_ops.catalogs.schema import pg_column

__all__ = [
    "DACHS_TYPES",
    "DEFAULT_TABLE_RENAMES",
    "default_felis_path",
    "felis_spellings",
    "generate_rd",
    "load_felis_schema",
    "parse_served_names",
    "position_columns",
    "respell_tableset",
    "served_names",
    "spelling_sql",
    "write_if_changed",
]

# Felis datatype -> DaCHS (PostgreSQL) column type; `char`/`string`/`unicode` get a length below.
DACHS_TYPES: dict[str, str] = {
    "boolean": "boolean",
    "byte": "smallint",
    "short": "smallint",
    "int": "integer",
    "long": "bigint",
    "float": "real",
    "double": "double precision",
    "char": "char",
    "string": "text",
    "unicode": "unicode",
    "text": "text",
    "binary": "bytea",
    "timestamp": "timestamp",
}

# Null literals for integer columns in VOTable TABLEDATA: the type's smallest value, never a real id.
_INTEGER_NULLS: dict[str, str] = {
    "smallint": str(-(2**15)),
    "integer": str(-(2**31)),
    "bigint": str(-(2**63)),
}

# DaCHS 2.7 refuses tables named after ADQL reserved words (``position``): such a table is served
# through a view under this name, created by DaCHS itself from the RD (``dachs imp RD views``).
DEFAULT_TABLE_RENAMES: dict[str, str] = dict(TAP_SERVED_RENAMES)  # defined once, in idf_core.facts

DP01_RELEASE_DATE = "2021-06-30T00:00:00Z"

_VERB_PRINCIPAL = "10"
_VERB_SECONDARY = "30"


def default_felis_path() -> Path:
    """The DP0.1 Felis schema shipped by lsst-sdm-schemas."""
    return Path(str(resources.files("lsst.sdm.schemas").joinpath("archive/dp01_dc2.yaml")))


def load_felis_schema(path: Path) -> Schema:
    """Read and validate a Felis YAML file; bad input becomes one actionable message."""
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise BadInput(
            f"{path}: cannot read the Felis schema ({exc.strerror}); pass an existing file."
        ) from exc
    except yaml.YAMLError as exc:
        raise BadInput(f"{path}: not valid YAML ({exc}); fix the file.") from exc
    try:
        return Schema.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise BadInput(
            f"{path}: key {where}: {first['msg']}; the file must be a Felis schema (lsst-felis datamodel)."
        ) from exc
    except (TypeError, ValueError) as exc:  # lsst-felis raises these for some bad values (datatypes)
        raise BadInput(
            f"{path}: key tables: {exc}; the file must be a Felis schema (lsst-felis datamodel)."
        ) from exc


def _dachs_name(name: str) -> str:
    """The Felis spelling, declared as a regular (case-insensitive) identifier."""
    return name


def _dachs_type(column: Column, table: Table, path: Path) -> str:
    datatype = column.datatype.value if column.datatype is not None else ""
    base_type = DACHS_TYPES.get(datatype)
    if base_type is None:
        raise BadInput(
            f"{path}: key tables.{table.name}.columns.{column.name}.datatype: {datatype!r} has no DaCHS "
            f"mapping; known Felis types are {', '.join(sorted(DACHS_TYPES))}."
        )
    if datatype == "char":
        return f"char({column.length})" if column.length else "char"
    return base_type


def position_columns(table: Table) -> tuple[str, str] | None:
    """The (ra, dec) column names of a table's main position, by UCD, or None without one."""
    ra = [c.name for c in table.columns if (c.ivoa_ucd or "").split(";")[0] == "pos.eq.ra"]
    dec = [c.name for c in table.columns if (c.ivoa_ucd or "").split(";")[0] == "pos.eq.dec"]
    if len(ra) == 1 and len(dec) == 1:
        return ra[0], dec[0]
    return None


def _sql_ident(name: str) -> str:
    return pg_column(name)


def _column_element(parent: ET.Element, column: Column, table: Table, path: Path) -> None:
    attrs = {
        "name": _dachs_name(column.name),
        "type": _dachs_type(column, table, path),
        "verbLevel": _VERB_PRINCIPAL if column.tap_principal else _VERB_SECONDARY,
        "required": "True" if column.nullable is False else "False",
    }
    unit = column.ivoa_unit or column.fits_tunit
    if unit:
        attrs["unit"] = unit
    if column.ivoa_ucd:
        attrs["ucd"] = column.ivoa_ucd
    element = ET.SubElement(parent, "column", attrs)
    if attrs["type"] in _INTEGER_NULLS and column.nullable is not False:
        ET.SubElement(element, "values", {"nullLiteral": _INTEGER_NULLS[attrs["type"]]})
    if column.description:
        ET.SubElement(element, "description").text = column.description.strip()


def _table_element(parent: ET.Element, table: Table, schema_name: str, served_name: str, path: Path) -> None:
    attrs = {"id": served_name, "onDisk": "True", "adql": "True"}
    if served_name != table.name:
        # A plain view: PostgreSQL inlines it, so the q3c index of the base table still serves cones.
        column_list = ", ".join(_sql_ident(column.name) for column in table.columns)
        attrs["viewStatement"] = (
            # Identifiers from the Felis schema, not user input.
            f"CREATE OR REPLACE VIEW \\qName AS (SELECT {column_list} FROM {schema_name}.{table.name})"  # noqa: S608
        )
    element = ET.SubElement(parent, "table", attrs)
    if table.description:
        description = table.description.strip()
        if served_name != table.name:
            description += (
                f" (Served as {served_name} because DaCHS does not accept the ADQL reserved word"
                f" {table.name!r} as a table name.)"
            )
        ET.SubElement(element, "meta", {"name": "description"}).text = description
    for column in table.columns:
        _column_element(element, column, table, path)
    position = position_columns(table)
    if position is not None:
        ra, dec = position
        index = ET.SubElement(
            element,
            "index",
            {
                "name": f"q3c_{served_name}",
                "columns": f"{ra},{dec}",
                "kind": "q3c",
                # The loader builds the index; DaCHS must only know about it (ADQL -> q3c_join).
                "metaOnly": "True",
            },
        )
        index.text = f"q3c_ang2ipix({_sql_ident(ra)}, {_sql_ident(dec)})"


def served_names(schema: Schema, renames: dict[str, str] | None = None) -> dict[str, str]:
    """Felis table name -> name under which DaCHS serves it (equal unless DaCHS refuses the name)."""
    renames = DEFAULT_TABLE_RENAMES if renames is None else renames
    return {table.name: renames.get(table.name, table.name) for table in schema.tables}


def generate_rd(
    schema: Schema, path: Path, title: str, creator: str, renames: dict[str, str] | None = None
) -> str:
    """Return the RD (XML text) declaring every table of ``schema`` for TAP.

    Data element ``import`` names the loaded tables (``dachs imp -m``: metadata only); data element
    ``views`` creates the views of renamed tables (``dachs imp RD views``: cheap, no data copied).
    """
    names = served_names(schema, renames)
    resource = ET.Element("resource", {"schema": schema.name, "resdir": "."})
    ET.SubElement(resource, "meta", {"name": "title"}).text = title
    if schema.description:
        ET.SubElement(resource, "meta", {"name": "description"}).text = schema.description.strip()
    ET.SubElement(resource, "meta", {"name": "creator"}).text = creator
    ET.SubElement(resource, "meta", {"name": "subject"}).text = "Astronomical catalogs"
    # A fixed date (DP0.1's release), never the generation time: the RD only changes with the schema.
    ET.SubElement(resource, "meta", {"name": "creationDate"}).text = DP01_RELEASE_DATE
    for table in schema.tables:
        _table_element(resource, table, schema.name, names[table.name], path)
    # The tables are loaded outside DaCHS: this data element only names them, for `dachs imp -m`.
    data = ET.SubElement(resource, "data", {"id": "import"})
    for table in schema.tables:
        if names[table.name] == table.name:
            ET.SubElement(data, "make", {"table": table.name})
    views = ET.SubElement(resource, "data", {"id": "views"})
    for table in schema.tables:
        if names[table.name] != table.name:
            ET.SubElement(views, "make", {"table": names[table.name]})
    ET.indent(resource, space="  ")
    header = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f"<!-- Generated by idf_ops.tap.rd from {path.name} (lsst-sdm-schemas); do not edit. -->\n"
    )
    return header + ET.tostring(resource, encoding="unicode") + "\n"


def write_if_changed(target: Path, text: str) -> bool:
    """Write ``text`` to ``target`` only when it differs; return True when the file changed."""
    if target.exists() and target.read_text() == text:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(target)
    return True


def parse_served_names(text: str | None) -> dict[str, str] | None:
    """The `--served-names` JSON object (Felis table -> served name); None when not given."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(
            f'--served-names: not JSON ({exc.msg}); pass an object such as \'{{"position": "position_"}}\'.'
        ) from exc
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise BadInput("--served-names: must be a JSON object of table name -> served name (strings).")
    return value


_REGULAR_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def felis_spellings(schema: Schema, renames: dict[str, str] | None = None) -> dict[str, dict[str, str]]:
    """Served qualified table name (lower case) -> {lower-case column name: Felis spelling}."""
    names = served_names(schema, renames)
    spellings: dict[str, dict[str, str]] = {}
    for table in schema.tables:
        qualified = f"{schema.name}.{names[table.name]}".lower()
        spellings[qualified] = {column.name.lower(): column.name for column in table.columns}
    return spellings


def spelling_sql(schema: Schema, renames: dict[str, str] | None = None) -> str:
    """SQL giving TAP_SCHEMA.columns the Felis spelling of every mixed-case column.

    DaCHS 2.7 writes regular identifiers lower-case into TAP_SCHEMA (``tap.rd``: ``col.name.lower()``)
    although it resolves them in any case; clients (pyvo, the Portal) show TAP_SCHEMA, so the
    spelling of the schema (``objectId``) is put back after every ``dachs imp``.
    """
    rows = []
    for table, columns in sorted(felis_spellings(schema, renames).items()):
        for lower, felis in sorted(columns.items()):
            if lower == felis:
                continue
            if not _REGULAR_IDENTIFIER.match(felis) or not _REGULAR_IDENTIFIER.match(table.replace(".", "_")):
                raise BadInput(f"{table}.{felis}: not an ADQL regular identifier; fix the Felis schema.")
            rows.append(f"('{table}', '{felis}')")
    if not rows:
        return "SELECT 0;\n"
    values = ",\n  ".join(rows)
    return (
        "UPDATE tap_schema.columns AS c SET column_name = f.felis\n"  # noqa: S608 - names checked above
        f"FROM (VALUES\n  {values}\n) AS f(table_name, felis)\n"
        "WHERE c.table_name = f.table_name AND c.column_name = lower(f.felis);\n"
    )


_COLUMN_NAME = re.compile(r"(<column\b[^>]*>\s*<name>)([^<]+)(</name>)")
_TABLE_NAME = re.compile(r"<table\b[^>]*>\s*<name>([^<]+)</name>")


def respell_tableset(document: str, schema: Schema, renames: dict[str, str] | None = None) -> str:
    """The VOSI tableset DaCHS writes, with the Felis spelling of every column name.

    DaCHS' tableset writer lower-cases regular identifiers like its TAP_SCHEMA writer (see
    :func:`spelling_sql`); a text substitution keeps every other byte (namespace prefixes that
    ``xsi:type`` values refer to would not survive an XML round trip through ElementTree).
    """
    spellings = felis_spellings(schema, renames)
    pieces = re.split(r"(?=<table\b)", document)
    out = []
    for piece in pieces:
        found = _TABLE_NAME.match(piece)
        columns = spellings.get(found.group(1).strip().lower(), {}) if found else {}
        out.append(
            _COLUMN_NAME.sub(
                lambda m, cols=columns: m.group(1) + cols.get(m.group(2).strip(), m.group(2)) + m.group(3),
                piece,
            )
            if columns
            else piece
        )
    return "".join(out)
