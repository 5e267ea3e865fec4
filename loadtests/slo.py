"""The SLO evaluator: per-request-kind statistics + a profile's thresholds -> verdicts -> exit code.

Pure functions over plain models, so they are tested with synthetic statistics. A threshold's
``kind`` is a glob over Locust request names; each matching kind must hold every threshold on its
own (a p95 cannot be averaged across kinds) unless the SLO is ``aggregate`` (then their merged
distribution, computed by Locust itself at the end of the run, is judged), and the matching kinds
together must have served at least ``min_requests`` requests: a kind never measured is a breach.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from loadtests.profile import SloThreshold

__all__ = ["Check", "KindStats", "SloVerdict", "evaluate", "exit_code", "overall_verdict"]

Verdict = Literal["pass", "fail"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KindStats(_Model):
    """Statistics of one request kind over a whole run (one row of Locust's stats CSV)."""

    kind: str = Field(title="Request kind", description="Locust request name, e.g. `tap.lv.cone.object`.")
    request_type: str = Field(
        title="Request type", description="Locust request type (GET, POST, SQL, UWS, WS)."
    )
    count: int = Field(ge=0, title="Requests", description="Requests made (successes and failures).")
    failures: int = Field(ge=0, title="Failures", description="Requests counted as failed.")
    p50_ms: float = Field(ge=0, title="p50 (ms)", description="Median response time.")
    p95_ms: float = Field(ge=0, title="p95 (ms)", description="95th percentile response time.")
    p99_ms: float = Field(ge=0, title="p99 (ms)", description="99th percentile response time.")
    max_ms: float = Field(ge=0, title="Max (ms)", description="Slowest response.")
    requests_per_s: float = Field(ge=0, title="Requests/s", description="Mean throughput over the run.")

    @property
    def failure_ratio(self) -> float:
        """Failures / requests (0 when nothing ran)."""
        return self.failures / self.count if self.count else 0.0


class Check(_Model):
    """One threshold compared with one measured value."""

    kind: str = Field(
        title="Request kind", description="The concrete kind checked (or the pattern for counts)."
    )
    metric: str = Field(title="Metric", description="p95_ms, p99_ms, max_ms, failure_ratio or requests.")
    threshold: float = Field(title="Threshold", description="The limit from the profile.")
    actual: float = Field(title="Actual", description="What the run measured.")
    verdict: Verdict = Field(title="Verdict", description="pass or fail.")


class SloVerdict(_Model):
    """The verdict of one SLO entry of the profile."""

    kind: str = Field(title="Request kind pattern", description="The SLO's `kind` glob.")
    matched_kinds: list[str] = Field(title="Matched kinds", description="Request names the glob matched.")
    checks: list[Check] = Field(title="Checks", description="Every threshold compared.")
    verdict: Verdict = Field(title="Verdict", description="fail when any check fails.")

    def breaches(self) -> list[Check]:
        """The failed checks."""
        return [check for check in self.checks if check.verdict == "fail"]


def _check(kind: str, metric: str, threshold: float, actual: float, *, at_least: bool = False) -> Check:
    ok = actual >= threshold if at_least else actual <= threshold
    return Check(
        kind=kind, metric=metric, threshold=threshold, actual=actual, verdict="pass" if ok else "fail"
    )


def evaluate(
    slos: list[SloThreshold], stats: list[KindStats], groups: dict[str, KindStats] | None = None
) -> list[SloVerdict]:
    """Compare every SLO of a profile with the run's statistics.

    ``groups`` maps an SLO's ``kind`` pattern to the merged statistics of its matching kinds
    (written by the locustfile at the end of the run); aggregate SLOs are judged on it, and an
    aggregate SLO without its group fails.
    """
    verdicts = []
    for slo in slos:
        matched = [row for row in stats if fnmatchcase(row.kind, slo.kind)]
        checks = [
            _check(slo.kind, "requests", slo.min_requests, sum(r.count for r in matched), at_least=True)
        ]
        judged = matched
        if slo.aggregate:
            group = (groups or {}).get(slo.kind)
            if group is None:
                checks.append(_check(slo.kind, "group_statistics", 1, 0, at_least=True))
                judged = []
            else:
                judged = [group.model_copy(update={"kind": slo.kind})]
        for row in judged:
            checks.append(_check(row.kind, "failure_ratio", slo.max_failure_ratio, row.failure_ratio))
            for metric in ("p95_ms", "p99_ms", "max_ms"):
                limit = getattr(slo, metric)
                # Percentiles of a kind that only failed are meaningless; its failures already count.
                if limit is not None and row.count > row.failures:
                    checks.append(_check(row.kind, metric, limit, getattr(row, metric)))
        verdict: Verdict = "fail" if any(c.verdict == "fail" for c in checks) else "pass"
        verdicts.append(
            SloVerdict(
                kind=slo.kind, matched_kinds=sorted({r.kind for r in matched}), checks=checks, verdict=verdict
            )
        )
    return verdicts


def overall_verdict(verdicts: list[SloVerdict]) -> Verdict:
    """pass only when every SLO holds (and there is at least one)."""
    return "pass" if verdicts and all(v.verdict == "pass" for v in verdicts) else "fail"


def exit_code(verdicts: list[SloVerdict]) -> int:
    """0 when every SLO holds, 1 otherwise."""
    return 0 if overall_verdict(verdicts) == "pass" else 1
