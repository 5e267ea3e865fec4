"""Prepare a ctrl_bps_panda submission without contacting a server; print its iDDS workflow.

`python -m idf_batch_tasks.panda_prepare CONFIG` runs BPS's acquire/cluster/transform/prepare
stages (``lsst.ctrl.bps.drivers.prepare_driver`` with ``runWmsSubmissionChecks=False``) and prints
JSON: every DomaPanDAWork task with its queue and its dependency count. `pandaclient` resolves its
server when imported, so the PanDA variables must point at an unreachable local address
(127.0.0.1:9) before that: a server is never contacted (idf_ops/batch/panda.py sets them).
"""

from __future__ import annotations

import json
import sys
from typing import Any

__all__ = ["describe", "main"]


def describe(workflow: Any) -> dict[str, Any]:
    """Tasks (name, label, queue, dependencies) of the prepared PanDA workflow."""
    works = list(workflow.idds_client_workflow.get_all_works())
    tasks = [
        {
            "name": work.task_name,
            # BPS names each task <workflow>_<NN>_<label>_<chunk> (ctrl_bps_panda's utils).
            "label": work.task_name.rsplit("_", 2)[-2],
            "queue": work.task_queue,
            "jobs": len(work.dependency_map),
            "dependencies": sum(len(job.get("dependencies", [])) for job in work.dependency_map),
            "dependency_tasks": sorted(getattr(work, "dependency_tasks", []) or []),
        }
        for work in works
    ]
    return {"workflow": workflow.name, "tasks": sorted(tasks, key=lambda t: t["name"])}


def main(argv: list[str] | None = None) -> int:
    """Prepare the submission of the BPS config named in ``argv`` and print its description."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m idf_batch_tasks.panda_prepare BPS_CONFIG", file=sys.stderr)
        return 2
    from lsst.ctrl.bps.drivers import prepare_driver  # noqa: PLC0415 - after the environment is set

    _config, workflow = prepare_driver(args[0], runWmsSubmissionChecks=False)
    print(json.dumps(describe(workflow)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
