"""Finding, listing and validating load-test profiles (``loadtests/profiles/<name>.yaml``)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from idf_core.errors import BadInput
from idf_core.paths import REPO_ROOT, read_text_bounded
from loadtests.profile import Profile

__all__ = ["PROFILES_DIR", "list_profiles", "load_profile", "resolve_profile"]

PROFILES_DIR = REPO_ROOT / "loadtests" / "profiles"
# Profiles are under 2 KB; 256 KiB bounds what a mistyped path (a FIFO, a device, a log) can cost.
MAX_PROFILE_BYTES = 256 * 1024


def resolve_profile(name_or_path: str) -> Path:
    """A profile name (``smoke``) or the path of a profile file."""
    candidate = Path(name_or_path)
    if candidate.suffix in {".yaml", ".yml"}:
        if not candidate.exists():  # a FIFO or a device is refused when read (load_profile)
            raise BadInput(f"{candidate}: no such profile file.")
        return candidate
    path = PROFILES_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in PROFILES_DIR.glob("*.yaml")))
        raise BadInput(
            f"unknown profile {name_or_path!r}; known profiles: {known} (see `idf loadtest list`)."
        )
    return path


def load_profile(name_or_path: str) -> Profile:
    """Read and validate a profile; BadInput names the file, the key path and what to fix."""
    path = resolve_profile(name_or_path)
    text = read_text_bounded(path, what="load-test profile", max_bytes=MAX_PROFILE_BYTES)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BadInput(f"{path}: invalid YAML ({exc}); fix the syntax.") from exc
    except RecursionError:
        raise BadInput(f"{path}: nests too deeply to parse; a profile is a few levels deep.") from None
    if not isinstance(document, dict):
        raise BadInput(f"{path}: a profile is a YAML mapping, found {type(document).__name__}.")
    try:
        profile = Profile.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"key {'.'.join(str(part) for part in error['loc']) or '(top)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise BadInput(f"{path}: invalid profile: {problems}. See loadtests/README.md for the keys.") from exc
    if profile.name != path.stem:
        raise BadInput(
            f"{path}: key name: {profile.name!r} differs from the file name {path.stem!r}; make them equal."
        )
    return profile


def list_profiles() -> list[Profile]:
    """Every profile of ``loadtests/profiles/`` (invalid ones raise BadInput)."""
    return [load_profile(str(path)) for path in sorted(PROFILES_DIR.glob("*.yaml"))]
