"""The stacks the repository declares: one per ``stacks/Pulumi.<stack>.yaml``."""

from __future__ import annotations

from idf_core.paths import STACKS_DIR

__all__ = ["STACKS"]

STACKS: tuple[str, ...] = tuple(
    sorted(path.stem.removeprefix("Pulumi.") for path in STACKS_DIR.glob("Pulumi.*.yaml"))
)
