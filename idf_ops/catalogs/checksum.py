"""The content checksum of a catalog table, computable in Python, PostgreSQL and MariaDB alike.

Definition (the load manifest, the MariaDB stand-in loader and the readiness gates all use it):

    key_checksum(table) = SUM over rows of  int( first 15 hex digits of MD5( text(key) ) , 16 )

where ``key`` is the table's key column (:data:`idf_ops.catalogs.schema.KEY_COLUMNS`) and
``text(key)`` is its decimal text for integer keys and the value without trailing blanks for
``CHAR(n)`` keys (both databases strip CHAR padding when casting). Each term is < 2**60, so the sum is
exact in PostgreSQL ``numeric`` and MariaDB ``DECIMAL`` for any realistic row count; it is reported
as a decimal string. The checksum is order-independent (a sum), so any loader, any row order and
any chunking give the same value; together with the row count it detects missing, extra and
duplicated rows. It covers keys only, not the other column values.

Use :func:`checksum_sql` for the SQL of either dialect and :func:`arrow_checksum` for the expected
value computed from the Parquet file.
"""

from __future__ import annotations

import hashlib
from typing import Literal

import pyarrow as pa

from idf_ops.catalogs.schema import pg_column

__all__ = ["Dialect", "arrow_checksum", "checksum_sql", "key_hash"]

Dialect = Literal["postgresql", "mariadb"]


def key_hash(key_text: str) -> int:
    """The per-row term: the first 15 hex digits (60 bits) of MD5 of the key's text."""
    return int(hashlib.md5(key_text.encode()).hexdigest()[:15], 16)  # noqa: S324 - a checksum, not security


def arrow_checksum(keys: pa.Array | pa.ChunkedArray) -> tuple[int, str]:
    """(row count, checksum) of a key column read from Parquet."""
    total = 0
    for value in keys.to_pylist():
        text = str(value).rstrip(" ") if isinstance(value, str) else str(int(value))
        total += key_hash(text)
    return len(keys), str(total)


def checksum_sql(schema: str, table: str, key_column: str, dialect: Dialect) -> str:
    """SQL returning one row ``(row_count, checksum)`` for ``schema.table`` in the given dialect.

    Identifiers come from the Felis schema (trusted names), quoted for the dialect; PostgreSQL holds
    the columns under their lower-case names (:func:`idf_ops.catalogs.schema.pg_column`), MariaDB
    compares column names without regard to case.
    """
    if dialect == "postgresql":
        term = f"('x' || substr(md5(\"{pg_column(key_column)}\"::text), 1, 15))::bit(60)::bigint::numeric"
        return (
            f"SELECT count(*), coalesce(sum({term}), 0)::text "  # noqa: S608 - identifiers from the schema
            f'FROM "{schema}"."{table}"'
        )
    term = f"CAST(CONV(SUBSTRING(MD5(CAST(`{key_column}` AS CHAR)), 1, 15), 16, 10) AS UNSIGNED)"
    return (
        f"SELECT COUNT(*), CAST(COALESCE(SUM({term}), 0) AS CHAR) "  # noqa: S608
        f"FROM `{schema}`.`{table}`"
    )
