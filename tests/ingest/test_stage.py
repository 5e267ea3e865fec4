"""`idf catalogs stage`: dp01's catalogs partitioned into the chunk files the stack's ingest Job reads,
with the very configuration the Pulumi program renders into that Job, staged in a directory and in
the GCS emulator; a catalog that Qserv would not load as it is stages nothing."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.cloud import storage

from idf_core.errors import BadInput
from idf_core.qserv_ingest import DP01_PARTITIONING, METADATA_FILE, read_config
from idf_ops.catalogs.generate import generate
from idf_ops.catalogs.stage import STAGE_REPORT_FILE, StageReport, stack_staging, stage_catalogs
from idf_ops.qserv_local.chunking import chunk_ids
from support.cli import run_idf
from support.plans import OfflinePlans

OBJECTS = 1500
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
csv.field_size_limit(sys.maxsize)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("dp01-source")
    generate(directory, OBJECTS)
    return directory


@pytest.fixture(scope="module")
def staged(source: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, StageReport]:
    out = tmp_path_factory.mktemp("staged")
    report = stage_catalogs(source, stack_staging("dp01").config, str(out))
    return out, report


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as f:
        return list(csv.reader(f))


def test_every_row_is_staged_once_in_the_chunk_of_its_position(
    source: Path, staged: tuple[Path, StageReport]
) -> None:
    out, report = staged
    config = read_config(out)  # the staged configuration parses and validates
    listed = config.chunk_ids()
    assert len(listed) > 90
    object_chunk: dict[str, int] = {}
    for name in config.table_order():
        spec = config.tables[name]
        names = [c.name for c in spec.columns]
        at = {column: names.index(column) for column in ("chunkId", "subChunkId")}
        part = DP01_PARTITIONING[name]
        key_at, ra_at, dec_at = names.index(part.key), names.index(part.ra), names.index(part.dec)
        files = sorted((out / name).glob("chunk_*.csv"))
        assert sorted(int(p.stem.removeprefix("chunk_")) for p in files) == listed, name
        staged_keys: list[str] = []
        for path in files:
            chunk = int(path.stem.removeprefix("chunk_"))
            rows = _rows(path)
            for row in rows:
                assert len(row) == len(names), f"{path}: {len(row)} fields, the table file says {len(names)}"
                assert int(row[at["chunkId"]]) == chunk, f"{path}: a row of chunk {row[at['chunkId']]}"
            if rows:
                ra = np.array([float(r[ra_at]) for r in rows])
                dec = np.array([float(r[dec_at]) for r in rows])
                assert set(chunk_ids(ra, dec)[0].tolist()) == {chunk}
            staged_keys += [r[key_at] for r in rows]
            if name == "object":
                object_chunk.update({r[key_at]: chunk for r in rows})
            elif part.director == "object":
                assert all(object_chunk[r[key_at]] == chunk for r in rows), f"{path}: a child off its object"
        source_keys = pq.read_table(source / f"{name}.parquet", columns=[part.key]).column(0).to_pylist()
        assert sorted(staged_keys) == sorted(str(k) for k in source_keys), f"{name}: rows lost or doubled"
        entry = next(t for t in report.tables if t.table == name)
        assert (entry.rows, entry.files) == (len(source_keys), len(listed))
    assert StageReport.model_validate_json((out / STAGE_REPORT_FILE).read_text()).tables == report.tables


def test_the_staged_configuration_is_the_one_the_ingest_job_gets(
    plans: OfflinePlans, staged: tuple[Path, StageReport]
) -> None:
    out, _ = staged
    config_maps = [
        r
        for r in plans["dp01"].of_type(CONFIG_MAP)
        if r.inputs["metadata"]["name"].startswith("qserv-ingest-")
    ]
    assert len(config_maps) == 1
    for name, text in config_maps[0].inputs["data"].items():
        assert (out / name).read_text() == text, f"{name}: the staged file differs from the Job's ConfigMap"


def _broken_source(source: Path, tmp: Path, table: str, change: Any) -> Path:
    broken = tmp / "broken"
    broken.mkdir()
    for path in source.glob("*.parquet"):
        data = pq.read_table(path)
        if path.stem == table:
            data = change(data)
        pq.write_table(data, broken / path.name)
    return broken


def _set_first(data: pa.Table, column: str, value: float) -> pa.Table:
    index = data.schema.get_field_index(column)
    values = data.column(column).to_pylist()
    values[0] = value
    return data.set_column(index, data.schema.field(index), pa.array(values, data.schema.field(index).type))


@pytest.mark.parametrize(
    ("table", "column", "value", "message"),
    [
        ("object", "ra", 180.0, "outside the 93 chunks"),
        ("position", "coord_dec", -30.0, "not in their object's chunk"),
    ],
)
def test_a_catalog_qserv_would_not_load_as_it_is_stages_nothing(  # noqa: PLR0917 - parametrized
    source: Path, tmp_path: Path, table: str, column: str, value: float, message: str
) -> None:
    broken = _broken_source(source, tmp_path, table, lambda d: _set_first(d, column, value))
    out = tmp_path / "out"
    with pytest.raises(BadInput, match=message):
        stage_catalogs(broken, stack_staging("dp01").config, str(out))
    assert not out.exists() or not any(out.rglob("*")), "a refused catalog must leave nothing staged"


def test_staged_into_the_gcs_emulator(
    source: Path, gcs_emulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    client = storage.Client(project="test")
    bucket = "idf-stage-test"
    if client.lookup_bucket(bucket) is None:
        client.create_bucket(bucket)
    config = stack_staging("dp01").config
    report = stage_catalogs(source, config, f"gs://{bucket}/dp01_dc2_catalogs/")
    names = {b.name for b in client.list_blobs(bucket, prefix="dp01_dc2_catalogs/")}
    chunk_files = {n for n in names if n.endswith(".csv")}
    assert len(chunk_files) == len(DP01_PARTITIONING) * len(config.chunk_ids())
    assert f"dp01_dc2_catalogs/{METADATA_FILE}" in names
    assert {f"dp01_dc2_catalogs/{n}" for n in config.files()} <= names
    assert report.destination == f"gs://{bucket}/dp01_dc2_catalogs/"
    assert (
        json.loads(client.bucket(bucket).blob("dp01_dc2_catalogs/stage.json").download_as_text())["tables"][
            0
        ]["rows"]
        == OBJECTS
    )


def _idf(*args: str) -> subprocess.CompletedProcess[str]:
    return run_idf(*args, env={"COLUMNS": "200"}, timeout_s=120)


def test_stage_command_writes_the_folder_and_says_what(source: Path, tmp_path: Path) -> None:
    done = _idf("catalogs", "stage", "dp01", "--from", str(source), "--to", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert f"staged {OBJECTS * 4 + round(OBJECTS * 1.1):,} rows of 5 tables" in done.stdout
    assert "object: 1,500 rows in 93 chunk files" in done.stderr
    assert (tmp_path / "out" / METADATA_FILE).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("dp01", "--from", "/nonexistent/dataload"), "not found; --from must hold every dp01 table"),
        (("dp01", "--to", "s3://bucket/dp01/"), "give a directory or a gs:// URI"),
        (("qserv-scale75",), "generated in the cluster"),
        (("nosuchstack",), "nosuchstack"),
    ],
)
def test_stage_command_refuses_bad_input_without_writing(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    out = tmp_path / "out"
    done = _idf("catalogs", "stage", *args, *(() if "--to" in args else ("--to", str(out))))
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()
