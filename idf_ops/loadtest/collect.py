"""Reports of a GKE run -> ``summary.json`` with SLO verdicts, as a local run writes it.

The master Job of ``locust-gke.yaml`` leaves Locust's files in its reports folder (see
:mod:`idf_ops.loadtest.manifests`); an operator copies that folder here with ``kubectl cp``.
This module checks the copy, puts the files in the run's output folder and builds the summary
and the plot with the same code as a local run. The run configuration copied from the pod says
what ran: its profile (with the SLOs it ran under) and stack must be the ones asked for, so a
summary never lands in another profile's or stack's folder, where a gate would read it.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from idf_core.errors import BadInput
from idf_ops.loadtest.manifests import EXIT_CODE_FILE, REPORTS_DIR
from idf_ops.loadtest.provenance import Provenance
from idf_ops.loadtest.report import (
    LocustProcessInfo,
    RunSummary,
    build_summary,
    read_final_stats,
    read_kind_stats,
    write_report,
)
from idf_ops.loadtest.targets import service_endpoints
from loadtests.runconfig import RunConfig

__all__ = ["REQUIRED_FILES", "CheckedReports", "check_reports", "collect_reports"]

# What the master's reports folder holds once the master has written the exit-code file.
REQUIRED_FILES = (
    "locust_stats.csv",
    "locust_stats_history.csv",
    "final-stats.json",
    "report.html",
    "run-config.json",
    EXIT_CODE_FILE,
)
_OPTIONAL_FILES = ("locust_failures.csv", "locust_exceptions.csv")
_HINT = (
    f"copy the master's {REPORTS_DIR} once it holds {EXIT_CODE_FILE} "
    f"(`kubectl -n idf-loadtest cp <master pod>:{REPORTS_DIR} DIR`) and pass that DIR to --from"
)


def _reports_folder(from_dir: Path) -> Path:
    """The folder holding the reports: ``from_dir``, or its ``reports/`` when kubectl cp nested it."""
    if not from_dir.is_dir():
        raise BadInput(f"--from {from_dir}: no such folder; {_HINT}.")
    folder = from_dir
    nested = from_dir / Path(REPORTS_DIR).name
    if not (from_dir / "locust_stats.csv").exists() and (nested / "locust_stats.csv").is_file():
        folder = nested
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        why = (
            f" ({EXIT_CODE_FILE} is written after Locust exits: was the copy taken while it still ran?)"
            if EXIT_CODE_FILE in missing
            else ""
        )
        raise BadInput(f"{folder}: missing {', '.join(missing)}{why}; {_HINT}.")
    return folder


def _run_config(path: Path, profile: str, stack: str) -> RunConfig:
    try:
        config = RunConfig.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        first = " ".join(str(exc).split())[:300]
        raise BadInput(f"{path}: not the run configuration of a load test ({first}); {_HINT}.") from exc
    if config.profile.name != profile or config.stack != stack:
        raise BadInput(
            f"{path}: these reports are of profile {config.profile.name!r} on stack {config.stack!r}, "
            f"not {profile!r} on {stack!r}; give the profile and --stack the run was rendered for."
        )
    return config


def _exit_code(path: Path) -> int:
    text = path.read_text(errors="replace").strip()
    try:
        return int(text)
    except ValueError:
        raise BadInput(f"{path}: {text[:40]!r} is not an exit code (one integer); {_HINT}.") from None


def _check_locust_files(folder: Path) -> tuple[datetime, datetime]:
    """BadInput unless the statistics files parse; the first and last sample times of the history."""
    stats_csv = folder / "locust_stats.csv"
    try:
        read_kind_stats(stats_csv)
    except (KeyError, ValueError, TypeError, ValidationError) as exc:
        raise BadInput(f"{stats_csv}: not Locust's statistics CSV ({exc!r}); {_HINT}.") from exc
    final_stats = folder / "final-stats.json"
    try:
        read_final_stats(final_stats)
    except (
        json.JSONDecodeError,
        UnicodeDecodeError,
        KeyError,
        TypeError,
        AttributeError,
        ValidationError,
    ) as exc:
        first = " ".join(str(exc).split())[:300]
        raise BadInput(
            f"{final_stats}: not the final statistics the locustfile writes ({type(exc).__name__}: {first}); "
            f"copy it again from the master pod (it is written when Locust quits)."
        ) from exc
    history_csv = folder / "locust_stats_history.csv"
    try:
        with history_csv.open(newline="") as handle:
            times = [float(row["Timestamp"]) for row in csv.DictReader(handle) if row["Name"] == "Aggregated"]
    except (KeyError, ValueError, TypeError) as exc:
        raise BadInput(f"{history_csv}: not Locust's statistics history CSV ({exc!r}); {_HINT}.") from exc
    if not times:
        raise BadInput(f"{history_csv}: no Aggregated rows: the run recorded no requests; {_HINT}.")
    return datetime.fromtimestamp(min(times), UTC), datetime.fromtimestamp(max(times), UTC)


@dataclass(frozen=True)
class CheckedReports:
    """A reports folder whose files all parse, and what they say about the run."""

    folder: Path
    from_dir: Path
    config: RunConfig
    exit_code: int
    started_at: datetime
    finished_at: datetime


def check_reports(from_dir: Path, *, profile: str, stack: str) -> CheckedReports:
    """BadInput (file, what is wrong, what to do) unless ``from_dir`` holds a complete run of the profile."""
    folder = _reports_folder(from_dir)
    config = _run_config(folder / "run-config.json", profile, stack)
    exit_code = _exit_code(folder / EXIT_CODE_FILE)
    # Times of the run from Locust's own samples (one per second): the copy's file times are not.
    started_at, finished_at = _check_locust_files(folder)
    return CheckedReports(folder, from_dir, config, exit_code, started_at, finished_at)


def collect_reports(
    reports: CheckedReports, out_dir: Path, provenance: Provenance | None = None
) -> RunSummary:
    """Copy the checked reports into ``out_dir``; write summary.json (with `provenance`) and
    latency.png there."""
    folder, config = reports.folder, reports.config
    out_dir.mkdir(parents=True, exist_ok=True)
    present_optional = [name for name in _OPTIONAL_FILES if (folder / name).is_file()]
    if folder.resolve() != out_dir.resolve():
        for name in (*REQUIRED_FILES, *present_optional):
            shutil.copy2(folder / name, out_dir / name)
    artifacts = {
        "html_report": "report.html",
        "stats_csv": "locust_stats.csv",
        "stats_history_csv": "locust_stats_history.csv",
        "plot": "latency.png",
        "run_config": "run-config.json",
        "final_stats": "final-stats.json",
        "exit_code": EXIT_CODE_FILE,
    }
    if "locust_failures.csv" in present_optional:
        artifacts["failures_csv"] = "locust_failures.csv"
    targets = {service: f"{host}:{port}" for service, (host, port) in service_endpoints(config).items()}
    summary = build_summary(
        profile=config.profile,
        stack=config.stack,
        targets=targets,
        started_at=reports.started_at,
        finished_at=reports.finished_at,
        stats_csv=out_dir / "locust_stats.csv",
        # Locust ran in the cluster: its workers and CPU were not measured from here.
        locust=LocustProcessInfo(
            workers=None, exit_code=reports.exit_code, cpu_seconds=None, cpu_share_of_machine=None, cores=None
        ),
        artifacts=artifacts,
        output_dir=out_dir,
        collected_from=reports.from_dir.resolve(),
        provenance=provenance,
    )
    write_report(summary, out_dir, f"{config.profile.name} on {config.stack} (collected from GKE)")
    return summary
