#!/usr/bin/env python3
"""Time `idf plan --all` against its import floor, alternately, and print the ratio.

The floor is a process that only imports the three heavy libraries the plan needs
(pulumi_gcp, pulumi_kubernetes, kubernetes_validate). Rounds alternate floor and plan so that
load from other work on a shared machine falls on both alike; the medians of wall time and of CPU
time (user + system, the plan's validator process included) and their ratios are printed. CPU
time moves less than wall time when others use the machine. Run from anywhere:
`.venv/bin/python scripts/bench_plan.py [--rounds N]`.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
IDF = ROOT / ".venv" / "bin" / "idf"
FLOOR = [str(PYTHON), "-c", "import pulumi_gcp, pulumi_kubernetes, kubernetes_validate"]
PLAN = [str(IDF), "plan", "--all", "-q"]


def _seconds(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run (CPU: user + system of it and the children it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> int:
    """Run the rounds and print per-round times, medians and the plan/floor ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of floor + plan (default 3)")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if not IDF.exists():
        sys.exit(f"{IDF} not found: run scripts/setup.sh first")
    _seconds(FLOOR)  # warm the file cache so round 1 is not an outlier
    floors: list[tuple[float, float]] = []
    plans: list[tuple[float, float]] = []
    for index in range(args.rounds):
        floors.append(_seconds(FLOOR))
        plans.append(_seconds(PLAN))
        print(
            f"round {index + 1}: floor {floors[-1][0]:.2f} s ({floors[-1][1]:.2f} s CPU), "
            f"plan {plans[-1][0]:.2f} s ({plans[-1][1]:.2f} s CPU)",
            flush=True,
        )
    for what, pick in (("wall", 0), ("CPU", 1)):
        floor = statistics.median(run[pick] for run in floors)
        plan = statistics.median(run[pick] for run in plans)
        print(f"median {what:4} floor {floor:.2f} s, plan {plan:.2f} s: ratio plan/floor {plan / floor:.2f}x")
    print("floor: import pulumi_gcp, pulumi_kubernetes, kubernetes_validate; plan: idf plan --all -q")
    return 0


if __name__ == "__main__":
    sys.exit(main())
