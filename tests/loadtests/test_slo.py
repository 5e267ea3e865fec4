"""The SLO evaluator with synthetic statistics: a pass, and each kind of breach caught."""

from __future__ import annotations

import pytest

from loadtests.profile import SloThreshold
from loadtests.slo import KindStats, evaluate, exit_code, overall_verdict


def stats(kind: str = "tap.lv.cone.object", **overrides: float) -> KindStats:
    values = {
        "count": 100,
        "failures": 0,
        "p50_ms": 100.0,
        "p95_ms": 900.0,
        "p99_ms": 1500.0,
        "max_ms": 2000.0,
        "requests_per_s": 5.0,
    }
    values.update(overrides)
    return KindStats(kind=kind, request_type="POST", **values)  # type: ignore[arg-type]


SLO = SloThreshold(
    kind="tap.lv.*", p95_ms=1000, p99_ms=2000, max_ms=5000, max_failure_ratio=0.01, min_requests=50
)


def test_all_thresholds_met_pass_with_exit_0() -> None:
    verdicts = evaluate(
        [SLO], [stats(), stats("tap.lv.objectid.single"), stats("tap.hv.scan.object", p95_ms=1e6)]
    )
    assert overall_verdict(verdicts) == "pass"
    assert exit_code(verdicts) == 0
    assert verdicts[0].matched_kinds == ["tap.lv.cone.object", "tap.lv.objectid.single"]


@pytest.mark.parametrize(
    ("overrides", "metric"),
    [
        ({"p95_ms": 1001.0}, "p95_ms"),
        ({"p99_ms": 2500.0}, "p99_ms"),
        ({"max_ms": 6000.0}, "max_ms"),
        ({"failures": 2}, "failure_ratio"),
    ],
)
def test_each_breach_fails_with_exit_1_and_is_named(overrides: dict[str, float], metric: str) -> None:
    verdicts = evaluate([SLO], [stats(), stats("tap.lv.objectid.single", **overrides)])
    assert exit_code(verdicts) == 1
    breaches = verdicts[0].breaches()
    assert [(b.kind, b.metric) for b in breaches] == [("tap.lv.objectid.single", metric)]


def test_too_few_requests_is_a_breach() -> None:
    verdicts = evaluate([SLO], [stats(count=20)])
    assert exit_code(verdicts) == 1
    assert verdicts[0].breaches()[0].metric == "requests"


def test_an_slo_matching_nothing_fails_rather_than_passes() -> None:
    verdicts = evaluate([SLO], [stats("qserv.lv.cone.object")])
    assert verdicts[0].matched_kinds == []
    assert exit_code(verdicts) == 1


def test_failure_ratio_exactly_at_the_limit_passes() -> None:
    assert exit_code(evaluate([SLO], [stats(failures=1)])) == 0


def test_percentiles_of_a_kind_that_only_failed_are_not_checked_but_its_failures_are() -> None:
    verdicts = evaluate([SLO], [stats(), stats("tap.lv.join.reference", count=5, failures=5, p95_ms=1e9)])
    assert [(b.kind, b.metric) for b in verdicts[0].breaches()] == [
        ("tap.lv.join.reference", "failure_ratio")
    ]


def test_no_slo_at_all_is_not_a_pass() -> None:
    assert overall_verdict([]) == "fail"


def test_one_failing_slo_among_several_fails_the_run() -> None:
    other = SloThreshold(kind="qserv.hv.scan.object", max_ms=3_600_000, min_requests=1)
    verdicts = evaluate([SLO, other], [stats(), stats("qserv.hv.scan.object", max_ms=3_700_000.0)])
    assert [v.verdict for v in verdicts] == ["pass", "fail"]
    assert exit_code(verdicts) == 1


AGGREGATE = SloThreshold(
    kind="tap.lv.*", aggregate=True, p95_ms=10_000, max_failure_ratio=0.01, min_requests=10
)


def test_aggregate_slo_judges_the_merged_distribution_not_each_kind() -> None:
    """One slow kind among many fast ones: each-kind fails, the merged LV p95 passes (LDM-552's wording)."""
    rows = [stats(), stats("tap.lv.join.reference", p95_ms=30_000.0)]
    merged = {"tap.lv.*": stats("tap.lv.*", count=200, p95_ms=2_000.0)}
    assert exit_code(evaluate([AGGREGATE], rows, merged)) == 0
    per_kind = AGGREGATE.model_copy(update={"aggregate": False})
    assert exit_code(evaluate([per_kind], rows, merged)) == 1


def test_aggregate_slo_breach_is_named_by_pattern() -> None:
    merged = {"tap.lv.*": stats("tap.lv.*", count=200, p95_ms=12_000.0)}
    verdicts = evaluate([AGGREGATE], [stats()], merged)
    assert [(b.kind, b.metric) for b in verdicts[0].breaches()] == [("tap.lv.*", "p95_ms")]


def test_aggregate_slo_without_group_statistics_fails() -> None:
    verdicts = evaluate([AGGREGATE], [stats()], {})
    assert exit_code(verdicts) == 1
    assert verdicts[0].breaches()[0].metric == "group_statistics"
