"""Measure TAP cone-search throughput (sync ADQL queries per second) of a TAP endpoint.

A bounded closed-loop benchmark: ``clients`` threads each send synchronous ADQL cone searches
(random centres inside the DC2 footprint) one after another for ``duration_s`` seconds, and every
answer's VOTable is checked for ``QUERY_STATUS`` = OK (DaCHS answers HTTP 200 with an error status
for a failed query). Only loopback URLs are accepted: load never leaves the machine.

Compare one DaCHS instance (``http://127.0.0.1:8091/tap``) with the balancer in front of all of
them (``http://127.0.0.1:8080/tap``): ``idf tap bench --url ...``. Figures of a run saved with
``--json`` are the baseline of a later run (``--baseline FILE``): the comparison prints each URL's
rate before and after, and the balancer/instance ratio (last URL over first) of both runs, each
measured within its own run (the machine is shared: compare ratios, not absolute rates).
"""

from __future__ import annotations

import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from idf_clients.tap import GOOD_STATUSES, TapQueryError, body_status
from idf_core.errors import BadInput, OperationFailed

__all__ = [
    "BenchResult",
    "BenchSettings",
    "compare_runs",
    "cone_query",
    "load_baseline",
    "run_benchmark",
    "throughput_ratio",
]

# DC2 footprint (deg): where cone centres are drawn.
DC2_RA_RANGE_DEG = (52.0, 73.0)
DC2_DEC_RANGE_DEG = (-43.0, -29.0)
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class BenchSettings(BaseModel):
    """What to measure and how hard (bounded: at most 64 clients for 300 s, loopback only)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(title="TAP URL", description="TAP base URL (…/tap) on 127.0.0.1.")
    clients: int = Field(default=4, title="Clients", description="Concurrent closed-loop clients (1-64).")
    duration_s: float = Field(default=10.0, title="Duration (s)", description="Seconds to run (at most 300).")
    radius_deg: float = Field(default=0.05, title="Cone radius (deg)", description="Radius of every cone.")
    table: str = Field(
        default="dp01_dc2_catalogs.object", title="Table", description="Table searched (columns ra, dec)."
    )
    seed: int = Field(default=1, title="Seed", description="Seed of the cone centres.")


class BenchResult(BaseModel):
    """Figures of one benchmark run."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(title="TAP URL", description="TAP base URL that was measured.")
    clients: int = Field(title="Clients", description="Concurrent closed-loop clients.")
    duration_s: float = Field(title="Duration (s)", description="Measured wall-clock time.")
    queries_ok: int = Field(title="Queries OK", description="Queries answered with QUERY_STATUS OK.")
    queries_failed: int = Field(title="Queries failed", description="HTTP errors or QUERY_STATUS ERROR.")
    queries_per_s: float = Field(title="Throughput (queries/s)", description="OK queries per second.")
    latency_p50_ms: float = Field(title="Median latency (ms)", description="Median latency of OK queries.")
    latency_p95_ms: float = Field(
        title="p95 latency (ms)", description="95th percentile latency of OK queries."
    )
    rows_returned: int = Field(title="Rows", description="Rows returned over all OK queries.")


def cone_query(table: str, ra_deg: float, dec_deg: float, radius_deg: float) -> str:
    """The ADQL cone search every benchmark client sends."""
    return (
        f"SELECT objectId, ra, dec FROM {table} "  # noqa: S608 - ADQL text, sent as a parameter
        "WHERE CONTAINS(POINT('ICRS', ra, dec), "
        f"CIRCLE('ICRS', {ra_deg:.5f}, {dec_deg:.5f}, {radius_deg}))=1"
    )


def _check_url(url: str) -> None:
    host = urlparse(url).hostname
    if host not in _LOOPBACK_HOSTS:
        raise BadInput(f"--url {url!r}: load tests target 127.0.0.1 only; pass a loopback TAP URL.")


