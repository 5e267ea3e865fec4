"""Talk to the local PostgreSQL cluster as its superuser (``postgres``, peer authentication).

Fault tests run as root; the ``postgres`` OS user owns the cluster, so the client tools run under
``runuser -u postgres``. Nothing here holds or reads a password.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["dump", "psql", "restore", "table_checksums"]


def _as_postgres(*command: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["runuser", "-u", "postgres", "--", *command],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed (rc {done.returncode}): {done.stderr.strip()}")
    return done


def psql(database: str, sql: str) -> list[list[str]]:
    """Run one SQL statement; rows as lists of text fields."""
    out = _as_postgres(
        "psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def dump(database: str, archive: Path) -> None:
    """pg_dump in custom format (what pg_restore reads) into ``archive`` (written by root)."""
    with archive.open("wb") as handle:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", "pg_dump", "-Fc", "-d", database],
            check=True,
            stdout=handle,
            stderr=subprocess.PIPE,
            timeout=600,
        )


def restore(archive: Path, database: str) -> None:
    """Create ``database`` and pg_restore ``archive`` into it (read through stdin)."""
    _as_postgres("createdb", database)
    with archive.open("rb") as handle:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", "pg_restore", "--exit-on-error", "-d", database],
            check=True,
            stdin=handle,
            capture_output=True,
            timeout=600,
        )


def table_checksums(database: str) -> dict[str, tuple[int, str]]:
    """Every user table -> (row count, md5 over its rows in a canonical order); sequences too."""
    tables = psql(
        database,
        (
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') "
            "ORDER BY 1, 2"
        ),
    )
    sums: dict[str, tuple[int, str]] = {}
    for schema, name in tables:
        qualified = f'"{schema}"."{name}"'
        # Identifiers come from the catalog itself, quoted: no outside input reaches this SQL.
        digest_sql = f"SELECT count(*), md5(coalesce(string_agg(md5(t::text), '' ORDER BY md5(t::text)), '')) FROM {qualified} t"  # noqa: E501, S608
        count, digest = psql(database, digest_sql)[0]
        sums[qualified] = (int(count), digest)
    for schema, name in psql(
        database, ("SELECT sequence_schema, sequence_name FROM information_schema.sequences ORDER BY 1, 2")
    ):
        qualified = f'"{schema}"."{name}"'
        (value,) = psql(database, f"SELECT last_value FROM {qualified}")[0]  # noqa: S608
        sums[f"sequence {qualified}"] = (int(value), "")
    return sums
