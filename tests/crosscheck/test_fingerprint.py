"""The fingerprint's two halves agree: the text Python hashes for a row is the text MariaDB builds
from the SQL of :mod:`idf_ops.catalogs.crosscheck` (checked offline on the formatting rules here,
and against a live MariaDB where one answers: the stand-in's own server, no tables needed)."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pymysql
import pytest

from idf_core.facts import QSERV_INSTANCES
from idf_ops.catalogs import crosscheck as xc


def test_row_text_formats_each_kind() -> None:
    values = [42, 1.2345674, None, math.nan, "ab  ", True, np.float32(0.1)]
    kinds: list[xc.Kind] = ["int", "float", "float", "float", "str", "int", "float"]
    assert xc.row_text(values, kinds) == "42|1234567|<null>|<null>|ab|1|100000"


def test_float_rounding_is_half_to_even() -> None:
    # 0.5 and 2.5 micro-units: rint() rounds them to 0 and 2, as MariaDB's ROUND of a DOUBLE does.
    assert xc.row_text([0.5e-6, 2.5e-6], ["float", "float"]) == "0|2"


def test_hash_sql_names_every_column_with_a_null_marker() -> None:
    sql = xc._hash_sql([("objectId", "int"), ("ra", "float"), ("patch", "str")])
    assert sql.count("IFNULL(") == 3
    assert "ROUND(`ra` * 1000000)" in sql
    assert sql.startswith("CAST(CONV(SUBSTRING(MD5(CONCAT_WS('|', ")


@pytest.mark.local_stack
def test_mariadb_builds_the_same_text_and_hash() -> None:
    # (A CHAR column's trailing blanks are stripped by MariaDB itself; a CAST AS CHAR keeps them.)
    values = (123456789012, 52.123456789, None, "4,5", 0.1, 2.5e-6)
    kinds: list[xc.Kind] = ["int", "float", "float", "str", "float", "float"]
    columns = [(f"c{i}", k) for i, k in enumerate(kinds)]
    connection = pymysql.connect(unix_socket=QSERV_INSTANCES["idf"].admin_socket, user="root")
    with connection, connection.cursor() as cursor:
        # DOUBLE columns through a derived table, as the catalog columns are.
        cursor.execute(
            f"SELECT {xc._hash_sql(columns)} FROM (SELECT "  # noqa: S608
            + ", ".join(
                f"CAST(%s AS {'SIGNED' if k == 'int' else 'DOUBLE' if k == 'float' else 'CHAR'}) AS c{i}"
                for i, k in enumerate(kinds)
            )
            + ") AS t",
            values,
        )
        (database_hash,) = cursor.fetchone()
    text = xc.row_text(values, kinds)
    assert int(database_hash) == int(hashlib.md5(text.encode()).hexdigest()[:15], 16)  # noqa: S324
