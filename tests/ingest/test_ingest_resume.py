"""The ingest step offline: progress, and a rerun after a failure midway skips what was loaded."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from scale.fake_workspace import FakeWorkspace

from idf_core.errors import BadInput
from idf_core.qserv_ingest import read_config
from idf_ops.scale import service
from idf_ops.scale.ingest import STATE_FILE, IngestProgress, ingest, loaded_rows, read_record, read_state
from idf_ops.scale.service import write_generated_config


class Interrupted(Exception):
    """Stands for a SIGKILL or a lost connection in the middle of the ingest."""


class RecordingLoader:
    """Counts the CSV lines of each unit it is given; raises after `fail_after` units."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.calls: list[tuple[str, int]] = []
        self.fail_after = fail_after

    def __call__(self, table: str, chunk: int, path: Path, columns: list[str]) -> int:
        if self.fail_after is not None and len(self.calls) == self.fail_after:
            raise Interrupted
        self.calls.append((table, chunk))
        with path.open() as lines:
            return sum(1 for _ in lines)


def test_rerun_resumes_after_the_last_loaded_unit(
    generated: Path, tmp_path: Path, two_adjacent_chunks: list[int]
) -> None:
    write_generated_config(generated)
    config = read_config(generated)
    state = tmp_path / STATE_FILE
    units = len(config.table_order()) * len(two_adjacent_chunks)

    first = RecordingLoader(fail_after=7)
    with pytest.raises(Interrupted):
        ingest(config, generated, first, state_path=state)
    assert len(read_state(state, config.database.database).loaded["object"]) == 2  # chunks 1 and 2 of object

    second = RecordingLoader()
    progress: list[IngestProgress] = []
    final = ingest(config, generated, second, state_path=state, on_progress=progress.append)
    assert not set(first.calls) & set(second.calls)
    assert len(first.calls) + len(second.calls) == units
    assert [p.chunks_done for p in progress] == [1, 2, 3]
    assert progress[-1].chunks_total == 3 and progress[0].skipped == 1
    assert "3/3 chunks" in progress[-1].line() and "rows/s" in progress[-1].line()
    assert loaded_rows(final)["object"] == 3 * 400

    third = RecordingLoader()
    ingest(config, generated, third, state_path=state)
    assert third.calls == []  # everything loaded: nothing is loaded again


def test_state_of_another_database_is_refused(generated: Path, tmp_path: Path) -> None:
    write_generated_config(generated)
    state = tmp_path / STATE_FILE
    state.write_text('{"database": "other", "loaded": {}}')
    with pytest.raises(BadInput, match="ingest state of database 'other'"):
        ingest(read_config(generated), generated, RecordingLoader(), state_path=state)


def test_scale_run_ingests_before_the_command_and_tears_down(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`idf scale run --ingest-from`: up, publish, ingest (recorded for the gates), command, down."""

    monkeypatch.setenv("IDF_STATE_DIR", str(tmp_path / "state"))
    order: list[str] = []
    monkeypatch.setattr(
        service, "publish_outputs", lambda outputs: service.Published(path=None, problem="test")
    )

    def fake_ingest_local(data_dir: Path, **_: object) -> object:
        order.append("ingest")
        write_generated_config(data_dir)
        return ingest(read_config(data_dir), data_dir, RecordingLoader(), state_path=tmp_path / STATE_FILE)

    monkeypatch.setattr(service, "ingest_local", fake_ingest_local)
    ws = FakeWorkspace()
    code = service.run_test(
        ws,  # type: ignore[arg-type]
        "qserv-scale-t",
        [sys.executable, "-c", "print('test command')"],
        on_event=lambda _: order.append("event"),
        on_published=lambda _: order.append("published"),
        ingest=service.ingest_step(generated),
    )
    assert code == 0
    assert order.index("published") < order.index("ingest")
    assert ws.calls[0][0] == "up" and "destroy" in [c[0] for c in ws.calls]
    record = read_record("qserv-scale-t")
    assert record is not None and record.complete and record.rows_per_table["object"] == 3 * 400
