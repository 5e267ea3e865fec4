"""`bps report` as JSON: the runs HTCondor knows, through ctrl_bps_htcondor's own report API.

Run inside the batch environment (`python -m idf_batch_tasks.report [--id ID]`): ctrl_bps's
terminal table is for people; `idf batch report` renders its own table and JSON from this.
"""

from __future__ import annotations

import argparse
import enum
import json
from pathlib import Path
from typing import Any

from lsst.ctrl.bps import BpsConfig
from lsst.ctrl.bps.htcondor import HTCondorService

__all__ = ["main", "run_to_dict"]


def _plain(value: object) -> Any:
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, dict):
        return {str(_plain(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _jobs(run_summary: str | None) -> dict[str, int]:
    """Jobs per BPS job label from the run summary (`label:count;label:count`)."""
    counts: dict[str, int] = {}
    for part in (run_summary or "").split(";"):
        label, _, count = part.partition(":")
        if label and count.isdigit():
            counts[label] = int(count)
    return counts


def _quanta(submit_path: str | None) -> dict[str, int]:
    """Quanta per task label, from the run's quantum graph (counted once, then cached beside it).

    Jobs are not quanta: BPS clusters several quanta into one job (batch/bps/local-htcondor.yaml).
    """
    if not submit_path:
        return {}
    folder = Path(submit_path)
    cache = folder / "idf-quanta.json"
    if cache.exists():
        return dict(json.loads(cache.read_text()))
    graphs = sorted(folder.glob("*.qg"))
    if not graphs:
        return {}
    from lsst.pipe.base import QuantumGraph  # noqa: PLC0415 - seconds to import; only when counting

    graph = QuantumGraph.loadUri(str(graphs[0]))
    counts = {task.label: len(graph.getNodesForTask(task)) for task in graph.iterTaskGraph()}
    cache.write_text(json.dumps(counts))
    return counts


def run_to_dict(run: Any) -> dict[str, Any]:
    """The fields of a WmsRunReport that `idf batch` shows, JSON-ready."""
    return {
        "wms_id": run.wms_id,
        "global_wms_id": run.global_wms_id,
        "path": run.path,
        "run": run.run,
        "label": run.label,
        "operator": run.operator,
        "project": run.project,
        "campaign": run.campaign,
        "payload": run.payload,
        "state": _plain(run.state),
        "total_number_jobs": run.total_number_jobs,
        "job_state_counts": _plain(run.job_state_counts or {}),
        "job_summary": _plain(run.job_summary or {}),
        "jobs": _jobs(run.run_summary),
        "quanta": _quanta(run.path),
        "exit_code_summary": _plain(run.exit_code_summary or {}),
    }


def main(argv: list[str] | None = None) -> int:
    """Print `{"runs": [...], "message": ...}` for one run (--id: id or submit path) or all."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--id", default=None, help="Run id (HTCondor cluster id) or submit path.")
    parser.add_argument("--hist", type=float, default=7.0, help="Days of history to search.")
    args = parser.parse_args(argv)
    service = HTCondorService(BpsConfig({}))
    runs, message = service.report(wms_workflow_id=args.id, hist=args.hist, return_exit_codes=True)
    print(json.dumps({"runs": [run_to_dict(r) for r in runs], "message": message or ""}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
