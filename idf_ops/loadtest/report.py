"""Reports of a run: Locust's stats CSV -> per-kind statistics -> SLO verdicts -> ``summary.json``; the plot.

The summary is the document the readiness gates consume; its shape is documented in
``loadtests/README.md`` and versioned by ``schema_version``.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from typing import Literal

# ruff: noqa: PLC0415 - matplotlib is imported only when a plot is drawn
from pydantic import BaseModel, ConfigDict, Field

from idf_core.errors import OperationFailed
from idf_ops.loadtest.provenance import Provenance
from loadtests.profile import Profile
from loadtests.slo import KindStats, SloVerdict, evaluate, overall_verdict

__all__ = [
    "ErrorCount",
    "LocustProcessInfo",
    "RunSummary",
    "build_summary",
    "plot_history",
    "read_final_stats",
    "read_kind_stats",
    "write_report",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LocustProcessInfo(_Model):
    """How the load generator itself behaved.

    A run collected from GKE (``idf loadtest collect``) knows only Locust's exit code: the worker
    count and CPU figures were not measured there, and are null rather than invented.
    """

    workers: int | None = Field(
        title="Workers", description="Locust worker processes (1: standalone; null: not known, collected)."
    )
    exit_code: int | None = Field(
        title="Locust exit code", description="Exit code of the Locust (master) process."
    )
    cpu_seconds: float | None = Field(
        title="CPU (s)", description="CPU time used by all Locust processes (null: not measured, collected)."
    )
    cpu_share_of_machine: float | None = Field(
        title="CPU share of the machine",
        description="cpu_seconds / (wall seconds x cores), 0-1 (null: not measured, collected).",
    )
    cores: int | None = Field(
        title="Cores", description="CPU cores of the machine (null: not measured, collected)."
    )


class ErrorCount(_Model):
    """One distinct failure message of a request kind."""

    kind: str = Field(title="Request kind", description="Locust request name.")
    error: str = Field(title="Error", description="What was wrong (first 500 characters).")
    occurrences: int = Field(title="Occurrences", description="How often it happened.")


class RunSummary(_Model):
    """``summary.json``: one load-test run, self-describing."""

    schema_version: Literal[1] = Field(
        default=1, title="Schema version", description="Bumped on breaking changes."
    )
    profile: str = Field(title="Profile", description="Profile name.")
    profile_description: str = Field(title="Profile description", description="What the profile proves.")
    stack: str = Field(title="Stack", description="Stack the targets came from.")
    output_dir: str = Field(
        title="Output folder", description="Folder holding this summary and the artifacts."
    )
    targets: dict[str, str] = Field(title="Targets", description="Service -> endpoint it was run against.")
    started_at: datetime = Field(title="Started at", description="ISO 8601 UTC.")
    finished_at: datetime = Field(title="Finished at", description="ISO 8601 UTC.")
    duration_s: float = Field(title="Duration (s)", description="Wall clock of the run.")
    users: int = Field(title="Users", description="Target concurrent users.")
    verdict: Literal["pass", "fail"] = Field(title="Verdict", description="pass when every SLO holds.")
    failed_slos: list[str] = Field(title="Failed SLOs", description="Kind patterns of the SLOs that failed.")
    request_kinds: list[KindStats] = Field(title="Request kinds", description="Statistics per request kind.")
    total: KindStats | None = Field(title="Total", description="Locust's aggregated row.")
    groups: list[KindStats] = Field(
        title="SLO groups",
        description="Merged statistics of the kinds each SLO pattern matches (kind = the pattern).",
    )
    slos: list[SloVerdict] = Field(title="SLO verdicts", description="Every SLO with its checks.")
    errors: list[ErrorCount] = Field(title="Errors", description="Distinct failures, most frequent first.")
    locust: LocustProcessInfo = Field(title="Locust", description="The load generator's own figures.")
    artifacts: dict[str, str] = Field(
        title="Artifacts", description="Name -> file (relative to the summary)."
    )
    provenance: Provenance | None = Field(
        default=None,
        title="Provenance",
        description=(
            "Stack, its kind (local, gcp, scale), the data scale it held (rows per table), the "
            "repository commit and the profile's content hash; null only in summaries written before "
            "provenance was recorded (the readiness gates refuse those where scale matters)."
        ),
    )
    collected_from: str | None = Field(
        default=None,
        title="Collected from",
        description=(
            "null: Locust ran on this machine. Otherwise the folder of reports copied from a GKE "
            "run's master pod that `idf loadtest collect` built this summary from."
        ),
    )


def _ms(value: str) -> float:
    return float(value) if value not in ("", "N/A") else 0.0


def read_kind_stats(stats_csv: Path) -> tuple[list[KindStats], KindStats | None]:
    """Rows of Locust's ``<prefix>_stats.csv`` (per kind) and its Aggregated row."""
    if not stats_csv.is_file():
        raise OperationFailed(f"{stats_csv}: Locust wrote no statistics; see locust.log next to it.")
    kinds: list[KindStats] = []
    total = None
    with stats_csv.open(newline="") as handle:
        for row in csv.DictReader(handle):
            stats = KindStats(
                kind=row["Name"],
                request_type=row["Type"] or "",
                count=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                p50_ms=_ms(row["50%"]),
                p95_ms=_ms(row["95%"]),
                p99_ms=_ms(row["99%"]),
                max_ms=_ms(row["Max Response Time"]),
                requests_per_s=float(row["Requests/s"] or 0),
            )
            if row["Name"] == "Aggregated":
                total = stats
            else:
                kinds.append(stats)
    return kinds, total