def run_benchmark(settings: BenchSettings) -> BenchResult:
    """Run the closed-loop benchmark and return its figures."""
    url, clients, duration_s = settings.url, settings.clients, settings.duration_s
    _check_url(url)
    if not 1 <= clients <= 64:
        raise BadInput(f"--clients {clients}: must be between 1 and 64 (a bounded local benchmark).")
    if not 0 < duration_s <= 300:
        raise BadInput(f"--duration-s {duration_s}: must be in (0, 300] seconds.")
    sync_url = url.rstrip("/") + "/sync"
    lock = threading.Lock()
    latencies_ms: list[float] = []
    failures: list[str] = []
    rows = [0]
    deadline = time.monotonic() + duration_s

    def client(index: int) -> None:
        rng = random.Random(settings.seed * 1000 + index)  # noqa: S311 - sky positions, not secrets
        session = requests.Session()
        while time.monotonic() < deadline:
            query = cone_query(
                settings.table,
                rng.uniform(*DC2_RA_RANGE_DEG),
                rng.uniform(*DC2_DEC_RANGE_DEG),
                settings.radius_deg,
            )
            started = time.monotonic()
            try:
                answer = session.post(
                    sync_url,
                    data={
                        "LANG": "ADQL",
                        "REQUEST": "doQuery",
                        "QUERY": query,
                        "RESPONSEFORMAT": "votable/td",
                    },
                    timeout=60,
                )
                ok = answer.status_code == 200 and body_status(answer.content)[0] in GOOD_STATUSES
                problem = "" if ok else f"HTTP {answer.status_code}: {answer.text[:200]}"
            except TapQueryError as exc:
                ok, problem = False, str(exc)
            except requests.RequestException as exc:
                ok, problem = False, str(exc)
            elapsed_ms = (time.monotonic() - started) * 1000
            with lock:
                if ok:
                    latencies_ms.append(elapsed_ms)
                    rows[0] += answer.text.count("<TR>")
                else:
                    failures.append(problem)

    started_all = time.monotonic()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for future in [pool.submit(client, i) for i in range(clients)]:
            future.result()
    wall_s = time.monotonic() - started_all
    if not latencies_ms:
        detail = failures[0] if failures else "no query finished"
        raise OperationFailed(f"TAP at {url} answered no cone search successfully ({detail}).")
    ordered = sorted(latencies_ms)
    return BenchResult(
        url=url,
        clients=clients,
        duration_s=round(wall_s, 2),
        queries_ok=len(latencies_ms),
        queries_failed=len(failures),
        queries_per_s=round(len(latencies_ms) / wall_s, 1),
        latency_p50_ms=round(ordered[len(ordered) // 2], 1),
        latency_p95_ms=round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 1),
        rows_returned=rows[0],
    )


def throughput_ratio(results: list[BenchResult]) -> float | None:
    """Rate of the last URL over the first (balancer over one instance), None for fewer than two."""
    if len(results) < 2 or results[0].queries_per_s <= 0:
        return None
    return round(results[-1].queries_per_s / results[0].queries_per_s, 2)


def load_baseline(path: Path) -> list[BenchResult]:
    """Read the figures of an earlier run (``idf tap bench --json`` output, one JSON object a line)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BadInput(
            f"--baseline {path}: cannot read it ({exc.strerror}); pass the output of `idf tap bench --json`."
        ) from None
    results: list[BenchResult] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            results.append(BenchResult.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            first = str(exc).splitlines()[0]
            raise BadInput(
                f"--baseline {path}, line {number}: not a figure line of `idf tap bench --json` ({first});"
                " save a run with --json and pass that file."
            ) from None
    if not results:
        raise BadInput(f"--baseline {path}: holds no figures; pass the output of `idf tap bench --json`.")
    return results


def compare_runs(baseline: list[BenchResult], current: list[BenchResult]) -> list[str]:
    """Lines comparing two runs: each URL's rate and p50 before and after, and both runs' ratios."""
    before_by_url = {result.url: result for result in baseline}
    lines: list[str] = []
    for result in current:
        before = before_by_url.get(result.url)
        if before is None:
            lines.append(f"{result.url}: {result.queries_per_s} q/s (not in the baseline)")
            continue
        speedup = round(result.queries_per_s / before.queries_per_s, 2) if before.queries_per_s else None
        lines.append(
            f"{result.url}: {before.queries_per_s} -> {result.queries_per_s} q/s (x{speedup}), "
            f"p50 {before.latency_p50_ms} -> {result.latency_p50_ms} ms"
        )
    lines.append(
        f"balancer/instance ratio (last URL / first): before {throughput_ratio(baseline)}, "
        f"after {throughput_ratio(current)}"
    )
    return lines
