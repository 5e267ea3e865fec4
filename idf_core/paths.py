"""Where the repository and the run state live, and the rules for paths an operator gives.

Run state (stack outputs, load manifests, reports) goes under ``var/`` in the repository, or under
``$IDF_STATE_DIR`` when set; it is never committed. Readers get a path (:func:`state_path`) and
never create anything; writers get a created folder (:func:`state_dir`).

Every path or name an operator types passes one rule here before it is used:

- a stack name is ``[a-z0-9-]`` only (:func:`validate_stack_name`): it becomes a directory under
  ``var/stacks/`` and a file name under ``stacks/``, so ``../../etc`` must never reach a path;
- an input file is read bounded (:func:`read_text_bounded`): regular files only, at most a cap;
- an output folder is not a system directory nor an existing non-directory, and can be written
  (:func:`validate_output_dir`).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from idf_core.errors import BadInput

__all__ = [
    "REPO_ROOT",
    "STACKS_DIR",
    "STACK_NAME_PATTERN",
    "SYSTEM_DIRECTORIES",
    "read_text_bounded",
    "state_dir",
    "state_path",
    "validate_output_dir",
    "validate_stack_name",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
STACKS_DIR = REPO_ROOT / "stacks"

# Lower-case letters, digits and '-': every stack we have (local, dev, dp01, qserv-scale75) and a
# valid Pulumi stack name, GKE label value and path component; never '/', '.', or '..'. 63 is the
# longest GCP label value, and stack names are written into labels.
STACK_NAME_PATTERN = re.compile(r"[a-z0-9-]{1,63}")

# Output folders refused with everything under them: the operating system's own directories. A
# typo such as `--out /etc` must not scatter reports among system files (we run as root here).
SYSTEM_DIRECTORIES = tuple(
    Path(p)
    for p in (
        "/bin",
        "/boot",
        "/dev",
        "/etc",
        "/lib",
        "/lib32",
        "/lib64",
        "/libx32",
        "/proc",
        "/run",
        "/sbin",
        "/sys",
        "/usr",
        "/var/lib",
        "/var/log",
        "/var/gavo",
        "/var/spool",
        "/var/cache",
    )
)
# Refused themselves (a report written straight into them), though folders below them are fine.
SYSTEM_ROOTS = (Path("/"), Path("/var"), Path("/home"), Path("/root"), Path("/opt"), Path("/srv"))


def validate_stack_name(stack: str, option: str = "--stack") -> str:
    """Return ``stack`` if it is a stack name (``[a-z0-9-]``, 1-63 characters); BadInput otherwise."""
    if not STACK_NAME_PATTERN.fullmatch(stack):
        raise BadInput(
            f"{option} {stack!r}: not a stack name; use 1-63 lower-case letters, digits and '-' "
            "(e.g. local, dev, dp01, qserv-scale75)"
        )
    return stack


def _state_root() -> Path:
    return Path(os.environ.get("IDF_STATE_DIR", REPO_ROOT / "var"))


def state_path(*parts: str) -> Path:
    """A path under the run-state root, created by nobody (for readers).

    Each part must be one plain path component: '..', '.', '/' or an empty part would leave the
    run-state root, and is refused as a bug of the caller (ValueError, not BadInput: operator
    input must have been validated before, e.g. by :func:`validate_stack_name`).
    """
    for part in parts:
        if part in ("", ".", "..") or "/" in part or "\\" in part or "\0" in part:
            raise ValueError(f"state path component {part!r} is not a plain name")
    return _state_root().joinpath(*parts)


def state_dir(*parts: str) -> Path:
    """Return (and create) a folder under the run-state root (for writers)."""
    path = state_path(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def read_text_bounded(path: Path, *, what: str, max_bytes: int) -> str:
    """The UTF-8 text of a regular file of at most ``max_bytes``; BadInput naming the file otherwise.

    Symlinks are followed, then the target must be a regular file: a FIFO would block forever,
    ``/dev/zero`` would never end. The file is opened non-blocking and checked on the open
    descriptor (no window between the check and the read), and at most ``max_bytes + 1`` bytes are
    read, so memory and time are bounded whatever the file is.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise BadInput(
            f"{path}: cannot read the {what} ({exc.strerror}); give an existing, readable file"
        ) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "a device"
        raise BadInput(f"{path}: is {kind}, not a regular file; give the path of a {what}")
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise BadInput(f"{path}: cannot read the {what} ({exc.strerror})") from None
    if len(data) > max_bytes:
        raise BadInput(
            f"{path}: larger than {max_bytes // 1024} KiB, the most a {what} may be; is it the right file?"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(
            f"{path}: not UTF-8 text (byte {exc.start}: a binary file, or UTF-16?); save the {what} as UTF-8"
        ) from None


def _is_system_directory(path: Path) -> bool:
    if path in SYSTEM_ROOTS:
        return True
    return any(path == system or system in path.parents for system in SYSTEM_DIRECTORIES)


def validate_output_dir(path: Path, option: str = "--out") -> Path:
    """Check an output folder before anything runs; return it resolved. Creates nothing.

    Refused (BadInput): a system directory or anything under one, an existing non-directory, a
    path below a file, and a folder the process cannot create or write.
    """
    resolved = path.expanduser().resolve()
    if _is_system_directory(resolved):
        raise BadInput(
            f"{option} {path}: {resolved} is a system directory; give a folder of your own "
            "(or leave out the option for the default under var/)"
        )
    if resolved.exists() and not resolved.is_dir():
        raise BadInput(f"{option} {path}: exists and is not a directory; give a new or existing folder")
    existing = resolved
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise BadInput(f"{option} {path}: {existing} is a file, so no folder can be made below it")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise BadInput(
            f"{option} {path}: {existing} is not writable (permissions or a read-only file system); "
            "give a folder you can write"
        )
    return resolved
