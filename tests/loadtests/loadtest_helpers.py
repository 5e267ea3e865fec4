"""Helpers of the load-test suites' tests: fake stack outputs, tiny profiles, running `idf`.

Named uniquely (not `conftest`) because this folder is put on sys.path by pytest: a plain name
could collide with other suites' helpers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
FAKES = Path(__file__).with_name("fake_services.py")
PYTHON = sys.executable


def write_fake_stack(
    state_dir: Path,
    *,
    tap_port: int = 9,
    hub_port: int = 9,
    secrets_dir: Path | None = None,
    kind: str = "local",
    stack: str = "fake",
) -> None:
    """A stack outputs document pointing at fakes on 127.0.0.1."""
    outputs = {
        "stack": stack,
        "kind": kind,
        "tap_url": f"http://127.0.0.1:{tap_port}/tap",
        "hub_url": f"http://127.0.0.1:{hub_port}",
        "qserv": {"host": "127.0.0.1", "port": 9, "dialect": "mariadb-standin", "expected_workers": 1},
        "butler": {
            "repo_uri": "/nowhere",
            "readonly_config": "/nowhere/butler.yaml",
            "registry_host": "127.0.0.1",
            "registry_database": "butler",
        },
        "secrets_dir": str(secrets_dir) if secrets_dir else None,
        "cluster_name": "idf-fake" if kind == "gcp" else None,
    }
    path = state_dir / "stacks" / stack / "outputs.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(outputs))


def write_profile(directory: Path, name: str, **overrides: Any) -> Path:
    """A tiny bounded profile file (TAP low-volume user unless overridden)."""
    profile: dict[str, Any] = {
        "name": name,
        "description": "test profile",
        "users": 2,
        "spawn_rate_per_s": 10,
        "run_time_s": 20,
        "max_iterations_per_user": 4,
        "stop_timeout_s": 5,
        "think_time": {"min_s": 0.0, "max_s": 0.1},
        "tap_job_timeout_s": 20,
        "user_classes": [{"class": "TapLowVolumeUser", "weight": 1}],
        "slos": [{"kind": "tap.lv.*", "p95_ms": 5000, "max_failure_ratio": 0.0, "min_requests": 4}],
    }
    profile.update(overrides)
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return path


def run_idf(
    state_dir: Path, *args: str, env: dict[str, str] | None = None, timeout_s: float = 180
) -> subprocess.CompletedProcess[str]:
    """`idf ARGS` with the run state under ``state_dir``."""
    return subprocess.run(
        [str(REPO / ".venv" / "bin" / "idf"), *args],
        env={**os.environ, "IDF_STATE_DIR": str(state_dir), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=REPO,
        check=False,
    )
