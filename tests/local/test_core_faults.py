"""Bad input and faults of the core local services: each gives a clear message naming the service and
the fix, a non-zero exit, and leaves no half-loaded table behind."""

# ruff: noqa: PLC0415

from __future__ import annotations

import json
import socket
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from idf_core.errors import OperationFailed
from idf_ops.catalogs.checksum import checksum_sql
from idf_ops.catalogs.load import read_manifest
from idf_ops.catalogs.schema import SCHEMA_NAME
from idf_ops.local.settings import DATALOAD_DIR, LOAD_MANIFEST
from local.helpers import psql_as_postgres, run_idf

# --- bad input (no stack needed) ---------------------------------------------------------------


def test_reset_refuses_without_yes() -> None:
    result = run_idf("local", "reset")
    assert result.returncode == 2
    assert "--yes" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("local", "up", "--objects", "0"), "at least 1"),
        (("local", "up", "--only", "nginx"), "not a service of the local stack"),
        (
            (
                "local",
                "butler-build",
                "--db-url",
                "postgresql://u@h/db",
                "--reader-db-url",
                "postgresql://u@h/db",
            ),
            "postgresql+psycopg2://",
        ),
        (
            ("local", "data", "generate", "--objects", "-1", "--data-dir", "/nonexistent/idf-test-never"),
            "number of objects",
        ),
    ],
)
def test_bad_arguments_exit_2_with_a_message(args: tuple[str, ...], expected: str) -> None:
    result = run_idf(*args)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr


def test_corrupt_manifest_exits_2_naming_the_file(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text("{not json")
    result = run_idf("local", "data", "load", "--manifest", str(manifest), "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert str(manifest) in result.stderr and "Traceback" not in result.stderr


def test_missing_ansible_playbook_is_explained(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from idf_ops.local import ansible

    monkeypatch.setattr(ansible, "VENV_BIN", tmp_path)
    with pytest.raises(OperationFailed, match=r"ansible-playbook is missing; run `bash scripts/setup.sh`"):
        ansible.run_playbook("postgresql.yml")


# --- faults on the running stack ---------------------------------------------------------------


def _table_state(table: str) -> tuple[int, str]:
    rows, checksum = psql_as_postgres(
        checksum_sql(SCHEMA_NAME, table, "objectId", "postgresql"), "gavo"
    ).split("|")
    return int(rows), checksum


@pytest.mark.local_stack
def test_failed_load_is_rolled_back(tmp_path: Path) -> None:
    """A Parquet file with duplicated keys fails the unique index after COPY: nothing changes."""
    before = _table_state("position")
    good = pq.read_table(DATALOAD_DIR / "position.parquet").slice(0, 10)
    bad = pa.concat_tables([good, good])  # every objectId twice
    pq.write_table(bad, tmp_path / "position.parquet")
    result = run_idf(
        "local",
        "data",
        "load",
        "--data-dir",
        str(tmp_path),
        "--manifest",
        str(tmp_path / "m.json"),
        "--table",
        "position",
    )
    assert result.returncode == 1
    assert "position" in result.stderr and "rolled back" in result.stderr and "Traceback" not in result.stderr
    assert _table_state("position") == before
    assert not (tmp_path / "m.json").exists()


@pytest.mark.local_stack
def test_postgresql_down_is_reported_with_the_fix(postgresql_stopped: None) -> None:
    status = run_idf("local", "status", "--json")
    assert status.returncode == 1
    services = {s["service"]: s for s in json.loads(status.stdout)["services"]}
    assert services["postgresql"]["state"] == "down"
    assert "supervisorctl start idf-postgresql" in services["postgresql"]["detail"]
    assert "idf local up" in services["postgresql"]["fix"]
    assert all("fix" not in s for s in services.values() if s["healthy"])
    table = run_idf("local", "status")
    assert table.returncode == 1 and "to repair: run `idf local up`" in " ".join(table.stdout.split())
    load = run_idf("local", "data", "load")
    assert load.returncode == 1
    assert load.stderr.startswith("idf: error: postgresql: cannot connect") and "Traceback" not in load.stderr


@pytest.mark.local_stack
def test_port_taken_stops_postgresql_role_with_a_message(postgresql_stopped: None) -> None:
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", 5432))
    blocker.listen(1)
    try:
        result = run_idf("local", "up", "--only", "postgresql")
    finally:
        blocker.close()
    assert result.returncode == 1
    assert "postgresql: port 5432 on 127.0.0.1 is already taken" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.local_stack
def test_missing_package_stops_postgresql_role_with_a_message() -> None:
    from idf_ops.local.stack import run_up

    with pytest.raises(OperationFailed) as failure:
        run_up(
            lambda _r: None,
            lambda _s: None,
            only="postgresql",
            extravars={"postgresql_packages": ["postgresql-15", "idf-no-such-package"]},
        )
    message = str(failure.value)
    assert "postgresql: installing the Debian packages" in message
    assert "idf-no-such-package" in message and "apt-cache policy" in message


@pytest.mark.local_stack
def test_manifest_is_untouched_by_the_faults() -> None:
    manifest = read_manifest(LOAD_MANIFEST)
    assert manifest is not None
    for table, record in manifest.tables.items():
        rows, checksum = psql_as_postgres(
            checksum_sql(SCHEMA_NAME, table, record.key_column, "postgresql"), "gavo"
        ).split("|")
        assert (int(rows), checksum) == (record.rows, record.checksum)
