"""The HTML board rendered in headless Chromium (Debian `chromium`), screenshot kept as a CI artifact.

The screenshot lands in ``var/artifacts/gates-board.png`` (and the board next to it) so CI keeps
what a release manager would have seen.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from idf_core.paths import REPO_ROOT
from idf_ops.gates.render import write_all
from idf_ops.gates.service import check_gates

from .conftest import local_outputs, write_outputs
from .test_golden import NOW, attestations_file
from .test_loadtest_gate import _write, summary

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO_ROOT / "var" / "artifacts"
# Status colours of the board's CSS (pass green, fail red, overdue amber, attested blue).
COLOURS = {"pass": (0x1A, 0x7F, 0x37), "fail": (0xCF, 0x22, 0x2E), "attested": (0x09, 0x69, 0xDA)}


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert Path(CHROMIUM).exists(), "Debian chromium missing: apt-get install -y chromium (scripts/setup.sh)"
    return subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium-profile'}", "--hide-scrollbars", *args,
        ],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip


def _png_pixels(path: Path) -> tuple[int, int, set[tuple[int, int, int]]]:
    """Width, height and the set of RGB colours of the screenshot (Pillow, matplotlib's own reader)."""
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        colours: set[tuple[int, int, int]] = set()
        for _, colour in rgb.getcolors(maxcolors=1 << 24) or []:
            red, green, blue = colour  # type: ignore[misc]
            colours.add((red, green, blue))
        return rgb.width, rgb.height, colours


def _near(colour: tuple[int, int, int], colours: set[tuple[int, int, int]], tolerance: int = 6) -> bool:
    return any(all(abs(a - b) <= tolerance for a, b in zip(colour, c, strict=True)) for c in colours)


@pytest.fixture
def board(state_dir: Path, tmp_path: Path, closed_port: int) -> Path:
    """A board with pass, fail, attested and unattested (some overdue) rows, written to var/artifacts/."""
    write_outputs(state_dir, local_outputs("boardstack", closed_port, tmp_path))
    fresh = summary(stack="boardstack")
    fresh["finished_at"] = fresh["started_at"] = NOW.isoformat()
    _write(state_dir, fresh)
    (state_dir / "loadtests" / "lt").rename(state_dir / "loadtests" / "boardstack")
    report = check_gates(
        "boardstack", [], today=dt.date(2021, 3, 1), now=NOW, attestations_path=attestations_file(tmp_path)
    )
    out = ARTIFACTS / "gates-board"
    write_all(report, out)
    return out / "index.html"


def test_board_renders_in_chromium_with_status_colours(board: Path, tmp_path: Path) -> None:
    shot = ARTIFACTS / "gates-board.png"
    shot.unlink(missing_ok=True)
    result = _chromium(tmp_path, "--window-size=1400,2400", f"--screenshot={shot}", board.as_uri())
    assert shot.exists(), result.stderr[-2000:]
    width, height, colours = _png_pixels(shot)
    assert (width, height) == (1400, 2400)
    assert len(colours) > 50, "the screenshot is blank"
    for status, colour in COLOURS.items():
        assert _near(colour, colours), f"no {status} colour {colour} on the board"


def test_board_dom_has_summary_and_rows(board: Path, tmp_path: Path) -> None:
    result = _chromium(tmp_path, "--dump-dom", board.as_uri())
    dom = result.stdout
    assert "NOT READY" in dom and "Generated at" in dom
    assert "Stand-ins on this stack" in dom and "MariaDB" in dom
    for checkpoint in ("L2-DP-0010", "L3-PR-0020", "TL-TAP-SCALE-TEST", "TL-GEN3-SOFTWARE-FREEZE"):
        assert f'id="{checkpoint}"' in dom, checkpoint
    assert dom.count('class="row-') == 35  # 21 milestones + 14 timeline checkpoints
    assert "Attested by <strong>Release Manager (test fixture)</strong>" in dom
