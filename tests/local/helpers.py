"""Helpers of the local-stack suites: PostgreSQL as superuser, the `idf` CLI as a subprocess."""

from __future__ import annotations

import os
import subprocess

from idf_core.paths import REPO_ROOT

__all__ = ["IDF", "pg_online", "psql_as_postgres", "run_idf"]

IDF = [str(REPO_ROOT / ".venv" / "bin" / "idf")]


def psql_as_postgres(sql: str, database: str = "postgres") -> str:
    """Run SQL as the `postgres` superuser over the Unix socket; return unaligned output."""
    result = subprocess.run(
        ["su", "postgres", "-c", f"psql -X -At -v ON_ERROR_STOP=1 -d {database}"],
        input=sql,
        text=True,
        capture_output=True,
        check=False,
        timeout=60,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip())
    return result.stdout.strip()


def run_idf(
    *args: str, env: dict[str, str] | None = None, timeout: int = 900
) -> subprocess.CompletedProcess[str]:
    """Run the `idf` CLI as a subprocess (exit codes and stderr as an operator sees them)."""
    return subprocess.run(
        [*IDF, *args],
        text=True,
        capture_output=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=REPO_ROOT,
        check=False,
    )


def pg_online() -> bool:
    """Whether cluster 15/main runs."""
    out = subprocess.run(
        ["pg_lsclusters", "--no-header", "15", "main"], text=True, capture_output=True, check=False
    )
    return "online" in out.stdout
