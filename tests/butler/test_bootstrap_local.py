"""The Butler bootstrap on the local PostgreSQL: a first run makes every step, a second run
changes nothing (same steps reported: none; same registry state), and the reader is SELECT-only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lsst.daf.butler import Butler

from butler.conftest import READER, ScratchRegistry, psql
from idf_ops.butler.bootstrap import CHAIN, DATASET_TYPES, RUNS, BootstrapSpec, bootstrap

pytestmark = pytest.mark.local_stack


def registry_state(registry: ScratchRegistry, repo_uri: str) -> dict[str, Any]:
    """What a bootstrap can change: extensions, tables, the reader's privileges, default ACLs, and
    the Butler's collections, chain and dataset types."""
    db = registry.database
    butler = Butler.from_config(repo_uri, writeable=False)
    try:
        butler_state = {
            "collections": sorted(butler.collections.query("*")),
            "chain": list(butler.collections.get_info(CHAIN).children),
            "dataset_types": sorted(str(t) for t in butler.registry.queryDatasetTypes()),
        }
    finally:
        butler.close()
    return {
        **butler_state,
        "extensions": psql(db, "SELECT extname FROM pg_extension ORDER BY 1"),
        "tables": psql(db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"),
        "reader_selectable": psql(
            db,
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "  # noqa: S608 - a constant role
            "WHERE n.nspname = 'public' AND c.relkind = 'r' "
            f"AND has_table_privilege('{READER}', c.oid, 'SELECT')",
        ),
        "default_acl": psql(
            db, "SELECT defaclrole::regrole, defaclobjtype, defaclacl::text FROM pg_default_acl"
        ),
    }


def test_second_bootstrap_changes_nothing(scratch_registry: ScratchRegistry, tmp_path: Path) -> None:
    spec = BootstrapSpec(
        repo_uri=str(tmp_path / "repo"), db_url=scratch_registry.writer_url, reader_role=READER
    )
    first = bootstrap(spec)
    assert first.changed
    assert first.steps[:2] == ["extension btree_gist", f"repository {spec.repo_uri}"], first.steps
    assert [s for s in first.steps if s.startswith("RUN ")] == [f"RUN {run}" for run in RUNS]
    assert f"CHAINED {CHAIN}" in first.steps
    assert sum(s.startswith("dataset type ") for s in first.steps) == len(DATASET_TYPES)
    assert any(s.startswith(f"default SELECT on the writer's future tables to {READER}") for s in first.steps)
    before = registry_state(scratch_registry, spec.repo_uri)
    assert before["extensions"] == [["btree_gist"], ["plpgsql"]]
    assert before["chain"] == list(reversed(RUNS))
    assert int(before["reader_selectable"][0][0]) == len(before["tables"]) > 0

    second = bootstrap(spec)

    assert second.steps == [], f"a second bootstrap changed: {second.steps}"
    assert not second.changed
    assert registry_state(scratch_registry, spec.repo_uri) == before


def test_reader_sees_lazily_created_tables_and_cannot_write(
    scratch_registry: ScratchRegistry, tmp_path: Path
) -> None:
    """A table the writer creates after the bootstrap is readable by the reader (default
    privileges), and the reader's registry role refuses a write."""

    spec = BootstrapSpec(
        repo_uri=str(tmp_path / "repo"), db_url=scratch_registry.writer_url, reader_role=READER
    )
    bootstrap(spec)
    db = scratch_registry.database
    psql(db, "SET ROLE butler_writer; CREATE TABLE later_dataset_tags (id integer)")
    assert psql(db, f"SELECT has_table_privilege('{READER}', 'later_dataset_tags', 'SELECT')") == [["t"]]
    assert psql(db, f"SELECT has_table_privilege('{READER}', 'later_dataset_tags', 'INSERT')") == [["f"]]
    assert bootstrap(spec).steps == []  # the new table needed no grant: the default privileges did it
