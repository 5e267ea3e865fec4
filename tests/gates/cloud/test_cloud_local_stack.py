"""The gs:// Butler and the registry query of the cloud checks, against the live local stack.

The local stack's read-only Butler (its PostgreSQL registry and SELECT-only role) is published
in the GCS emulator as a cloud stack publishes it: the user-facing config and the datastore's
files under ``gs://<bucket>/repo/``. The cloud checks then open it from gs://, read a dataset
through the datastore, see a write refused by the registry role, and query the registry at the
"private address" the recorded Cloud SQL Admin answer gives (127.0.0.1).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from idf_clients.gcp import StorageClient
from idf_core.contract import load_outputs
from idf_core.facts import DB_AUTH_READER_SECRET
from idf_ops.gates.checks import CHECKS
from idf_ops.gates.checks.base import Budget, CheckFailedError, Outcome
from idf_ops.gates.registry import PlainGate

from .conftest import SQL_PATH, cloud_outputs, context, serve

pytestmark = [pytest.mark.local_stack, pytest.mark.usefixtures("adc")]

BUCKET = "rubin-idf-cloud-butler-datastore"


@pytest.fixture(scope="module")
def published_butler(gcs_emulator: str) -> str:
    """The local Butler's files and read-only config uploaded to the emulator; its gs:// config URI."""
    local = load_outputs("local")
    repo = Path(local.butler.repo_uri)
    if not (repo / "butler-readonly.yaml").is_file():
        pytest.fail(f"{repo}/butler-readonly.yaml missing: run `idf local up` first")
    before = os.environ.get("STORAGE_EMULATOR_HOST")
    os.environ["STORAGE_EMULATOR_HOST"] = gcs_emulator
    try:
        client = StorageClient().library_client
        if client.lookup_bucket(BUCKET) is None:
            client.create_bucket(BUCKET)
        count = StorageClient().upload_dir(repo, f"gs://{BUCKET}/repo")
        assert count > 2
    finally:
        if before is None:
            os.environ.pop("STORAGE_EMULATOR_HOST")
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = before
    return f"gs://{BUCKET}/repo/butler-readonly.yaml"


@pytest.fixture
def reader_auth(monkeypatch: pytest.MonkeyPatch, gcs_emulator: str) -> None:
    local = load_outputs("local")
    monkeypatch.setenv("LSST_DB_AUTH", str(Path(str(local.secrets_dir)) / DB_AUTH_READER_SECRET))
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    monkeypatch.delenv("IDF_PG_DSN", raising=False)


def run(check_id: str, tmp_path: Path, config: str) -> Outcome:
    gate = PlainGate(
        id=check_id, check=check_id, title="a cloud gate under test", timeout_s=CHECKS[check_id].timeout_s
    )
    butler = cloud_outputs().butler.model_copy(
        update={"readonly_config": config, "repo_uri": config.rsplit("/", 1)[0]}
    )
    ctx = context(cloud_outputs(butler=butler.model_dump()), tmp_path)
    return CHECKS[check_id].function(ctx, gate, Budget(deadline=time.monotonic() + gate.timeout_s))


@pytest.mark.usefixtures("reader_auth")
def test_butler_opens_read_only_from_gs_and_reads(published_butler: str, tmp_path: Path) -> None:
    outcome = run("butler-read", tmp_path, published_butler)
    assert outcome.reason == "read-only Butler opens, finds the DP0.1 collections and dataset types, reads"
    assert any(line.startswith(f"opened {published_butler} read-only") for line in outcome.evidence)


@pytest.mark.usefixtures("reader_auth")
def test_butler_write_from_gs_is_refused_by_the_registry(published_butler: str, tmp_path: Path) -> None:
    outcome = run("butler-write-refused", tmp_path, published_butler)
    assert outcome.reason == "writes are refused by the client and by the registry's read-only role"
    assert any("registry role (writeable=True): refused" in line for line in outcome.evidence)


@pytest.mark.usefixtures("reader_auth")
def test_butler_config_absent_from_the_bucket_fails(published_butler: str, tmp_path: Path) -> None:
    with pytest.raises(CheckFailedError) as info:
        run("butler-read", tmp_path, f"gs://{BUCKET}/elsewhere/butler-readonly.yaml")
    assert info.value.reason.startswith(f"Butler gs://{BUCKET}/elsewhere/butler-readonly.yaml does not open")


@pytest.mark.usefixtures("reader_auth")
def test_registry_answers_at_the_cloud_sql_private_address(
    published_butler: str, apis: HTTPServer, tmp_path: Path
) -> None:
    serve(apis, SQL_PATH, "sqladmin-instance-runnable.json")
    outcome = run("database-reachable", tmp_path, published_butler)
    assert (
        outcome.reason == "Cloud SQL butler-registry-cloud RUNNABLE; the registry answers on 127.0.0.1:5432"
    )
    assert "database=dp01_butler" in outcome.evidence
