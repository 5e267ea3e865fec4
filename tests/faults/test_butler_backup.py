"""Back up the Butler registry with pg_dump, restore it into a scratch database, lose nothing.

Proof in two layers: every registry table (and sequence) has the same row count and the same
content checksum in the restored database; and a Butler opened read-only on the restored
registry sees the same collections, dataset types and datasets, and resolves every dataset to
the same bytes as the live registry. The scratch database is dropped afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml
from lsst.daf.butler import Butler
from lsst.utils.db_auth import DbAuth

from faults import pg_admin
from idf_core.contract import StackOutputs
from idf_core.paths import state_dir

pytestmark = pytest.mark.local_stack


def _retarget_config(repo_root: Path, scratch_db: str, out_dir: Path) -> tuple[Path, str, str]:
    """Write a butler.yaml like the repository's but whose registry is ``scratch_db``."""
    text = (repo_root / "butler.yaml").read_text().replace("<butlerRoot>", str(repo_root))
    config: dict[str, Any] = yaml.safe_load(text)
    original_url = str(config["registry"]["db"])
    parts = urlsplit(original_url)
    scratch_url = urlunsplit(parts._replace(path=f"/{scratch_db}"))
    config["registry"]["db"] = scratch_url
    config.setdefault("datastore", {}).setdefault("root", str(repo_root))
    path = out_dir / "butler.yaml"
    path.write_text(yaml.safe_dump(config))
    return path, original_url, scratch_url


def _db_auth_with_scratch(
    secrets_dir: str | None, original_url: str, scratch_url: str, out_dir: Path
) -> Path:
    """A private copy of the local db-auth.yaml with one more entry: the scratch database, same role."""
    source = Path(secrets_dir or "/var/lib/idf/secrets") / "db-auth.yaml"
    entries: list[dict[str, Any]] = yaml.safe_load(source.read_text()) if source.is_file() else []
    parts = urlsplit(original_url)
    user, password = DbAuth(authList=entries).getAuth(
        "postgresql", parts.username, parts.hostname, parts.port, parts.path.lstrip("/")
    )
    scratch = urlsplit(scratch_url)
    entries.append(
        {
            "url": f"postgresql://{user}@{scratch.hostname}:{scratch.port or 5432}{scratch.path}",
            "username": user,
            "password": password,
        }
    )
    path = out_dir / "db-auth.yaml"
    path.touch(mode=0o600)
    path.write_text(yaml.safe_dump(entries))
    return path


def _inventory(butler: Any) -> dict[str, Any]:
    refs = butler.query_all_datasets(collections="*", find_first=False, limit=None)
    return {
        "collections": sorted(butler.collections.query("*")),
        "dataset_types": sorted(t.name for t in butler.registry.queryDatasetTypes()),
        "datasets": sorted(str(ref.id) for ref in refs),
        "refs": refs,
    }


def test_registry_backup_restore_loses_nothing(
    local_outputs: StackOutputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry_db = local_outputs.butler.registry_database
    repo_root = Path(local_outputs.butler.repo_uri)
    scratch_db = f"idf_restore_check_{os.getpid()}"
    archive = tmp_path / "registry.dump"
    started = time.monotonic()
    pg_admin.dump(registry_db, archive)
    dumped = time.monotonic()
    try:
        pg_admin.restore(archive, scratch_db)
        restored_at = time.monotonic()
        live_sums = pg_admin.table_checksums(registry_db)
        restored_sums = pg_admin.table_checksums(scratch_db)
        assert live_sums, f"registry database {registry_db} has no tables: is the Butler repository created?"
        differing = {k: (v, restored_sums.get(k)) for k, v in live_sums.items() if restored_sums.get(k) != v}
        assert not differing and set(live_sums) == set(restored_sums), differing

        config, original_url, scratch_url = _retarget_config(repo_root, scratch_db, tmp_path)
        auth = _db_auth_with_scratch(local_outputs.secrets_dir, original_url, scratch_url, tmp_path)
        monkeypatch.setenv("LSST_DB_AUTH", str(auth))
        monkeypatch.delenv("LSST_DB_AUTH_CREDENTIALS", raising=False)
        live = Butler.from_config(str(repo_root), writeable=False)
        restored = Butler.from_config(str(config), writeable=False)
        live_inv, restored_inv = _inventory(live), _inventory(restored)
        for key in ("collections", "dataset_types", "datasets"):
            assert live_inv[key] == restored_inv[key], f"restored registry differs in {key}"
        assert live_inv["datasets"], "the live registry holds no datasets: nothing was proven"
        for ref in live_inv["refs"]:
            live_bytes = live.getURI(ref).read()
            restored_bytes = restored.getURI(ref).read()
            assert hashlib.sha256(live_bytes).digest() == hashlib.sha256(restored_bytes).digest(), ref
            restored.get(ref)  # the restored registry can materialize every dataset
        report = {
            "scenario": "pg_dump of the Butler registry, pg_restore into a scratch database",
            "registry_database": registry_db,
            "tables_compared": sum(1 for k in live_sums if not k.startswith("sequence ")),
            "rows_compared": sum(n for k, (n, _) in live_sums.items() if not k.startswith("sequence ")),
            "datasets_compared": len(live_inv["datasets"]),
            "dump_s": round(dumped - started, 2),
            "restore_s": round(restored_at - dumped, 2),
            "dump_bytes": archive.stat().st_size,
        }
        (state_dir("reports", "faults") / "butler_backup_restore.json").write_text(
            json.dumps(report, indent=2) + "\n"
        )
    finally:
        pg_admin.psql("postgres", f'DROP DATABASE IF EXISTS "{scratch_db}" WITH (FORCE)')
        (tmp_path / "db-auth.yaml").unlink(missing_ok=True)  # a copy of credentials: do not leave it


def test_lost_row_in_a_restore_is_detected(local_outputs: StackOutputs, tmp_path: Path) -> None:
    """The comparison can fail: a restore missing one dataset row does not pass as equal."""
    registry_db = local_outputs.butler.registry_database
    scratch_db = f"idf_restore_mutant_{os.getpid()}"
    archive = tmp_path / "registry.dump"
    pg_admin.dump(registry_db, archive)
    try:
        pg_admin.restore(archive, scratch_db)
        # Lose one datastore location (a leaf table: nothing references it), then alter one
        # collection's documentation: a lost row and a changed value must both show.
        pg_admin.psql(
            scratch_db, "DELETE FROM dataset_location WHERE ctid = (SELECT min(ctid) FROM dataset_location)"
        )
        pg_admin.psql(
            scratch_db,
            "UPDATE collection SET doc = coalesce(doc, '') || ' ' "
            "WHERE collection_id = (SELECT min(collection_id) FROM collection)",
        )
        live, restored = pg_admin.table_checksums(registry_db), pg_admin.table_checksums(scratch_db)
        location, collection = '"public"."dataset_location"', '"public"."collection"'
        assert live[location][0] == restored[location][0] + 1
        assert live[collection][0] == restored[collection][0]
        assert live[collection][1] != restored[collection][1]
    finally:
        pg_admin.psql("postgres", f'DROP DATABASE IF EXISTS "{scratch_db}" WITH (FORCE)')
