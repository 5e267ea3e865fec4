"""The repository's own linters as tests: ruff check and ruff format everywhere, mypy on every
package (infra/ also has its own type-check test against the provider stubs in tests/infra),
ansible-lint's production profile on ansible/."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from support.mypy_cache import mypy_cache_dir

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def _run(command: list[str], cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
        env={**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"},
    )


def test_ruff_is_clean() -> None:
    result = _run([str(VENV_BIN / "ruff"), "check", "--output-format", "concise", "."])
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_enforced() -> None:
    result = _run([str(VENV_BIN / "ruff"), "format", "--check", "."])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.timeout(1800)  # a cold cache on a fresh clone of a busy machine: 10+ minutes
def test_mypy_is_clean_on_every_package(tmp_path: Path) -> None:
    # [tool.mypy] files: idf_core, idf_clients, infra, idf_ops, loadtests, with disallow_untyped_defs
    # and the pydantic plugin; the cache shared with tests/infra/test_infra_typecheck.py.
    cache = mypy_cache_dir(tmp_path / "mypy-cache")
    result = _run([str(VENV_BIN / "mypy"), "--cache-dir", str(cache)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues found" in result.stdout


def test_ansible_lint_production_profile_is_clean() -> None:
    result = _run([str(VENV_BIN / "ansible-lint"), "--profile", "production", "--nocolor"], REPO / "ansible")
    assert result.returncode == 0, result.stdout + result.stderr
