"""Unit tests (no running stack): schema, generator, checksum, manifest, inventory, health registry."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from idf_core.errors import BadInput
from idf_ops.catalogs import footprint
from idf_ops.catalogs.checksum import arrow_checksum, checksum_sql, key_hash
from idf_ops.catalogs.generate import arrow_type, generate, parquet_path
from idf_ops.catalogs.load import read_manifest
from idf_ops.catalogs.pgbinary import encode_batch
from idf_ops.catalogs.schema import KEY_COLUMNS, POSITION_COLUMNS, TABLE_NAMES, felis_schema

EXPECTED_COLUMNS = {
    "position": 29,
    "reference": 236,
    "forced_photometry": 747,
    "object": 137,
    "truth_match": 30,
}
OBJECTS = 400


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("dataload")
    result = generate(data_dir, OBJECTS, seed=7)
    assert result.changed
    return data_dir


def _read(data_dir: Path, table: str) -> pa.Table:
    return pq.read_table(parquet_path(data_dir, table))


@pytest.mark.parametrize("table", TABLE_NAMES)
def test_every_schema_column_is_generated_with_its_felis_type(generated: Path, table: str) -> None:
    felis_table = next(t for t in felis_schema().tables if t.name == table)
    data = _read(generated, table)
    assert data.num_columns == EXPECTED_COLUMNS[table]
    assert data.schema.names == [c.name for c in felis_table.columns]
    for column in felis_table.columns:
        assert data.schema.field(column.name).type == arrow_type(column.datatype.value), column.name


@pytest.mark.parametrize("table", TABLE_NAMES)
def test_positions_lie_in_the_dc2_footprint(generated: Path, table: str) -> None:
    ra_name, dec_name = POSITION_COLUMNS[table]
    data = _read(generated, table)
    ra = data.column(ra_name).to_numpy()
    dec = data.column(dec_name).to_numpy()
    assert ra.min() >= footprint.RA_MIN_DEG - 0.01 and ra.max() <= footprint.RA_MAX_DEG + 0.01
    assert dec.min() >= footprint.DEC_MIN_DEG - 0.01 and dec.max() <= footprint.DEC_MAX_DEG + 0.01


@pytest.mark.parametrize("table", ["position", "reference", "forced_photometry"])
def test_per_object_tables_share_the_object_ids(generated: Path, table: str) -> None:
    object_ids = _read(generated, "object").column("objectId").to_pylist()
    assert len(set(object_ids)) == OBJECTS
    assert _read(generated, table).column("objectId").to_pylist() == object_ids


def test_truth_match_joins_object_and_has_unmatched_entries(generated: Path) -> None:
    truth = _read(generated, "truth_match")
    object_ids = set(_read(generated, "object").column("objectId").to_pylist())
    matched = [m for m in truth.column("match_objectId").to_pylist() if m != -1]
    assert set(matched) == object_ids
    assert truth.num_rows == OBJECTS + OBJECTS // 10
    assert len(set(truth.column("id").to_pylist())) == truth.num_rows
    assert max(len(i) for i in truth.column("id").to_pylist()) <= 20  # CHAR(20) in the schema


def test_photometry_is_plausible(generated: Path) -> None:
    obj = _read(generated, "object")
    mag_r = np.array([m for m in obj.column("mag_r_cModel").to_pylist() if m is not None])
    assert 15.0 < np.median(mag_r) < 28.0
    extendedness = set(obj.column("extendedness").to_pylist())
    assert extendedness <= {0.0, 1.0} and len(extendedness) == 2
    for column in obj.schema.names:  # non-detections are NULL, never NaN (MariaDB has no NaN)
        values = obj.column(column)
        if pa.types.is_floating(values.type):
            assert not pc.any(pc.is_nan(values)).as_py(), column


def test_tract_and_patch_follow_the_sky_map(generated: Path) -> None:
    obj = _read(generated, "object")
    tract, px, py = footprint.tract_patch(obj.column("ra").to_numpy(), obj.column("dec").to_numpy())
    assert obj.column("tract").to_pylist() == tract.tolist()
    assert obj.column("patch").to_pylist() == [f"{x},{y}" for x, y in zip(px, py, strict=True)]
    assert set(tract.tolist()) <= {t.tract_id for t in footprint.footprint_tracts()}


def test_generation_is_skipped_when_nothing_changed(generated: Path) -> None:
    assert not generate(generated, OBJECTS, seed=7).changed


def test_generation_is_deterministic(tmp_path: Path, generated: Path) -> None:
    generate(tmp_path, OBJECTS, seed=7)
    assert _read(tmp_path, "object").equals(_read(generated, "object"))


@pytest.mark.parametrize("objects", [0, -5])
def test_generator_refuses_a_bad_size(tmp_path: Path, objects: int) -> None:
    with pytest.raises(BadInput, match="number of objects"):
        generate(tmp_path, objects)


def test_checksum_is_order_independent_and_detects_changes() -> None:
    keys = pa.array([3, 1, 2], pa.int64())
    rows, checksum = arrow_checksum(keys)
    assert (rows, checksum) == arrow_checksum(pa.array([1, 2, 3], pa.int64()))
    assert checksum != arrow_checksum(pa.array([1, 2, 4], pa.int64()))[1]
    assert arrow_checksum(pa.array([1, 2, 3, 3], pa.int64()))[1] != checksum  # a duplicate changes it
    assert int(checksum) == sum(key_hash(str(k)) for k in (1, 2, 3))


def test_checksum_strips_char_padding() -> None:
    assert arrow_checksum(pa.array(["abc  "]))[1] == arrow_checksum(pa.array(["abc"]))[1]


# PostgreSQL holds the catalog columns under their lower-case names (ADQL regular identifiers).
@pytest.mark.parametrize(("dialect", "column"), [("postgresql", '"objectid"'), ("mariadb", "`objectId`")])
def test_checksum_sql_quotes_for_its_dialect(dialect: str, column: str) -> None:
    sql = checksum_sql("dp01_dc2_catalogs", "object", "objectId", dialect)  # type: ignore[arg-type]
    assert column in sql and "md5" in sql.lower()


def test_every_table_has_a_key_and_position_columns() -> None:
    for table in TABLE_NAMES:
        names = {c.name for c in next(t for t in felis_schema().tables if t.name == table).columns}
        assert KEY_COLUMNS[table] in names
        assert set(POSITION_COLUMNS[table]) <= names


def test_a_corrupt_manifest_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"tables": {"object": {"rows": "many"}}}))
    with pytest.raises(BadInput, match=str(path)):
        read_manifest(path)


def test_a_missing_manifest_reads_as_none(tmp_path: Path) -> None:
    assert read_manifest(tmp_path / "absent.json") is None


def test_binary_copy_encoding_of_each_type_and_null() -> None:
    batch = pa.record_batch(
        {
            "a": pa.array([1, None], pa.int64()),
            "s": pa.array(["ab", None]),
            "f": pa.array([1.5, None], pa.float32()),
            "t": pa.array([True, None]),
        }
    )
    encoded = encode_batch(batch, ["bigint", "character", "double precision", "boolean"])
    row1 = "0004000000080000000000000001000000026162000000083ff80000000000000000000101"
    row2 = "0004" + "ffffffff" * 4
    assert encoded.hex() == row1 + row2


def test_binary_copy_refuses_an_unknown_column_type() -> None:
    with pytest.raises(BadInput, match="not supported"):
        encode_batch(pa.record_batch({"x": pa.array([1])}), ["timestamp with time zone"])
