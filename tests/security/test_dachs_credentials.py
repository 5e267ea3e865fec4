"""DaCHS' database credential files are not readable by other local users (issue 16, finding 1).

`dachs init` leaves `feed` (the gavoadmin password: DELETE on the catalogs, CREATE ROLE),
`trustedquery` and `untrustedquery` (the gavo password: a crafted UWS job row is unpickled by the
server) mode 0664. The `dachs` role keeps them 0640 root:gavo on every run.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.local_stack

REPO = Path(__file__).resolve().parents[2]
DEFAULTS = yaml.safe_load((REPO / "ansible/roles/dachs/defaults/main.yml").read_text())
ETC = Path(DEFAULTS["dachs_root_dir"]) / "etc"
# The files that hold a password must be listed in the role; a missing one is a finding of its own.
PASSWORD_FILES = ("feed", "trustedquery", "untrustedquery")


def test_every_password_file_is_in_the_roles_list() -> None:
    assert set(PASSWORD_FILES) <= set(DEFAULTS["dachs_credential_files"])


@pytest.mark.parametrize("name", DEFAULTS["dachs_credential_files"])
def test_credential_file_is_root_gavo_0640(name: str) -> None:
    path = ETC / name
    info = path.stat()
    mode = stat.S_IMODE(info.st_mode)
    assert mode & 0o027 == 0, f"{path} is {mode:04o}: group-writable or world-accessible"
    assert pwd.getpwuid(info.st_uid).pw_name == "root", f"{path} owner"
    assert grp.getgrgid(info.st_gid).gr_name == "gavo", f"{path} group"


@pytest.mark.parametrize("name", PASSWORD_FILES)
def test_another_local_user_cannot_read_the_password(name: str) -> None:
    path = ETC / name
    assert "password" in path.read_text(), f"{path} no longer holds a password: update PASSWORD_FILES"
    runuser = shutil.which("runuser")
    assert runuser is not None
    result = subprocess.run(
        [runuser, "-u", "nobody", "--", "cat", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0, f"nobody read {path}"
    assert "password" not in result.stdout


def _secret_values() -> dict[str, str]:
    """Every generated secret value of the local stack, by where it is kept."""
    values: dict[str, str] = {}
    for path in Path("/var/lib/idf/secrets").iterdir():
        if path.is_file() and path.suffix != ".yaml":
            values[str(path)] = path.read_text().strip()
    for name in PASSWORD_FILES:
        for line in (ETC / name).read_text().splitlines():
            if line.startswith("password"):
                values[f"{ETC / name}"] = line.split("=", 1)[1].strip()
    return {k: v for k, v in values.items() if len(v) >= 8}


def _files_on_one_filesystem(root: Path) -> Iterator[Path]:
    """Regular files under `root`, not crossing mount points (the batch root mounts /proc and
    /dev/shm inside /var/lib/idf, and /proc is neither readable by walking nor ours to scan)."""
    device = root.stat().st_dev
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = [
            name for name in subdirectories if (Path(directory) / name).lstat().st_dev == device
        ]
        for name in files:
            path = Path(directory, name)
            if not path.is_symlink() and path.is_file():
                yield path


@pytest.mark.parametrize("root", ["/etc/idf", "/var/gavo/etc", "/var/lib/idf"])
def test_no_file_another_user_can_read_holds_a_secret(root: str) -> None:
    # Not only the files we know of: any file under the stack's configuration and state trees that
    # a user other than root and gavo can read must not contain a generated secret.
    secrets = _secret_values()
    assert secrets, "no secrets found: the local stack is not up"
    leaks: list[str] = []
    for path in _files_on_one_filesystem(Path(root)):
        mode = stat.S_IMODE(path.stat().st_mode)
        if not mode & stat.S_IROTH or path.stat().st_size > 1_000_000:
            continue
        # The file is world-readable, but is it reachable? Every parent directory needs o+x.
        if any(not stat.S_IMODE(p.stat().st_mode) & stat.S_IXOTH for p in path.parents if p != Path("/")):
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        leaks += [f"{path} holds the secret of {where}" for where, value in secrets.items() if value in text]
    assert not leaks, "\n".join(leaks)
