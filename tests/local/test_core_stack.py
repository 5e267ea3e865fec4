"""testinfra suite of the core local services: PostgreSQL, the catalogs and their load, the Butler.

Needs the running stack (`idf local up`). One case per item: each extension, table, role,
collection and dataset type is its own test.
"""

# lsst.daf.butler is imported inside the Butler tests only.
# ruff: noqa: PLC0415, S608 - SQL built from schema names in tests

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from idf_ops.catalogs.checksum import checksum_sql
from idf_ops.catalogs.load import read_manifest
from idf_ops.catalogs.schema import SCHEMA_NAME, TABLE_NAMES, felis_schema, pg_column
from idf_ops.local.butler_repo import CHAIN, DATASET_TYPES, RUNS
from idf_ops.local.settings import BUTLER_READONLY_CONFIG, DB_AUTH_FILE, LOAD_MANIFEST, SECRETS_DIR
from local.helpers import psql_as_postgres, run_idf

pytestmark = pytest.mark.local_stack


def _connect(user: str, database: str) -> Any:
    password = (SECRETS_DIR / f"pg_{user}.password").read_text().strip()
    return psycopg2.connect(
        host="127.0.0.1", port=5432, dbname=database, user=user, password=password, connect_timeout=5
    )


# --- PostgreSQL --------------------------------------------------------------------------------


def test_postgresql_listens_on_loopback(host: Any) -> None:
    assert host.socket("tcp://127.0.0.1:5432").is_listening


@pytest.mark.parametrize("address", ["tcp://0.0.0.0:5432", "tcp://:::5432"])
def test_postgresql_does_not_listen_on_all_addresses(host: Any, address: str) -> None:
    assert not host.socket(address).is_listening


def test_postgresql_processes_run_as_postgres(host: Any) -> None:
    processes = host.process.filter(comm="postgres")
    assert processes, "no postgres process: start it with `supervisorctl start idf-postgresql`"
    assert {p.user for p in processes} == {"postgres"}


def test_postgresql_answers_a_query() -> None:
    conn = _connect("idf_catalogs", "postgres")
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 6 * 7")
            assert cursor.fetchone() == (42,)
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("setting", "default"),
    [("shared_buffers", "128MB"), ("work_mem", "4MB"), ("effective_cache_size", "4GB")],
)
def test_postgresql_settings_are_sized_from_the_machine(setting: str, default: str) -> None:
    assert psql_as_postgres(f"SHOW {setting}") != default


@pytest.mark.parametrize(
    ("database", "extension"), [("gavo", "q3c"), ("gavo", "pg_sphere"), ("dp01_butler", "btree_gist")]
)
def test_extensions_are_installed(database: str, extension: str) -> None:
    assert (
        psql_as_postgres(f"SELECT extname FROM pg_extension WHERE extname = '{extension}'", database)
        == extension
    )


@pytest.mark.parametrize("path", [SECRETS_DIR])
def test_secrets_directory_is_root_only(host: Any, path: Path) -> None:
    secrets = host.file(str(path))
    assert secrets.is_directory and secrets.user == "root" and secrets.mode == 0o700


@pytest.mark.parametrize(
    "name",
    ["pg_idf_catalogs.password", "pg_butler_writer.password", "pg_butler_reader.password", "db-auth.yaml"],
)
def test_secret_files_are_root_only(host: Any, name: str) -> None:
    secret = host.file(str(SECRETS_DIR / name))
    assert secret.exists and secret.user == "root" and secret.mode == 0o600


# --- catalogs and data load --------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLE_NAMES)
def test_catalog_table_has_the_felis_columns(table: str) -> None:
    columns = psql_as_postgres(
        "SELECT column_name FROM information_schema.columns "
        f"WHERE table_schema = '{SCHEMA_NAME}' AND table_name = '{table}' ORDER BY ordinal_position",
        "gavo",
    ).splitlines()
    felis_table = next(t for t in felis_schema().tables if t.name == table)
    # PostgreSQL holds each Felis column in its lower-case form (the RD declares the Felis name).
    assert columns == [pg_column(c.name) for c in felis_table.columns]


@pytest.mark.parametrize("table", TABLE_NAMES)
def test_row_counts_and_checksums_equal_the_manifest(table: str) -> None:
    manifest = read_manifest(LOAD_MANIFEST)
    assert manifest is not None, f"{LOAD_MANIFEST} missing"
    record = manifest.tables[table]
    line = psql_as_postgres(checksum_sql(SCHEMA_NAME, table, record.key_column, "postgresql"), "gavo")
    rows, checksum = line.split("|")
    assert (int(rows), checksum) == (record.rows, record.checksum)
    assert record.rows > 0


@pytest.mark.parametrize("table", TABLE_NAMES)
def test_catalog_table_has_a_q3c_index(table: str) -> None:
    definitions = psql_as_postgres(
        f"SELECT indexdef FROM pg_indexes WHERE schemaname = '{SCHEMA_NAME}' AND tablename = '{table}'",
        "gavo",
    )
    assert "q3c_ang2ipix" in definitions


@pytest.mark.parametrize("role", ["gavo", "untrusted"])
def test_dachs_reader_roles_can_select(role: str) -> None:
    out = psql_as_postgres(f"SET ROLE {role}; SELECT count(*) > 0 FROM {SCHEMA_NAME}.object", "gavo")
    assert out.splitlines()[-1] == "t"


