"""Scan a git working tree for secrets with detect-secrets, against a reviewed baseline.

Owns which files are scanned (tracked plus untracked-not-ignored: what a commit could pick up)
and what counts as a finding: anything detect-secrets reports that the baseline does not list as
reviewed (``is_secret: false``). Regenerate the baseline with the command in runbooks/security.md.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from detect_secrets.core.secrets_collection import SecretsCollection
from detect_secrets.settings import default_settings, transient_settings

__all__ = ["BASELINE_NAME", "Finding", "repository_files", "unreviewed_findings"]

BASELINE_NAME = ".secrets.baseline"


@dataclass(frozen=True)
class Finding:
    """One potential secret: where, and which detector."""

    filename: str
    line_number: int
    kind: str

    def __str__(self) -> str:
        return f"{self.filename}:{self.line_number}: {self.kind}"


def repository_files(root: Path) -> list[str]:
    """Tracked and untracked-but-not-ignored files under ``root`` (relative paths)."""
    listing = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
    ).stdout.decode()
    names = sorted({name for name in listing.split("\0") if name})
    return [n for n in names if n != BASELINE_NAME and (root / n).is_file() and not (root / n).is_symlink()]


def unreviewed_findings(root: Path) -> list[Finding]:
    """Findings in ``root`` that the baseline does not mark as reviewed false positives."""
    baseline_path = root / BASELINE_NAME
    baseline = json.loads(baseline_path.read_text()) if baseline_path.exists() else None
    files = repository_files(root)
    settings = default_settings() if baseline is None else transient_settings(baseline)
    with settings:
        found = _scan(root, files)
    # Compare on (file, secret hash, detector): the scanner's own objects carry absolute paths.
    reviewed = {
        (name, item["hashed_secret"], item["type"])
        for name, items in (baseline or {}).get("results", {}).items()
        for item in items
        if item.get("is_secret") is False
    }
    return sorted(
        (
            Finding(name, secret.line_number, secret.type)
            for name, secret in found
            if (name, secret.secret_hash, secret.type) not in reviewed
        ),
        key=lambda f: (f.filename, f.line_number),
    )


def _scan(root: Path, files: list[str]) -> SecretsCollection:
    found = SecretsCollection(root=str(root))
    # One file at a time in this process: detect-secrets' scan_files forks a multiprocessing pool,
    # and a fork from a pytest process whose other tests left threads behind can deadlock on a lock.
    for name in files:
        found.scan_file(name)
    return found