def read_final_stats(
    path: Path,
) -> tuple[list[KindStats], KindStats | None, dict[str, KindStats], list[ErrorCount]] | None:
    """The statistics the locustfile wrote at shutdown (None when absent, e.g. Locust was killed)."""
    if not path.is_file():
        return None
    document = json.loads(path.read_text())
    kinds = [KindStats(**row) for row in document["kinds"]]
    total = KindStats(**document["total"]) if document.get("total") else None
    groups = {pattern: KindStats(**row) for pattern, row in document["groups"].items()}
    errors = [ErrorCount(**row) for row in document.get("errors", [])]
    return kinds, total, groups, errors


def build_summary(
    *,
    profile: Profile,
    stack: str,
    targets: dict[str, str],
    started_at: datetime,
    finished_at: datetime,
    stats_csv: Path,
    locust: LocustProcessInfo,
    artifacts: dict[str, str],
    output_dir: Path,
    collected_from: Path | None = None,
    provenance: Provenance | None = None,
) -> RunSummary:
    """Statistics + SLO verdicts of a finished run."""
    # Prefer the final statistics written at shutdown: Locust's CSV is sampled every second and
    # misses the last requests (e.g. the labs stopped by users leaving). Fall back to the CSV.
    final = read_final_stats(stats_csv.with_name("final-stats.json"))
    if final is not None:
        kinds, total, groups, errors = final
    else:
        kinds, total = read_kind_stats(stats_csv)
        groups, errors = {}, []
    verdicts: list[SloVerdict] = evaluate(profile.slos, kinds, groups)
    return RunSummary(
        profile=profile.name,
        profile_description=profile.description,
        stack=stack,
        output_dir=str(output_dir),
        targets=targets,
        started_at=started_at,
        finished_at=finished_at,
        duration_s=round((finished_at - started_at).total_seconds(), 3),
        users=profile.users,
        verdict=overall_verdict(verdicts),
        failed_slos=[v.kind for v in verdicts if v.verdict == "fail"],
        request_kinds=kinds,
        total=total,
        groups=list(groups.values()),
        slos=verdicts,
        errors=errors,
        locust=locust,
        artifacts=artifacts,
        collected_from=str(collected_from) if collected_from else None,
        provenance=provenance,
    )


def plot_history(history_csv: Path, png: Path, title: str) -> None:
    """Latency percentiles (p50, p95, p99) and active users over time, from Locust's stats history."""
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    times: list[float] = []
    users: list[int] = []
    series: dict[str, list[float]] = {"50%": [], "95%": [], "99%": []}
    rps: list[float] = []
    with history_csv.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] != "Aggregated":
                continue
            times.append(float(row["Timestamp"]))
            users.append(int(row["User Count"]))
            rps.append(_ms(row["Requests/s"]))
            for key, values in series.items():
                values.append(max(_ms(row[key]), 1.0) / 1000)  # floor at 1 ms: log scale
    if not times:
        raise OperationFailed(f"{history_csv}: no Aggregated rows to plot; the run recorded no requests.")
    elapsed = [t - times[0] for t in times]
    figure, (latency_axis, load_axis) = plt.subplots(2, 1, sharex=True, figsize=(10, 7))
    for key, values in series.items():
        latency_axis.plot(elapsed, values, label=f"p{key.rstrip('%')}")
    # Log scale: interactive queries (ms to s) and scans (minutes) share the axis readably.
    latency_axis.set_yscale("log")
    latency_axis.set_ylabel("response time (s, log)")
    latency_axis.set_title(title)
    latency_axis.legend(loc="upper left")
    latency_axis.grid(alpha=0.3)
    load_axis.plot(elapsed, users, color="tab:gray", label="active users")
    load_axis.set_ylabel("active users")
    load_axis.set_xlabel("time since start (s)")
    rps_axis = load_axis.twinx()
    rps_axis.plot(elapsed, rps, color="tab:green", label="requests/s")
    rps_axis.set_ylabel("requests/s")
    load_axis.legend(loc="upper left")
    rps_axis.legend(loc="upper right")
    load_axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(png, dpi=100)
    plt.close(figure)


def write_report(summary: RunSummary, out_dir: Path, title: str) -> None:
    """The latency plot and `summary.json` of a finished run (local or collected from GKE)."""
    plot_history(out_dir / "locust_stats_history.csv", out_dir / "latency.png", title)
    (out_dir / "summary.json").write_text(summary.model_dump_json(indent=2) + "\n")
