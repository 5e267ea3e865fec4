"""What a mistyped or hostile command line can make `idf` do (issue 16, findings 4, 9, 10, 11).

- `idf config validate` reads regular files only, at most 1 MiB, of bounded depth (finding 9, 10);
- binary and UTF-16 files, deep nesting, a binary profile, a bad `--out` give a message and exit 2,
  never a traceback; `--out` is never a system directory (finding 10);
- stack names are `[a-z0-9-]`, and reading a stack's state creates nothing (finding 11);
- `idf scale` refuses every stack that is not a temporary scale-test stack before it writes or calls
  anything (finding 4).

The cases that would hang or exhaust memory on an unbounded reader run `idf` in a child process
with a memory limit and a timeout, so a regression fails the test instead of the machine.
"""

from __future__ import annotations

import os
import resource
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scale.fake_workspace import FakeWorkspace, info

from idf_core.contract import ButlerEndpoint, QservEndpoint, StackOutputs, load_outputs, write_outputs
from idf_core.errors import BadInput
from idf_core.paths import (
    STACKS_DIR,
    read_text_bounded,
    state_path,
    validate_output_dir,
    validate_stack_name,
)
from idf_ops.cli.main import main
from idf_ops.scale.lifecycle import reap_expired, run_scale_test, scale_down, scale_up
from support.cli import run_idf

CHILD_MEMORY_BYTES = 2 * 1024**3
CHILD_TIMEOUT_S = 60


def _limit_memory() -> None:  # runs in the child before exec
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))


