"""Running a profile with Locust here: standalone, or Locust's distributed mode (master + N workers).

Locust runs headless as subprocesses of the ``locust`` CLI with ``loadtests/locustfile.py``; the
run configuration is a JSON file in the output folder named by ``$IDF_LOADTEST_RUN_CONFIG``. The
run is bounded by the profile (users, ``--run-time``, the iteration cap) and by a hard deadline
here, after which the processes are terminated. Afterwards: summary.json with SLO verdicts and
a PNG plot next to Locust's CSV and HTML report.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import psutil

from idf_core.errors import BadInput, OperationFailed
from idf_core.paths import REPO_ROOT, state_dir
from idf_ops.loadtest.provenance import Provenance
from idf_ops.loadtest.report import LocustProcessInfo, RunSummary, build_summary, write_report
from idf_ops.loadtest.targets import service_endpoints
from loadtests.runconfig import FINAL_STATS_ENV, RUN_CONFIG_ENV, RunConfig

Popen = subprocess.Popen[bytes]

__all__ = ["LOCUSTFILE", "default_out_dir", "locust_command", "run_locally"]

LOCUSTFILE = REPO_ROOT / "loadtests" / "locustfile.py"
_SLACK_S = 60


def default_out_dir(stack: str, profile: str) -> Path:
    """``var/loadtests/<stack>/<profile>/<UTC timestamp>/``."""
    return state_dir("loadtests", stack, profile, datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def locust_command(
    config: RunConfig,
    out_dir: Path,
    *,
    role: str,
    master_port: int = 0,
    workers: int = 1,
    worker_index: int = 0,
) -> list[str]:
    """The locust CLI arguments of one process: ``standalone``, ``master`` or ``worker``."""
    base = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--loglevel", "INFO"]
    if role == "worker":
        return [
            *base,
            "--worker",
            "--master-host",
            "127.0.0.1",
            "--master-port",
            str(master_port),
            "--logfile",
            str(out_dir / f"locust-worker-{worker_index}.log"),
        ]
    profile = config.profile
    command = [
        *base,
        "--users",
        str(profile.users),
        "--spawn-rate",
        str(profile.spawn_rate_per_s),
        "--stop-timeout",
        str(profile.stop_timeout_s),
        "--csv",
        str(out_dir / "locust"),
        "--csv-full-history",
        "--html",
        str(out_dir / "report.html"),
        "--logfile",
        str(out_dir / "locust.log"),
        "--only-summary",
    ]
    if role == "standalone":
        command += ["--run-time", f"{profile.run_time_s}s"]
    else:
        # The master enforces the run time itself (loadtests.users.bounds.end_master_run_after):
        # Locust's --run-time would quit before the workers' last statistics arrive.
        command += [
            "--master",
            "--expect-workers",
            str(workers),
            "--expect-workers-max-wait",
            "60",
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            str(master_port),
        ]
    return command


def _deadline_s(config: RunConfig) -> float:
    profile = config.profile
    spawn_s = profile.users / profile.spawn_rate_per_s
    return profile.run_time_s + profile.stop_timeout_s + spawn_s + _SLACK_S


def _start(
    config: RunConfig, out_dir: Path, workers: int, env: dict[str, str], console: IO[bytes]
) -> list[Popen]:
    """Start the Locust processes; the first one is the standalone runner or the master."""

    def start(command: list[str]) -> Popen:
        return subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=console, stderr=subprocess.STDOUT)

    if workers == 1:
        return [start(locust_command(config, out_dir, role="standalone"))]
    port = _free_port()
    processes = [start(locust_command(config, out_dir, role="master", master_port=port, workers=workers))]
    for index in range(workers):
        processes.append(
            start(locust_command(config, out_dir, role="worker", master_port=port, worker_index=index))
        )
    return processes


def _watch(config: RunConfig, processes: list[Popen], progress: Callable[[str], None]) -> dict[int, float]:
    """Wait for the main process (bounded by a hard deadline); return CPU seconds per process."""
    wall_start = time.monotonic()
    deadline = wall_start + _deadline_s(config)
    cpu_by_pid: dict[int, float] = {}
    last_report = 0.0
    while processes[0].poll() is None:
        _sample_cpu(processes, cpu_by_pid)
        now = time.monotonic()
        if now > deadline:
            progress("hard deadline reached: terminating Locust")
            break
        if now - last_report >= 5:
            progress(
                f"running {config.profile.name}: {now - wall_start:.0f} s of <= {config.profile.run_time_s} s"
            )
            last_report = now
        time.sleep(0.5)
    return cpu_by_pid


def _stop(processes: list[Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_locally(
    config: RunConfig,
    out_dir: Path,
    *,
    workers: int = 1,
    progress: Callable[[str], None] = lambda _line: None,
    provenance: Provenance | None = None,
) -> RunSummary:
    """Run the profile on this machine and write the report; the summary carries the verdict
    (and `provenance`, where the evidence comes from)."""
    if workers < 1:
        raise BadInput(f"--workers {workers}: give 1 (standalone) or more (one master + N workers).")
    out_dir.mkdir(parents=True, exist_ok=True)
    run_config_path = out_dir / "run-config.json"
    run_config_path.write_text(config.model_dump_json(indent=2, by_alias=True) + "\n")
    env = {
        **os.environ,
        RUN_CONFIG_ENV: str(run_config_path),
        FINAL_STATS_ENV: str(out_dir / "final-stats.json"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    started_at = datetime.now(UTC)
    wall_start = time.monotonic()
    with (out_dir / "locust-console.txt").open("wb") as console:
        processes = _start(config, out_dir, workers, env, console)
        try:
            cpu_by_pid = _watch(config, processes, progress)
        finally:
            _stop(processes)
    finished_at = datetime.now(UTC)
    wall_s = max(time.monotonic() - wall_start, 1e-6)
    cores = psutil.cpu_count() or 1
    cpu_s = sum(cpu_by_pid.values())
    locust = LocustProcessInfo(
        workers=workers,
        exit_code=processes[0].returncode,
        cpu_seconds=round(cpu_s, 2),
        cpu_share_of_machine=round(cpu_s / (wall_s * cores), 4),
        cores=cores,
    )
    stats_csv = out_dir / "locust_stats.csv"
    if not stats_csv.is_file():
        tail = (out_dir / "locust-console.txt").read_text(errors="replace")[-2000:]
        raise OperationFailed(f"Locust exited with {locust.exit_code} and wrote no statistics:\n{tail}")
    artifacts = {
        "html_report": "report.html",
        "stats_csv": "locust_stats.csv",
        "stats_history_csv": "locust_stats_history.csv",
        "failures_csv": "locust_failures.csv",
        "plot": "latency.png",
        "run_config": "run-config.json",
        "log": "locust.log",
        "final_stats": "final-stats.json",
    }
    targets = {service: f"{host}:{port}" for service, (host, port) in service_endpoints(config).items()}
    summary = build_summary(
        profile=config.profile,
        stack=config.stack,
        targets=targets,
        started_at=started_at,
        finished_at=finished_at,
        stats_csv=stats_csv,
        locust=locust,
        artifacts=artifacts,
        output_dir=out_dir,
        provenance=provenance,
    )
    plural = "s" if workers > 1 else ""
    write_report(summary, out_dir, f"{config.profile.name} on {config.stack} ({workers} worker{plural})")
    return summary


def _sample_cpu(processes: list[Popen], cpu_by_pid: dict[int, float]) -> None:
    """Remember the latest CPU time of each Locust process (a process's figure is lost once it exits)."""
    for process in processes:
        try:
            times = psutil.Process(process.pid).cpu_times()
        except psutil.Error:
            continue
        cpu_by_pid[process.pid] = times.user + times.system
