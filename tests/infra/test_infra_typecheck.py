"""mypy on the Pulumi program against pulumi-gcp's type stubs: a misspelt argument fails.

One mypy run checks the real modules (no errors allowed) and a mutant copy of
`infra/node_pools.py` with one misspelt keyword (which must be reported), so the test proves the
type check would catch the mistake.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support.mypy_cache import mypy_cache_dir

REPO = Path(__file__).resolve().parents[2]
PROGRAM_MODULES = [
    "__main__.py",
    "budget.py",
    "cloudsql.py",
    "config",  # the package: mypy checks every module in it
    "dns.py",
    "gke.py",
    "iam.py",
    "kubernetes.py",
    "network.py",
    "node_pools.py",
    "program.py",
    "storage.py",
]


@pytest.mark.timeout(2000)
def test_mypy_checks_pulumi_arguments(tmp_path: Path) -> None:
    source = (REPO / "infra" / "node_pools.py").read_text()
    assert "auto_upgrade=True" in source
    mutant = tmp_path / "mutant_node_pools.py"
    mutant.write_text(source.replace("auto_upgrade=True", "auto_upgrde=True"))
    files = [str(REPO / "infra" / m) for m in PROGRAM_MODULES]
    cache = mypy_cache_dir(tmp_path / "mypy-cache")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--cache-dir", str(cache), *files, str(mutant)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1800,  # cold cache on a fresh clone: pulumi-gcp and pulumi-kubernetes stubs take minutes
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if ": error:" in line]
    real = [line for line in lines if "mutant_node_pools.py" not in line]
    assert real == [], "mypy errors in infra/:\n" + "\n".join(real)
    assert any('"auto_upgrde"' in line for line in lines), result.stdout + result.stderr