def _idf(*args: str, state_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`idf ARGS` in a child process: memory-limited, timed out, run state in `state_dir`."""
    env = {"IDF_STATE_DIR": str(state_dir)} if state_dir is not None else None
    return run_idf(*args, env=env, timeout_s=CHILD_TIMEOUT_S, preexec_fn=_limit_memory)


def _refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    for word in words:
        assert word in result.stderr, result.stderr


def _tree(root: Path) -> list[tuple[str, int, int]]:
    """Every path under `root` with its size and modification time (to prove nothing changed)."""
    if not root.exists():
        return []
    return sorted(
        (str(p.relative_to(root)), p.lstat().st_size, p.lstat().st_mtime_ns) for p in root.rglob("*")
    )


# --------------------------------------------------------------------------------------------
# finding 9: `idf config validate` reads bounded
# --------------------------------------------------------------------------------------------


def _symlink_to_dev_zero(tmp_path: Path) -> Path:
    link = tmp_path / "Pulumi.zero.yaml"
    link.symlink_to("/dev/zero")
    return link


def _fifo(tmp_path: Path) -> Path:
    fifo = tmp_path / "Pulumi.fifo.yaml"
    os.mkfifo(fifo)
    return fifo


def _directory(tmp_path: Path) -> Path:
    folder = tmp_path / "Pulumi.dir.yaml"
    folder.mkdir()
    return folder


@pytest.mark.parametrize(
    ("make", "kind"),
    [(_symlink_to_dev_zero, "a device"), (_fifo, "a FIFO"), (_directory, "a directory")],
    ids=["symlink-to-dev-zero", "fifo", "directory"],
)
def test_config_validate_reads_regular_files_only(tmp_path: Path, make, kind: str) -> None:
    path = make(tmp_path)
    _refused(_idf("config", "validate", str(path)), str(path), kind, "not a regular file")


def test_config_validate_refuses_a_file_over_the_cap(tmp_path: Path) -> None:
    big = tmp_path / "Pulumi.big.yaml"
    with big.open("w") as handle:  # 50 MB of valid YAML: parsing it all took over a minute
        handle.write("config:\n")
        for i in range(1_000_000):
            handle.write(f"  idf:k{i:07d}: 12345678901234567890123456789\n")
    _refused(_idf("config", "validate", str(big)), str(big), "larger than 1024 KiB")


def test_reader_reads_at_most_the_cap_plus_one_byte(tmp_path: Path) -> None:
    # A sparse 64 GiB file: reading it whole would take minutes and all the memory there is.
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as handle:
        handle.truncate(64 * 1024**3)
    with pytest.raises(BadInput, match="larger than 1 KiB"):
        read_text_bounded(huge, what="stack file", max_bytes=1024)
    exact = tmp_path / "exact.yaml"
    exact.write_text("#" * 1024)
    assert read_text_bounded(exact, what="stack file", max_bytes=1024) == "#" * 1024


def test_a_symlink_to_a_stack_file_is_still_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    link = tmp_path / "Pulumi.dp01.yaml"
    link.symlink_to(STACKS_DIR / "Pulumi.dp01.yaml")
    assert main(["config", "validate", str(link)]) == 0, capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# finding 10: messages, not tracebacks
# --------------------------------------------------------------------------------------------


def _binary(path: Path) -> None:
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")


def _utf16(path: Path) -> None:
    path.write_bytes((STACKS_DIR / "Pulumi.dp01.yaml").read_text().encode("utf-16"))


def _deep(path: Path) -> None:
    path.write_text("config: " + "[" * 5000 + "]" * 5000 + "\n")


def _deep_but_parsable(path: Path) -> None:
    path.write_text("config:\n  idf:labels: " + "[" * 100 + "]" * 100 + "\n")


def _aliases(path: Path) -> None:
    # "Billion laughs": 9 levels of 10 aliases each, 10**9 values once expanded.
    lines = ["config:", "  idf:a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"  idf:a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("write", "words"),
    [
        (_binary, "not UTF-8 text"),
        (_utf16, "not UTF-8 text"),
        (_deep, "nests too deeply"),
        (_deep_but_parsable, "nests deeper than 32 levels"),
        (_aliases, "more than 100,000 values"),
    ],
    ids=["binary", "utf-16", "deep-nesting", "deep-but-parsable", "alias-expansion"],
)
def test_config_validate_explains_unreadable_stack_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], write, words: str
) -> None:
    path = tmp_path / "Pulumi.bad.yaml"
    write(path)
    assert main(["config", "validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err
    assert words in err


def test_loadtest_run_explains_a_binary_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = tmp_path / "smoke.yaml"
    _binary(profile)
    assert main(["loadtest", "run", str(profile), "--stack", "local"]) == 2
    err = capsys.readouterr().err
    assert str(profile) in err
    assert "not UTF-8 text" in err


def test_loadtest_run_refuses_a_fifo_profile(tmp_path: Path) -> None:
    fifo = tmp_path / "smoke.yaml"
    os.mkfifo(fifo)
    _refused(_idf("loadtest", "run", str(fifo), "--stack", "local"), str(fifo), "not a regular file")


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "report.txt"
    path.write_text("not a folder\n")
    return path


def _below_a_file(tmp_path: Path) -> Path:
    return _file(tmp_path) / "reports"


def _symlink_to_etc(tmp_path: Path) -> Path:
    link = tmp_path / "out"
    link.symlink_to("/etc")
    return link


BAD_OUT = [
    (lambda tmp: Path("/etc"), "system directory"),
    (lambda tmp: Path("/usr/share/idf"), "system directory"),
    (lambda tmp: Path("/"), "system directory"),
    (_symlink_to_etc, "system directory"),
    (_file, "exists and is not a directory"),
    (_below_a_file, "is a file, so no folder can be made below it"),
]
BAD_OUT_IDS = ["etc", "under-usr", "root", "symlink-to-etc", "existing-file", "below-a-file"]


@pytest.mark.parametrize(("make", "words"), BAD_OUT, ids=BAD_OUT_IDS)
def test_gates_check_refuses_a_bad_out_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make, words: str
) -> None:
    out = make(tmp_path)
    # No outputs for the stack: only a check of --out that runs first can name --out.
    code = main(["gates", "check", "--stack", "no-outputs-here", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "--out" in err
    assert words in err


def _gcp_outputs(stack: str) -> StackOutputs:
    return StackOutputs(
        stack=stack,
        kind="gcp",
        offline_plan=True,
        tap_url="https://data.example/api/tap",
        hub_url="https://data.example/nb",
        qserv=QservEndpoint(host="10.0.0.5", port=4040, dialect="qserv", expected_workers=2),
        butler=ButlerEndpoint(
            repo_uri="gs://butler",
            readonly_config="gs://butler/butler.yaml",
            registry_host="10.0.0.6",
            registry_database="registry",
        ),
        cluster_name="hardening",
    )


@pytest.mark.parametrize(("make", "words"), BAD_OUT, ids=BAD_OUT_IDS)
def test_loadtest_run_refuses_a_bad_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], make, words: str
) -> None:
    monkeypatch.setenv("IDF_STATE_DIR", str(tmp_path / "var"))
    write_outputs(_gcp_outputs("hardening"))  # a cloud stack: the run only writes manifests to --out
    out = make(tmp_path)
    code = main(["loadtest", "run", "smoke", "--stack", "hardening", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert words in err
    assert not Path("/etc/locust-gke.yaml").exists()


def test_out_that_cannot_be_written_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As root every mode bit is writable, so the kernel's answer is faked: a read-only file system.
    monkeypatch.setattr("idf_core.paths.os.access", lambda path, mode: False)
    with pytest.raises(BadInput, match="not writable"):
        validate_output_dir(tmp_path / "reports")


def test_a_new_out_folder_is_accepted_and_not_created(tmp_path: Path) -> None:
    out = tmp_path / "reports" / "today"
    assert validate_output_dir(out) == out
    assert not (tmp_path / "reports").exists()


# --------------------------------------------------------------------------------------------
# finding 11: stack names, and reads that create nothing
# --------------------------------------------------------------------------------------------


BAD_STACK_NAMES = ["../../etc", "..", "dp01/x", "Dp01", "dp_01", "dp01 ", "", "a" * 64, "dp01\0"]


@pytest.mark.parametrize("name", BAD_STACK_NAMES)
def test_stack_names_are_lowercase_letters_digits_and_hyphens(name: str) -> None:
    with pytest.raises(BadInput, match="not a stack name"):
        validate_stack_name(name)


@pytest.mark.parametrize("name", ["local", "dev", "dp01", "dp02", "qserv-scale75"])
def test_every_stack_we_have_is_a_stack_name(name: str) -> None:
    assert validate_stack_name(name) == name


def test_gates_check_with_a_path_as_stack_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "work" / "var"
    state.mkdir(parents=True)
    monkeypatch.setenv("IDF_STATE_DIR", str(state))
    before = _tree(tmp_path)
    assert main(["gates", "check", "--stack", "../../etc"]) == 2
    assert "not a stack name" in capsys.readouterr().err
    assert _tree(tmp_path) == before  # var/stacks/../../etc was created here before the fix


def test_reading_outputs_creates_no_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDF_STATE_DIR", str(tmp_path))
    with pytest.raises(BadInput, match="no outputs for stack 'nosuch'"):
        load_outputs("nosuch")
    assert list(tmp_path.iterdir()) == []
    write_outputs(_gcp_outputs("written"))  # writers still create their folder
    assert load_outputs("written").stack == "written"


def test_state_paths_never_leave_the_state_root() -> None:
    for part in ("..", ".", "", "a/b"):
        with pytest.raises(ValueError, match="not a plain name"):
            state_path("stacks", part)


# --------------------------------------------------------------------------------------------
# finding 4: `idf scale` touches temporary scale-test stacks only
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["scale", "down", "--stack", "dp01", "--dry-run"],
        ["scale", "down", "--stack", "dp01"],
        ["scale", "up", "--stack", "dp01", "--expires-in", "6h"],
        ["scale", "up", "--stack", "dp01", "--expires-in", "6h", "--dry-run"],
        ["scale", "run", "--stack", "dp01", "--expires-in", "6h", "--", "true"],
        ["scale", "render-stack", "--stack", "dp01", "--expires-in", "6h", "--write"],
        ["scale", "down", "--stack", "qserv-scale75/../dp01", "--dry-run"],
    ],
    ids=["down-dry-run", "down", "up", "up-dry-run", "run", "render-stack-write", "path-in-name"],
)
def test_scale_refuses_a_serving_stack_before_touching_anything(tmp_path: Path, args: list[str]) -> None:
    state = tmp_path / "var"
    stacks_before = _tree(STACKS_DIR)
    result = _idf(*args, state_dir=state)
    _refused(result, "--stack")
    assert "would destroy" not in result.stdout
    assert _tree(STACKS_DIR) == stacks_before
    assert _tree(state) == []


NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "operation",
    [
        lambda ws: scale_down(ws, "dp01", on_event=lambda m: None),
        lambda ws: scale_up(ws, "dp01", on_event=lambda m: None),
        lambda ws: run_scale_test(ws, "dp01", lambda outputs: 0, on_event=lambda m: None),
    ],
    ids=["down", "up", "run"],
)
def test_lifecycle_refuses_a_serving_stack_without_calling_pulumi(operation) -> None:
    ws = FakeWorkspace({"dp01": info("dp01", temporary=False, expires_at=None)})
    with pytest.raises(BadInput, match="not a temporary scale-test stack"):
        operation(ws)
    assert ws.calls == []


def test_reap_leaves_a_temporary_stack_with_another_name_to_a_person() -> None:
    ws = FakeWorkspace({"dp01": info("dp01", temporary=True, expires_at=NOW - timedelta(hours=1))})
    [decision] = reap_expired(ws, NOW, dry_run=False, on_event=lambda m: None)
    assert decision.action == "needs-attention"
    assert ws.calls == []
