"""Where the repository and the run state live.

Run state (stack outputs, load manifests, reports) goes under ``var/`` in the repository, or under
``$IDF_STATE_DIR`` when set; it is never committed.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["REPO_ROOT", "STACKS_DIR", "state_dir"]

REPO_ROOT = Path(__file__).resolve().parent.parent
STACKS_DIR = REPO_ROOT / "stacks"


def state_dir(*parts: str) -> Path:
    """Return (and create) a folder under the run-state root."""
    root = Path(os.environ.get("IDF_STATE_DIR", REPO_ROOT / "var"))
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
