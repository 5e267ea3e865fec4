"""The RAID DaemonSet's script, run by bash against stub mdadm/blkid/mkfs/mount commands that keep
their state in files: it creates and formats once, reuses what exists after a container restart or
a node reboot, and never formats a device that carries anything (or that blkid cannot read).

Only the script's decisions are tested here; the real commands run on a GKE node (untested).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from infra.qserv_local_ssd import RAID_SCRIPT, VOLUME_DIR

STUBS = {
    # `mdadm --detail --scan` lists the array while it runs; --examine finds a superblock once created.
    "mdadm": """case "$1" in
  --detail) [ -e "$STATE/running" ] && echo "ARRAY /dev/md127 metadata=1.2 name=node-1:qserv-data UUID=x" ;;
  --examine) [ -e "$STATE/superblock" ] ;;
  --create|--assemble) touch "$STATE/running" "$STATE/superblock"; echo "mdadm $*" >> "$STATE/log" ;;
esac
""",
    "blkid": """if [ -e "$STATE/blkid-error" ]; then exit 4; fi
if [ -e "$STATE/fs" ]; then cat "$STATE/fs"; else exit 2; fi
""",
    "mkfs.ext4": 'echo ext4 > "$STATE/fs"; echo "mkfs.ext4 $*" >> "$STATE/log"\n',
    "chattr": 'echo "chattr $*" >> "$STATE/log"\n',
    "mount": 'touch "$STATE/mounted"; echo "mount $*" >> "$STATE/log"\n',
    "mountpoint": '[ -e "$STATE/mounted" ]\n',
    "findmnt": "echo /dev/md127\n",
}


@pytest.fixture
def node(tmp_path: Path) -> Path:
    """A fake node: stub commands on PATH, 3 local SSD device files, a state directory."""
    bin_dir, devices, state = tmp_path / "bin", tmp_path / "by-id", tmp_path / "state"
    for d in (bin_dir, devices, state):
        d.mkdir()
    for name, body in STUBS.items():
        stub = bin_dir / name
        stub.write_text("#!/bin/bash\n" + body)
        stub.chmod(0o755)
    for i in range(3):
        (devices / f"google-local-ssd-block{i}").touch()
    return tmp_path


def _run(node: Path) -> subprocess.CompletedProcess[str]:
    script = RAID_SCRIPT.replace("/dev/disk/by-id/", f"{node}/by-id/").replace(VOLUME_DIR, f"{node}/mnt")
    env = {"PATH": f"{node}/bin:/usr/bin:/bin", "STATE": str(node / "state")}
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=False)


def _log(node: Path) -> list[str]:
    path = node / "state" / "log"
    return (
        [line.split()[0] + " " + line.split()[1] for line in path.read_text().splitlines()]
        if path.exists()
        else []
    )


def test_first_boot_creates_formats_and_mounts(node: Path) -> None:
    result = _run(node)
    assert result.returncode == 0, result.stderr
    assert _log(node) == ["mdadm --create", "mkfs.ext4 -m", "chattr +i", "mount -o"]
    assert "from 3 local SSDs" in result.stdout


def test_container_restart_changes_nothing(node: Path) -> None:
    _run(node)
    before = _log(node)
    result = _run(node)
    assert result.returncode == 0, result.stderr
    assert _log(node) == before
    assert "nothing to do" in result.stdout


def test_node_reboot_reassembles_and_never_reformats(node: Path) -> None:
    _run(node)
    (node / "state" / "mounted").unlink()
    (node / "state" / "running").unlink()  # the array is not running, its superblocks remain
    result = _run(node)
    assert result.returncode == 0, result.stderr
    assert _log(node)[4:] == ["mdadm --assemble", "chattr +i", "mount -o"]


def test_auto_assembled_array_is_reused(node: Path) -> None:
    _run(node)
    (node / "state" / "mounted").unlink()  # running as /dev/md127 after boot, not mounted
    result = _run(node)
    assert result.returncode == 0, result.stderr
    assert _log(node)[4:] == ["chattr +i", "mount -o"]
    assert "mounted /dev/md127" in result.stdout


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (lambda state: (state / "fs").write_text("xfs\n"), "refusing to reformat"),
        (lambda state: (state / "blkid-error").touch(), "refusing to format"),
    ],
    ids=["foreign-filesystem", "blkid-fails"],
)
def test_anything_but_a_blank_device_is_never_formatted(
    node: Path, prepare: Callable[[Path], object], message: str
) -> None:
    prepare(node / "state")
    result = _run(node)
    assert result.returncode == 1
    assert message in result.stderr
    assert not any(line.startswith("mkfs") for line in _log(node))
    assert not any(line.startswith("mount") for line in _log(node))


def test_node_without_local_ssd_fails_loudly(node: Path) -> None:
    for device in (node / "by-id").iterdir():
        device.unlink()
    result = _run(node)
    assert result.returncode == 1
    assert "no local NVMe SSD" in result.stderr
    assert _log(node) == []
