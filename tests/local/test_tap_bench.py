"""`idf tap bench`: the balancer/instance ratio, the before/after comparison, and a live run.

The unit tests need no service. The live benchmark is marked slow and local_stack: it prints its
figures (the machine is shared: no timed assertion), for the closing note of issue 12, item 6.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from idf_ops.cli.main import main
from idf_ops.tap.bench import BenchResult, compare_runs, load_baseline, throughput_ratio


def _result(url: str, queries_per_s: float, p50_ms: float = 500.0) -> BenchResult:
    return BenchResult(
        url=url,
        clients=4,
        duration_s=20.0,
        queries_ok=int(queries_per_s * 20),
        queries_failed=0,
        queries_per_s=queries_per_s,
        latency_p50_ms=p50_ms,
        latency_p95_ms=p50_ms * 2,
        rows_returned=100,
    )


INSTANCE = "http://127.0.0.1:8091/tap"
BALANCER = "http://127.0.0.1:8080/tap"


def test_ratio_is_last_url_over_first() -> None:
    assert throughput_ratio([_result(INSTANCE, 6.0), _result(BALANCER, 10.8)]) == 1.8


def test_ratio_needs_two_urls() -> None:
    assert throughput_ratio([_result(INSTANCE, 6.0)]) is None


def test_comparison_names_each_url_and_both_ratios() -> None:
    before = [_result(INSTANCE, 6.0, 580.0), _result(BALANCER, 9.0)]
    after = [_result(INSTANCE, 9.0, 400.0), _result(BALANCER, 18.0)]
    lines = compare_runs(before, after)
    assert lines[0] == f"{INSTANCE}: 6.0 -> 9.0 q/s (x1.5), p50 580.0 -> 400.0 ms"
    assert lines[1].startswith(f"{BALANCER}: 9.0 -> 18.0 q/s (x2.0)")
    assert lines[-1] == "balancer/instance ratio (last URL / first): before 1.5, after 2.0"


def test_comparison_marks_a_url_missing_from_the_baseline() -> None:
    lines = compare_runs([_result(INSTANCE, 6.0)], [_result("http://127.0.0.1:8092/tap", 7.0)])
    assert lines[0].endswith("(not in the baseline)")


def test_baseline_reads_the_json_lines_of_a_run(tmp_path: Path) -> None:
    path = tmp_path / "before.jsonl"
    path.write_text(
        "\n".join(r.model_dump_json() for r in [_result(INSTANCE, 6.3), _result(BALANCER, 11.0)]) + "\n"
    )
    assert [r.queries_per_s for r in load_baseline(path)] == [6.3, 11.0]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read it"),
        ("", "holds no figures"),
        ("{not json\n", "line 1: not a figure line"),
        (json.dumps({"url": INSTANCE}) + "\n", "line 1: not a figure line"),
    ],
    ids=["missing", "empty", "not-json", "missing-fields"],
)
def test_bad_baseline_exits_2_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, expected: str
) -> None:
    path = tmp_path / "before.jsonl"
    if content is not None:
        path.write_text(content)
    # The baseline is read before anything is measured: no service is needed.
    assert main(["tap", "bench", "--baseline", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err


@pytest.mark.slow
@pytest.mark.local_stack
def test_print_instance_and_balancer_rates(capsys: pytest.CaptureFixture[str]) -> None:
    """One instance then the balancer, in one run: figures printed, nothing timed asserted."""
    assert main(["tap", "bench", "--clients", "4", "--duration-s", "20"]) == 0
    out = capsys.readouterr().out
    with capsys.disabled():
        print("\n" + out)
    assert "balancer/instance ratio (last URL / first, this run):" in out
