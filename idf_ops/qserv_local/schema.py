"""The MariaDB flavour of the DP0.1 Felis schema, and its creation with lsst-felis.

The Qserv stand-in holds the same five ``dp01_dc2_catalogs`` tables as PostgreSQL, created by
``felis create`` from a schema derived from lsst-sdm-schemas' ``archive/dp01_dc2.yaml``:

- column descriptions are dropped: MariaDB stores them as column comments and forced_photometry's
  747 comments exceed the table definition limit (``1117 Table definition is too large``);
  descriptions stay available from TAP and from the Felis file itself;
- every table with a sky position gets Qserv's partitioning columns ``chunkId`` and ``subChunkId``
  (``lsst.sphgeom`` ``Chunker(85, 12)``, see :mod:`idf_ops.qserv_local.chunking`) and an index on
  them, plus an index on its key column, as Qserv's director tables have.

MariaDB DDL is not transactional, so a failed ``felis create`` is retried once with ``--drop``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from idf_core.errors import OperationFailed
from idf_ops.catalogs.schema import KEY_COLUMNS, POSITION_COLUMNS, felis_yaml_path
from idf_ops.qserv_local.db import connect

__all__ = [
    "CHUNK_COLUMNS",
    "create_schema",
    "derived_schema",
    "ensure_schema",
    "expected_columns",
]

CHUNK_COLUMNS = ("chunkId", "subChunkId")


def derived_schema(source: Path | None = None) -> dict[str, Any]:
    """The Felis document MariaDB is created from (see module docstring), as plain YAML data."""
    document = yaml.safe_load((source or felis_yaml_path()).read_text())
    for table in document["tables"]:
        for column in table["columns"]:
            column.pop("description", None)
        name = table["name"]
        if name in POSITION_COLUMNS:
            table["columns"].extend(
                {
                    "name": column,
                    "@id": f"#{name}.{column}",
                    "datatype": "int",
                    "nullable": False,
                }
                for column in CHUNK_COLUMNS
            )
            table.setdefault("indexes", []).append(
                {
                    "name": f"IDX_{name}_chunk",
                    "@id": f"#IDX_{name}_chunk",
                    "columns": [f"#{name}.{column}" for column in CHUNK_COLUMNS],
                }
            )
        key = KEY_COLUMNS.get(name)
        if key is not None:
            table.setdefault("indexes", []).append(
                {"name": f"IDX_{name}_{key}", "@id": f"#IDX_{name}_{key}", "columns": [f"#{name}.{key}"]}
            )
    return document


def expected_columns(document: dict[str, Any]) -> dict[str, list[str]]:
    """Table -> column names, in order, that the derived schema creates."""
    return {table["name"]: [column["name"] for column in table["columns"]] for table in document["tables"]}


def _existing_columns(connection: Any, database: str) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME, ORDINAL_POSITION",
            (database,),
        )
        found: dict[str, list[str]] = {}
        for table, column in cursor.fetchall():
            found.setdefault(table, []).append(column)
    return found


def ensure_schema(
    connection: Any, engine_url: str, felis_bin: Path, derived_path: Path, source: Path | None = None
) -> bool:
    """Create the database with felis unless it already has exactly the derived tables; True if created."""
    document = derived_schema(source)
    text = yaml.safe_dump(document, sort_keys=False)
    derived_path.parent.mkdir(parents=True, exist_ok=True)
    if not derived_path.exists() or derived_path.read_text() != text:
        derived_path.write_text(text)
    wanted = expected_columns(document)
    if _existing_columns(connection, document["name"]) == wanted:
        return False
    command = [str(felis_bin), "create", "--engine-url", engine_url]
    first = subprocess.run(
        [*command, "--initialize", str(derived_path)], capture_output=True, text=True, check=False
    )
    if first.returncode != 0:
        # Non-transactional DDL may have left part of the schema behind: start again from nothing.
        second = subprocess.run(
            [*command, "--drop", str(derived_path)], capture_output=True, text=True, check=False
        )
        if second.returncode != 0:
            detail = (second.stderr or second.stdout).strip().splitlines()[-1:] or ["no output"]
            raise OperationFailed(
                f"qserv_local: felis create of {derived_path} failed twice ({detail[0]}); check that MariaDB "
                "answers (`mysql -e 'SELECT 1'`) and run `idf local up` again."
            )
    if _existing_columns(connection, document["name"]) != wanted:
        raise OperationFailed(
            f"qserv_local: after felis create, database {document['name']} does not hold the tables "
            f"of {derived_path}; inspect it with `mysql {document['name']}` and run `idf local up` again."
        )
    return True


def create_schema(socket: str, felis_bin: Path, derived_path: Path) -> bool:
    """Create the stand-in's tables over MariaDB's root unix socket (see :func:`ensure_schema`)."""
    url = f"mysql+pymysql://root@localhost/?unix_socket={socket}"
    with connect(socket) as connection:
        return ensure_schema(connection, url, felis_bin, derived_path)
