"""The Butler over the local S3 server (role `s3store`, SeaweedFS): the repository is built into a
bucket and a registry database of their own (never the live dp01 repository), then a process given
only what users get (the read-only config, the reader's registry credentials and the S3 reader
identity) reads a stored dataset and is refused writes by both the registry and the object store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from butler.conftest import READER, SECRETS_DIR, ScratchRegistry, psql
from idf_clients.secrets import read_secret
from idf_core.facts import PG_PASSWORD_SECRET
from idf_ops.local.ansible import run_playbook
from idf_ops.local.butler_repo import STORED_CATALOG_TYPE, build_repo

pytestmark = pytest.mark.local_stack

ENDPOINT = "http://127.0.0.1:8333"  # ansible/roles/s3store defaults: s3store_port
CATALOG_DIR = Path("/var/lib/idf/dataload")
PROFILE = "idfs3"  # the profile name of the butler role's butler_s3_root


def s3_keys(identity: str) -> tuple[str, str]:
    """The access and secret key the s3store role generated for ``identity``."""
    return (
        read_secret(SECRETS_DIR / f"s3_{identity}.access_key", f"S3 {identity} access key"),
        read_secret(SECRETS_DIR / f"s3_{identity}.secret_key", f"S3 {identity} secret key"),
    )


def profile_url(identity: str) -> str:
    access, secret = s3_keys(identity)
    return f"http://{access}:{secret}@{ENDPOINT.removeprefix('http://')}"


@pytest.fixture
def scratch_bucket() -> Iterator[str]:
    """A bucket of its own on the local S3 server, emptied and removed afterwards."""
    if not (SECRETS_DIR / "s3_builder.access_key").is_file():
        pytest.fail("the local S3 server is missing: run `idf local up --only s3store` first")
    access, secret = s3_keys("builder")
    s3 = boto3.client(
        "s3", endpoint_url=ENDPOINT, aws_access_key_id=access, aws_secret_access_key=secret,
        region_name="us-east-1",
    )  # fmt: skip
    bucket = f"idf-s3-check-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    try:
        yield bucket
    finally:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=item["Key"])
        s3.delete_bucket(Bucket=bucket)


# Run with the users' credentials only: the reader's registry entry and the S3 reader identity.
READER_CHECKS = """
import json, sys
from lsst.daf.butler import Butler
from lsst.resources import ResourcePath
config, dataset_type, root = sys.argv[1:4]
out = {}
butler = Butler.from_config(config, writeable=False)
out["writeable"] = butler.isWriteable()
refs = sorted(butler.query_datasets(dataset_type, collections="*", find_first=False), key=str)
out["refs"] = len(refs)
out["rows"] = butler.get(refs[0]).num_rows
out["uri"] = str(butler.getURI(refs[0]))
butler.close()
try:
    Butler.from_config(config, writeable=True).registry.registerRun("u/reader/attempt")
    out["registry_write"] = "accepted"
except Exception as exc:
    out["registry_write"] = type(exc).__name__ + ": " + str(exc).splitlines()[0]
try:
    ResourcePath(root).join("reader-was-here.txt").write(b"x")
    out["s3_write"] = "accepted"
except Exception as exc:
    out["s3_write"] = type(exc).__name__ + ": " + str(exc).splitlines()[0]