@pytest.mark.parametrize("role", ["gavo", "untrusted"])
def test_dachs_reader_roles_are_refused_writes(role: str) -> None:
    with pytest.raises(Exception, match="permission denied"):
        psql_as_postgres(f"SET ROLE {role}; DELETE FROM {SCHEMA_NAME}.position", "gavo")


def test_felis_tap_schema_describes_every_column() -> None:
    count = psql_as_postgres(
        f"SELECT count(*) FROM tap_schema_felis.columns WHERE table_name LIKE '{SCHEMA_NAME}.%'", "gavo"
    )
    assert int(count) == sum(len(t.columns) for t in felis_schema().tables)


def test_a_second_load_is_a_no_op() -> None:
    result = run_idf("local", "data", "load")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["changed"] is False


# --- Butler ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def readonly_butler() -> Any:
    os.environ.setdefault("LSST_DB_AUTH", str(DB_AUTH_FILE))
    from lsst.daf.butler import Butler

    butler = Butler.from_config(str(BUTLER_READONLY_CONFIG))
    yield butler
    butler.close()


@pytest.mark.parametrize("run", RUNS)
def test_run_collection_exists(readonly_butler: Any, run: str) -> None:
    from lsst.daf.butler import CollectionType

    assert readonly_butler.registry.getCollectionType(run) is CollectionType.RUN


def test_chain_groups_the_four_runs(readonly_butler: Any) -> None:
    from lsst.daf.butler import CollectionType

    assert readonly_butler.registry.getCollectionType(CHAIN) is CollectionType.CHAINED
    assert sorted(readonly_butler.registry.getCollectionChain(CHAIN)) == sorted(RUNS)


@pytest.mark.parametrize("name", sorted(DATASET_TYPES))
def test_appendix_b_dataset_type_is_registered(readonly_butler: Any, name: str) -> None:
    dataset_type = readonly_butler.get_dataset_type(name)
    assert dataset_type.storageClass_name == DATASET_TYPES[name][1]
    assert set(dataset_type.dimensions.names) >= set(DATASET_TYPES[name][0])


@pytest.mark.parametrize(
    ("element", "minimum"),
    [
        ("instrument", 1),
        ("detector", 189),
        ("physical_filter", 6),
        ("skymap", 1),
        ("tract", 100),
        ("patch", 4900),
    ],
)
def test_dimension_records_are_present(readonly_butler: Any, element: str, minimum: int) -> None:
    assert len(readonly_butler.query_dimension_records(element, explain=False, limit=None)) >= minimum


def test_stored_catalog_is_readable(readonly_butler: Any) -> None:
    refs = readonly_butler.query_datasets("objectTable_tract", collections=CHAIN, limit=1)
    table = readonly_butler.get(refs[0])
    assert table.num_rows > 0 and "objectId" in table.column_names


def test_readonly_butler_refuses_put(readonly_butler: Any) -> None:
    import pyarrow as pa

    with pytest.raises(TypeError, match="Butler is read-only"):
        readonly_butler.put(pa.table({"x": [1]}), "objectTable_tract", skymap="DC2", tract=1876, run=RUNS[-1])


def test_readonly_role_is_refused_writes_even_when_asked_writeable() -> None:
    os.environ.setdefault("LSST_DB_AUTH", str(DB_AUTH_FILE))
    from lsst.daf.butler import Butler

    # Either step may be refused: opening writeable already writes to the registry (opaque_meta).
    with pytest.raises(Exception, match="permission denied"):  # noqa: PT012
        butler = Butler.from_config(str(BUTLER_READONLY_CONFIG), writeable=True)
        butler.registry.registerRun("should/not/exist")


def test_reader_role_is_refused_sql_writes() -> None:
    conn = _connect("butler_reader", "dp01_butler")
    try:
        with conn.cursor() as cursor, pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cursor.execute("DELETE FROM collection")
    finally:
        conn.close()


def test_butler_cli_queries_with_the_readonly_config() -> None:
    import subprocess

    from idf_core.paths import REPO_ROOT

    result = subprocess.run(
        [
            str(REPO_ROOT / ".venv" / "bin" / "butler"),
            "query-datasets",
            str(BUTLER_READONLY_CONFIG),
            "--collections",
            CHAIN,
            "packages",
        ],
        text=True,
        capture_output=True,
        check=False,
        timeout=120,
        env={**os.environ, "LSST_DB_AUTH": str(DB_AUTH_FILE)},
    )
    assert result.returncode == 0, result.stderr
    assert sum(line.startswith("packages") for line in result.stdout.splitlines()) == len(RUNS)


def test_status_reports_core_services_up() -> None:
    result = run_idf("local", "status", "--json")
    services = {s["service"]: s for s in json.loads(result.stdout)["services"]}
    for name in ("postgresql", "dataload", "butler"):
        assert services[name]["state"] == "up", services[name]


@pytest.mark.parametrize("table", ["object", "truth_match"])
def test_binary_loader_stores_what_server_side_copy_stores(table: str) -> None:
    from idf_ops.cli.main import main

    assert main(["catalogs", "bench-ingest", "--table", table, "--rows", "2000", "--repeat", "1"]) == 0
