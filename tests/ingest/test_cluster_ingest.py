"""`idf scale run --follow-ingest` / `idf scale ingest --follow STACK`: the GKE ingest Job followed by
Qserv's own row counters, with progress, and the loaded rows recorded for the 75 % checkpoint.

The GKE and Kubernetes APIs are a pytest-httpserver on 127.0.0.1 answering in their shapes (the
cluster list is a recorded response; the replication controller's table stats, reached through the
API server's pod proxy, are our model of Qserv's answer, as in tests/crosscheck/test_ingest_api.py).
The counters grow poll by poll, as a running ingest's do.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import google.auth
import pytest
from google.auth.credentials import AnonymousCredentials
from pytest_httpserver import HTTPServer
from scale.fake_workspace import FakeWorkspace
from werkzeug import Request, Response

from idf_core.errors import BadInput, OperationFailed
from idf_core.qserv_ingest import REPLICATION_POD, REPLICATION_PORT
from idf_ops.scale import service
from idf_ops.scale.ingest import IngestProgress, JobCondition, follow_cluster_ingest, read_record
from support.cli import run_idf

RESPONSES = Path(__file__).parents[1] / "gates" / "cloud" / "responses"
PROJECT = "rubin-idf-cloud"
NS, JOB, DB = "qserv", "qserv-ingest-0123456789", "dp01_scale"
TABLES = ["object", "forced_photometry"]
STACK = "qserv-scale-t"


def _outputs(**overrides: Any) -> dict[str, Any]:
    outputs = {
        "stack": STACK, "kind": "gcp", "tap_url": "https://d.example/api/tap", "hub_url": "https://d.example/nb",
        "qserv": {"host": "10.0.0.9", "port": 4040, "dialect": "qserv", "expected_workers": 38},
        "butler": {"repo_uri": "gs://b/repo", "readonly_config": "gs://b/repo/butler-readonly.yaml",
                   "registry_host": "10.0.0.3", "registry_database": "butler"},
        "cluster_name": "idf-cloud",
        "cloudsql_connection_name": f"{PROJECT}:us-central1:butler-registry-cloud",
        "qserv_ingest_job": {"namespace": NS, "job": JOB, "database": DB, "tables": TABLES,
                             "chunks_total": 3},
    }  # fmt: skip
    return {**outputs, **overrides}


def _stats(chunks: dict[int, int]) -> list[dict[str, Any]]:
    entries = []
    for chunk, rows in chunks.items():
        entries.append({"transaction_id": 1, "chunk": chunk, "is_overlap": 0, "num_rows": rows})
        entries.append({"transaction_id": 1, "chunk": chunk, "is_overlap": 1, "num_rows": 7})
    return entries


# Poll by poll: (Job condition, table -> chunk -> rows Qserv has counted).
GROWING: list[tuple[str | None, dict[str, dict[int, int]]]] = [
    (None, {"object": {}, "forced_photometry": {}}),
    (None, {"object": {1: 100, 2: 90}, "forced_photometry": {1: 5000}}),
    ("Complete", {"object": {1: 100, 2: 90, 3: 80}, "forced_photometry": {1: 5000, 2: 4500, 3: 4000}}),
]


@pytest.fixture
def cluster(httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HTTPServer:
    monkeypatch.setattr(google.auth, "default", lambda scopes=None, **_: (AnonymousCredentials(), PROJECT))
    base = httpserver.url_for("").rstrip("/")
    monkeypatch.setenv("IDF_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("IDF_CONTAINER_API_ENDPOINT", base)
    monkeypatch.setenv("IDF_KUBERNETES_API", base)
    httpserver.expect_request(f"/v1/projects/{PROJECT}/locations/-/clusters").respond_with_json(
        json.loads((RESPONSES / "gke-clusters-healthy.json").read_text())
    )
    return httpserver


def _serve(server: HTTPServer, polls: list[tuple[str | None, dict[str, dict[int, int]]]]) -> list[str]:
    """Answer the Job status and the table stats; one Job read per poll advances the counters."""
    seen: list[str] = []
    step = {"i": -1}

    def job_status(_: Request) -> Response:
        step["i"] = min(step["i"] + 1, len(polls) - 1)
        condition = polls[step["i"]][0]
        status: dict[str, Any] = {"active": 1}
        if condition is not None:
            status = {
                "conditions": [{"type": condition, "status": "True", "message": "BackoffLimitExceeded"}]
            }
        body = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": JOB, "namespace": NS},
            "status": status,
        }
        return Response(json.dumps(body), content_type="application/json")

    def table_stats(request: Request) -> Response:
        seen.append(str(request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")))
        table = request.path.rsplit("/", 1)[-1]
        chunks = polls[max(step["i"], 0)][1][table]
        answer = {
            "success": 1,
            "error": "",
            "databases": {DB: {"tables": {table: {"entries": _stats(chunks)}}}},
        }
        return Response(json.dumps(answer), content_type="application/json")

    server.expect_request(f"/apis/batch/v1/namespaces/{NS}/jobs/{JOB}/status").respond_with_handler(
        job_status
    )
    for table in TABLES:
        server.expect_request(
            f"/api/v1/namespaces/{NS}/pods/{REPLICATION_POD}:{REPLICATION_PORT}/proxy/ingest/table-stats/{DB}/{table}"
        ).respond_with_handler(table_stats)
    return seen


def _step(lines: list[IngestProgress]) -> service.IngestStep:
    return service.cluster_ingest_step(
        until=datetime.now(UTC) + timedelta(minutes=5), on_progress=lines.append, poll_s=0.01
    )


def test_a_growing_ingest_is_followed_to_its_end_and_recorded(cluster: HTTPServer) -> None:
    seen = _serve(cluster, GROWING)
    lines: list[IngestProgress] = []
    _step(lines)(STACK, _outputs())
    assert [(p.chunks_done, p.rows) for p in lines] == [(0, 0), (1, 5190), (3, 13770)]
    assert lines[-1].rows_per_s > 0 and lines[-1].line().startswith("ingest: 3/3 chunks, 13,770 rows")
    # The counters were read through the API server's proxy, the path's slashes as written (the
    # generated connect_get_namespaced_pod_proxy_with_path would send ingest%2Ftable-stats%2F...).
    assert seen[0].endswith(f"/proxy/ingest/table-stats/{DB}/object"), seen[0]
    record = read_record(STACK)
    assert record is not None and record.complete
    # Overlap rows are not the table's rows (Qserv counts them apart).
    assert record.rows_per_table == {"object": 270, "forced_photometry": 13500}
    assert (record.chunks_loaded, record.chunks_total, record.database) == (3, 3, DB)


def test_a_failed_job_is_an_error_and_what_was_loaded_is_still_recorded(cluster: HTTPServer) -> None:
    _serve(cluster, [GROWING[0], ("Failed", GROWING[1][1])])
    with pytest.raises(
        OperationFailed, match=rf"{NS}/{JOB} failed \(BackoffLimitExceeded\).*kubectl -n {NS}"
    ):
        _step([])(STACK, _outputs())
    record = read_record(STACK)
    assert record is not None and not record.complete
    assert (record.chunks_loaded, record.rows_per_table["object"]) == (1, 190)


def test_a_follower_started_again_resumes_from_qservs_counters(cluster: HTTPServer) -> None:
    """The follower holds no state: a second one (after the first was killed) starts at what Qserv
    has loaded, reporting those chunks as already done, not at zero."""
    _serve(cluster, [(None, GROWING[1][1]), GROWING[2]])
    lines: list[IngestProgress] = []
    _step(lines)(STACK, _outputs())
    assert (lines[0].chunks_done, lines[0].skipped) == (1, 1)
    assert lines[-1].chunks_done == 3


def test_a_stack_without_an_ingest_job_is_refused_before_anything_is_read(cluster: HTTPServer) -> None:
    outputs = _outputs()
    del outputs["qserv_ingest_job"]
    with pytest.raises(BadInput, match=r"no qserv_ingest_job.*idf:images.qserv_ingest.*--ingest-from"):
        _step([])(STACK, outputs)
    assert cluster.log == []


def test_counters_not_readable_yet_do_not_end_the_follow() -> None:
    """The replication controller starting (proxy errors) is not the end; unreadable counters for
    ``max_failed_polls`` polls in a row are."""
    polls = iter([OperationFailed("503"), {1: 10}, {1: 10}])
    ends = iter([JobCondition(None), JobCondition(None), JobCondition("Complete")])

    def stats(_: str) -> dict[int, int]:
        value = next(polls)
        if isinstance(value, Exception):
            raise value
        return value

    lines: list[IngestProgress] = []
    state, ended = follow_cluster_ingest(
        database=DB, tables=["object"], chunks_total=1, stats=stats, job=lambda: next(ends),
        deadline_s=60, sleep=lambda _: None, on_progress=lines.append,
    )  # fmt: skip
    assert ended.condition == "Complete" and state.loaded == {"object": {1: 10}}
    # What was loaded before is counted from the first poll that read it, not from the failed one.
    assert [(p.skipped, p.rows_per_s) for p in lines[1:]] == [(1, 0.0), (1, 0.0)]

    def broken(_: str) -> dict[int, int]:
        raise OperationFailed("qserv: ingest REST API gone")

    sleeps: list[float] = []
    with pytest.raises(OperationFailed, match="gone"):
        follow_cluster_ingest(
            database=DB, tables=["object"], chunks_total=1, stats=broken,
            job=lambda: JobCondition("Complete"), deadline_s=60, sleep=sleeps.append, max_failed_polls=3,
        )  # fmt: skip
    assert len(sleeps) == 2  # three polls in a row failed, then it gave up


def test_an_api_server_hiccup_reading_the_job_does_not_end_the_follow() -> None:
    answers: list[Any] = [OperationFailed("Kubernetes API: timed out"), JobCondition("Complete")]

    def job() -> JobCondition:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    state, ended = follow_cluster_ingest(
        database=DB, tables=["object"], chunks_total=1, stats=lambda _: {1: 3}, job=job,
        deadline_s=60, sleep=lambda _: None,
    )  # fmt: skip
    assert ended.condition == "Complete" and state.loaded == {"object": {1: 3}}


def test_the_deadline_ends_the_follow_with_the_counters_so_far() -> None:
    now = iter(range(0, 1000, 40))
    state, ended = follow_cluster_ingest(
        database=DB, tables=["object"], chunks_total=2, stats=lambda _: {1: 5},
        job=lambda: JobCondition(None), deadline_s=100, clock=lambda: float(next(now)), sleep=lambda _: None,
    )  # fmt: skip
    assert ended.condition is None and "not ended after 100 s" in ended.message
    assert state.loaded == {"object": {1: 5}}


def test_follow_reads_the_stacks_outputs_file(cluster: HTTPServer, tmp_path: Path) -> None:
    _serve(cluster, GROWING)
    path = tmp_path / "stacks" / STACK / "outputs.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(_outputs()))
    record = service.follow_stack_ingest(STACK, until=datetime.now(UTC) + timedelta(minutes=5), poll_s=0.01)
    assert json.loads(record.read_text())["complete"] is True


@pytest.mark.parametrize(
    ("args", "outputs", "message"),
    [
        ([], None, "give --from DIR"),
        (["--from", "/nonexistent", "--follow", STACK], None, "give --from DIR"),
        (["--follow", STACK], None, "no outputs for stack"),
        (["--follow", STACK], {"offline_plan": True}, "an offline plan's"),
        (["--follow", STACK], {"qserv_ingest_job": None}, "no qserv_ingest_job"),
    ],
    ids=["neither", "both", "no-outputs", "offline-plan", "no-job"],
)
def test_bad_follow_input_is_a_clear_error(
    tmp_path: Path, args: list[str], outputs: dict[str, Any] | None, message: str
) -> None:
    if outputs is not None:
        path = tmp_path / "stacks" / STACK / "outputs.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({k: v for k, v in _outputs(**outputs).items() if v is not None}))
    result = run_idf("scale", "ingest", *args, env={"IDF_STATE_DIR": str(tmp_path)})
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


class _LiveWorkspace(FakeWorkspace):
    """`up` answers with a live cloud stack's outputs (the Automation API's, as a dict)."""

    def up(self, stack: str, *, use_zone_fallbacks: bool, on_event: Any) -> dict[str, Any]:
        super().up(stack, use_zone_fallbacks=use_zone_fallbacks, on_event=on_event)
        return _outputs()


@pytest.mark.parametrize(("polls", "ran"), [(GROWING, True), ([("Failed", GROWING[1][1])], False)])
def test_scale_run_follows_the_ingest_before_the_test_and_always_tears_down(
    cluster: HTTPServer, tmp_path: Path, polls: Any, ran: bool
) -> None:
    _serve(cluster, polls)
    marker = tmp_path / "test-command-ran"
    ws = _LiveWorkspace()
    run = lambda: service.run_test(  # noqa: E731
        ws,  # type: ignore[arg-type]
        STACK,
        [sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"],
        on_event=lambda _: None,
        on_published=lambda _: None,
        ingest=_step([]),
    )
    if ran:
        assert run() == 0
    else:
        with pytest.raises(OperationFailed, match="failed"):
            run()
    assert marker.exists() is ran
    assert "destroy" in ws.verbs()
    record = read_record(STACK)
    assert record is not None and record.complete is ran


def test_scale_run_takes_one_ingest_source(tmp_path: Path) -> None:
    result = run_idf(
        "scale", "run", "--expires-in", "6h", "--ingest-from", str(tmp_path), "--follow-ingest", "--", "true",
        env={"IDF_STATE_DIR": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == 2 and "--ingest-from and --follow-ingest: give one" in result.stderr
    assert not (tmp_path / "stacks").exists()  # refused before anything was planned or written
