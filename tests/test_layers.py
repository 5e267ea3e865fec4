"""The layer contracts (`[tool.importlinter]` in pyproject.toml) hold, and they can fail.

`idf_core` imports none of the tools; `infra/` (the Pulumi program and the policy pack, run by
the Pulumi CLI in their own processes) never imports the CLI package; services never import the
commands. A copy of the packages with one deliberate `import idf_ops` in `infra/` must break them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("idf_clients", "idf_core", "idf_ops", "infra", "loadtests")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH first: the copy's packages shadow the editable install's finder.
    env = {**os.environ, "PYTHONPATH": str(root), "NO_COLOR": "1"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )


@pytest.fixture(scope="module")
def packages_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("layers")
    for package in PACKAGES:
        shutil.copytree(REPO / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_layer_contracts_are_kept() -> None:
    result = _lint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "edge"),
    [
        ("infra/__init__.py", "import idf_ops", "infra -> idf_ops"),
        ("idf_core/__init__.py", "import infra.config", "idf_core -> infra.config"),
        ("idf_ops/gates/__init__.py", "import idf_ops.cli.main", "idf_ops.gates -> idf_ops.cli.main"),
        ("idf_clients/__init__.py", "import idf_ops.local.settings", "idf_clients -> idf_ops.local.settings"),
    ],
)
def test_a_deliberate_forbidden_import_breaks_a_contract(
    packages_copy: Path, module: str, line: str, edge: str
) -> None:
    target = packages_copy / module
    original = target.read_text()
    target.write_text(original + f"\n{line}  # deliberate: the contract must catch this\n")
    try:
        result = _lint(packages_copy)
    finally:
        target.write_text(original)
    assert result.returncode != 0, result.stdout
    assert "1 broken" in result.stdout, result.stdout
    # import-linter lists each offending edge as "-   <importer> -> <imported> (l.N)".
    edges = [" ".join(ln.split()) for ln in result.stdout.splitlines()]
    assert any(ln.startswith(f"- {edge} (l.") for ln in edges), result.stdout