print(json.dumps(out))
"""


def test_build_and_read_only_checks_on_s3(
    scratch_registry: ScratchRegistry, scratch_bucket: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    root = f"s3://{PROFILE}@{scratch_bucket}/dp01"
    readonly_config = tmp_path / "butler-readonly.yaml"
    monkeypatch.setenv(f"LSST_RESOURCES_S3_PROFILE_{PROFILE}", profile_url("builder"))

    first = build_repo(
        root, db_url=scratch_registry.writer_url, reader_db_url=scratch_registry.reader_url,
        readonly_config=readonly_config, catalog_dir=CATALOG_DIR, stored_tracts=1,
    )  # fmt: skip
    assert first.changed
    assert f"repository {root}" in first.steps, first.steps
    second = build_repo(
        root, db_url=scratch_registry.writer_url, reader_db_url=scratch_registry.reader_url,
        readonly_config=readonly_config, catalog_dir=CATALOG_DIR, stored_tracts=1,
    )  # fmt: skip
    assert second.steps == [], f"a second build changed: {second.steps}"
    assert f"root: {root}" in readonly_config.read_text()

    # The process of a user: no writer entry, no builder key; the same profile name, reader keys.
    reader_password = read_secret(
        SECRETS_DIR / PG_PASSWORD_SECRET.format(role=READER), "Butler reader password"
    )
    reader_entry = {"url": f"postgresql://{READER}@127.0.0.1:5432/{scratch_registry.database}",
                    "username": READER, "password": reader_password}  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LSST_", "AWS_", "S3_"))}
    env |= {
        "LSST_DB_AUTH_CREDENTIALS": json.dumps([reader_entry]),
        f"LSST_RESOURCES_S3_PROFILE_{PROFILE}": profile_url("reader"),
    }
    done = subprocess.run(
        [sys.executable, "-c", READER_CHECKS, str(readonly_config), STORED_CATALOG_TYPE[0], root],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.splitlines()[-1])

    assert out["writeable"] is False
    assert out["refs"] == 1
    assert out["rows"] > 0
    assert out["uri"].startswith(f"s3://{PROFILE}@{scratch_bucket}/dp01/"), out["uri"]
    assert out["registry_write"] != "accepted"
    assert "permission denied" in out["registry_write"].lower(), out["registry_write"]
    assert out["s3_write"] != "accepted"
    assert "AccessDenied" in out["s3_write"] or "403" in out["s3_write"], out["s3_write"]


@pytest.mark.slow
def test_butler_role_s3_variant(tmp_path: Path, scratch_bucket: str) -> None:
    """The butler role itself with ``butler_datastore: s3``, into a database, directory and bucket
    of its own. Its secrets directory is a copy of the live one (the same registry and S3 keys:
    the role's password lookups then change no role's password, and the live db-auth files stay
    untouched). A second run changes nothing; the users' S3 profile holds the reader identity."""
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700)
    for name in (f"pg_{READER}.password", "pg_butler_writer.password", *(
        f"s3_{i}.{p}" for i in ("builder", "reader") for p in ("access_key", "secret_key")
    )):  # fmt: skip
        (secrets / name).write_bytes((SECRETS_DIR / name).read_bytes())
    database = f"idf_s3_role_check_{os.getpid()}"
    extravars = {
        "butler_datastore": "s3",
        "butler_database": database,
        "butler_repo_root": str(tmp_path / "butler"),
        "butler_readonly_config": str(tmp_path / "butler" / "butler-readonly.yaml"),
        "butler_secrets_dir": str(secrets),
        "butler_s3_root": f"s3://{PROFILE}@{scratch_bucket}/role",
        "butler_stored_tracts": 1,
    }
    try:
        first = run_playbook("butler.yml", extravars=extravars)
        assert first.rc == 0, (first.failures, first.stdout_tail)
        second = run_playbook("butler.yml", extravars=extravars)
        assert second.rc == 0, (second.failures, second.stdout_tail)
        assert second.changed == 0, [(r.role, r.changed) for r in second.roles.values()]
    finally:
        psql("postgres", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    config = (tmp_path / "butler" / "butler-readonly.yaml").read_text()
    assert f"root: s3://{PROFILE}@{scratch_bucket}/role" in config
    reader_env = (secrets / "s3-reader.env").read_text()
    assert reader_env == f"LSST_RESOURCES_S3_PROFILE_{PROFILE}={profile_url('reader')}\n"
    assert (secrets / "s3-reader.env").stat().st_mode & 0o077 == 0
