"""Arrow record batches -> PostgreSQL binary COPY format, vectorised with numpy.

PostgreSQL spends most of a CSV ``COPY`` parsing text numbers; the binary format hands it the
values as they are stored, so the server's side of the load gets much cheaper. A batch is encoded
by filling one packed structured numpy array (each row: field count, then a length header and a
fixed-width payload per column, strings padded to the batch's longest value) and then dropping,
with one boolean mask, the payload bytes of NULL fields and the padding of strings: what remains
is exactly the sequence of variable-length binary rows.

Supported column types (what the Felis schema uses): bigint, integer, smallint, double precision,
real, boolean, and character/varchar/text. Values are cast to the target column's type first.
"""

from __future__ import annotations

import struct

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from idf_core.errors import BadInput

__all__ = ["HEADER", "TRAILER", "arrow_type_for", "encode_batch"]

HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)
#: PostgreSQL data type (information_schema.columns.data_type) -> (Arrow type, numpy big-endian dtype).
_FIXED: dict[str, tuple[pa.DataType, str]] = {
    "bigint": (pa.int64(), ">i8"),
    "integer": (pa.int32(), ">i4"),
    "smallint": (pa.int16(), ">i2"),
    "double precision": (pa.float64(), ">f8"),
    "real": (pa.float32(), ">f4"),
    "boolean": (pa.bool_(), "u1"),
}
_TEXT = ("character", "character varying", "text")


def arrow_type_for(pg_type: str) -> pa.DataType:
    """Arrow type a column of PostgreSQL type ``pg_type`` is cast to before encoding."""
    if pg_type in _FIXED:
        return _FIXED[pg_type][0]
    if pg_type in _TEXT:
        return pa.string()
    raise BadInput(
        f"binary COPY: PostgreSQL column type {pg_type!r} is not supported by idf_ops.catalogs.pgbinary."
    )


def encode_batch(batch: pa.RecordBatch, pg_types: list[str]) -> bytes:
    """Binary COPY rows (no file header or trailer) of ``batch`` for columns of ``pg_types``."""
    n = batch.num_rows
    if n == 0:
        return b""
    fields: list[tuple[str, str]] = [("count", ">i2")]
    plans = []
    for index, pg_type in enumerate(pg_types):
        column = batch.column(index).cast(arrow_type_for(pg_type))
        valid = None if column.null_count == 0 else np.asarray(column.is_valid())
        if pg_type in _FIXED:
            dtype = _FIXED[pg_type][1]
            width = np.dtype(dtype).itemsize
            values = column.fill_null(False if pg_type == "boolean" else 0).to_numpy(zero_copy_only=False)
            lengths = None
        else:
            encoded = column.fill_null("")
            lengths = np.asarray(pc.binary_length(encoded), dtype=np.int64)
            width = max(int(lengths.max()), 1)
            dtype = f"S{width}"
            values = np.array(encoded.to_pylist(), dtype=object).astype(bytes).astype(dtype)
        fields += [(f"h{index}", ">i4"), (f"v{index}", dtype)]
        plans.append((index, width, values, valid, lengths))
    rows = np.zeros(n, dtype=np.dtype(fields))  # packed: no alignment padding between fields
    rows["count"] = len(pg_types)
    row_bytes = rows.dtype.itemsize
    keep: np.ndarray | None = None
    for index, width, values, valid, lengths in plans:
        size = lengths if lengths is not None else width
        rows[f"h{index}"] = size if valid is None else np.where(valid, size, -1)
        rows[f"v{index}"] = values
        if valid is None and lengths is None:
            continue
        if keep is None:
            keep = np.ones((n, row_bytes), dtype=bool)
        start = rows.dtype.fields[f"v{index}"][1]
        payload = keep[:, start : start + width]
        if lengths is not None:
            payload &= np.arange(width) < lengths[:, None]
        if valid is not None:
            payload[~valid] = False
    raw = rows.view(np.uint8).reshape(n, row_bytes)
    return (raw if keep is None else raw[keep]).tobytes()
