"""Generated chunks into the MariaDB stand-in (a scratch database, never the served one), and the
dp01 load driven by the generated qserv-ingest configuration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lsst import sphgeom

from idf_core.errors import BadInput, OperationFailed
from idf_core.facts import QSERV_INSTANCES, TAP_SCHEMA
from idf_core.qserv_ingest import read_config
from idf_ops.catalogs.load import read_manifest
from idf_ops.qserv_local.db import connect
from idf_ops.qserv_local.load import load_all, load_catalogs, local_ingest_config, table_state
from idf_ops.scale.ingest import loaded_rows
from idf_ops.scale.service import ingest_local, write_generated_config

from .conftest import OBJECTS_PER_CHUNK

pytestmark = pytest.mark.local_stack

SOCKET = QSERV_INSTANCES["idf"].admin_socket
SCRATCH = "idf_test_scale_ingest"
LOAD_MANIFEST = Path("/var/lib/idf/dataload/manifest.json")


@pytest.fixture
def scratch() -> Iterator[str]:
    with connect(SOCKET) as admin, admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {SCRATCH}")
    try:
        yield SCRATCH
    finally:
        with connect(SOCKET) as admin, admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {SCRATCH}")


def test_generated_chunks_load_and_a_cone_spans_two_chunks(
    generated: Path, two_adjacent_chunks: list[int], scratch: str
) -> None:
    write_generated_config(generated)
    state = ingest_local(generated, database=scratch, state_path=generated / "state-test.json")
    assert loaded_rows(state)["object"] == 3 * OBJECTS_PER_CHUNK
    west, east = two_adjacent_chunks[:2]
    chunker = sphgeom.Chunker(85, 12)
    stripe = chunker.getStripe(west)
    box = chunker.getChunkBoundingBox(stripe, chunker.getChunk(west, stripe))
    ra0 = box.getLon().getB().asDegrees()  # the RA edge the two chunks share
    dec0 = box.getLat().getCenter().asDegrees()
    with connect(SOCKET) as admin, admin.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {scratch}.object")  # noqa: S608 - a fixed test name
        assert cursor.fetchone()[0] == 3 * OBJECTS_PER_CHUNK
        # A 0.6 deg cone on the shared edge (great-circle distance, degrees).
        cursor.execute(
            f"SELECT chunkId, COUNT(*) FROM {scratch}.object WHERE DEGREES(ACOS(LEAST(1, "  # noqa: S608
            "SIN(RADIANS(`dec`)) * SIN(RADIANS(%s)) + COS(RADIANS(`dec`)) * COS(RADIANS(%s)) "
            "* COS(RADIANS(ra - %s))))) < 0.6 GROUP BY chunkId",
            (dec0, dec0, ra0),
        )
        found = dict(cursor.fetchall())
        assert set(found) == {west, east}, found
        # Children join their objects inside the chunk.
        cursor.execute(
            f"SELECT COUNT(*) FROM {scratch}.object o JOIN {scratch}.forced_photometry f "  # noqa: S608
            "ON o.objectId = f.objectId AND o.chunkId = f.chunkId"
        )
        assert cursor.fetchone()[0] == 3 * OBJECTS_PER_CHUNK
    again = ingest_local(generated, database=scratch, state_path=generated / "state-test.json")
    assert again.loaded == state.loaded


def test_the_served_database_is_refused(generated: Path) -> None:
    write_generated_config(generated)
    with pytest.raises(BadInput, match="served catalog"):
        ingest_local(generated, database=TAP_SCHEMA)


def test_dp01_load_is_driven_by_the_written_configuration(tmp_path: Path) -> None:
    results = load_catalogs(LOAD_MANIFEST, None, TAP_SCHEMA, ["position"], target="idf", config_dir=tmp_path)
    assert [r.table for r in results] == ["position"]
    assert (tmp_path / "metadata.json").exists() and (tmp_path / "position.json").exists()
    # A configuration whose table file names another column is followed, and refused.
    manifest = read_manifest(LOAD_MANIFEST)
    assert manifest is not None
    text = (tmp_path / "position.json").read_text()
    (tmp_path / "position.json").write_text(text.replace('"latitude_key": "coord_dec"', '"latitude_key": 7'))
    with pytest.raises(BadInput, match=r"position.json: latitude_key"):
        read_config(tmp_path)
    with connect(SOCKET) as admin, admin.cursor() as cursor:
        record = manifest.tables["position"]
        assert table_state(cursor, TAP_SCHEMA, "position", record.key_column) == (
            record.rows,
            record.checksum,
        )


def test_a_table_file_that_disagrees_with_the_data_stops_the_load(scratch: str) -> None:
    manifest = read_manifest(LOAD_MANIFEST)
    assert manifest is not None
    config = local_ingest_config(manifest, scratch, QSERV_INSTANCES["idf"])
    spec = config.tables["position"]
    config.tables["position"] = spec.model_copy(
        update={"columns": [c for c in spec.columns if c.name != "parent"]}
    )
    with connect(SOCKET, local_infile=True) as admin:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {scratch}")
            cursor.execute(f"CREATE TABLE {scratch}.position LIKE {TAP_SCHEMA}.position")
        with pytest.raises(OperationFailed, match=r"columns of the ingest configuration's position.json"):
            load_all(admin, scratch, manifest, ["position"], config)
        with admin.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {scratch}.position")  # noqa: S608 - a fixed test name
            assert cursor.fetchone()[0] == 0
