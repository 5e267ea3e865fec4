"""The batch environment (BPS, HTCondor, our PipelineTasks): the one way tools talk to it.

The environment is a Debian 13 root (ansible/roles/batch) with its own Python; its commands run
there as the unprivileged batch user, through ``chroot --userspec``, with a clean environment.
Everything returns parsed values; a command that fails raises OperationFailed with its output.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from idf_core.errors import OperationFailed
from idf_core.facts import BATCH_ENVIRONMENT, BatchEnvironment

__all__ = ["BatchClient", "SubmittedRun", "failure_excerpt"]

_RUN_ID = re.compile(r"^Run Id:\s*(\S+)\s*$", re.MULTILINE)
_RUN_NAME = re.compile(r"^Run Name:\s*(\S+)\s*$", re.MULTILINE)
_SUBMIT_DIR = re.compile(r"Submitting from directory:\s*(\S+)")


@dataclass(frozen=True)
class SubmittedRun:
    """What `bps submit` / `bps restart` said about the run it started."""

    run_id: str
    run_name: str
    submit_path: str


def failure_excerpt(log: str, *, errors: int = 5, tail: int = 15) -> str:
    """What a failed command's log says: its first ``ERROR`` lines (the task's own exception, which
    pipetask logs long before its closing traceback) and then its last lines."""
    lines = log.strip().splitlines()
    last = lines[-tail:]
    first_errors = [line for line in lines[:-tail] if " ERROR " in line or line.startswith("ERROR")][:errors]
    if not first_errors:
        return "\n".join(last)
    return "\n".join([*first_errors, "...", *last])


class BatchClient:
    """Commands of the batch environment, run as its batch user."""

    def __init__(self, env: BatchEnvironment = BATCH_ENVIRONMENT) -> None:
        self.env = env

    def _argv(self, argv: list[str], *, as_root: bool = False) -> list[str]:
        env = self.env
        user = [] if as_root else [f"--userspec={env.uid}:{env.uid}"]
        home = "/root" if as_root else f"/home/{env.user}"
        return [
            "chroot",
            *user,
            env.root,
            "/usr/bin/env",
            "-i",
            f"PATH={env.venv}/bin:/usr/bin:/bin",
            f"HOME={home}",
            f"USER={'root' if as_root else env.user}",
            "LANG=C.UTF-8",
            # ctrl_bps finds pipetask and its own configs through these (its defaults assume EUPS).
            f"CTRL_MPEXEC_DIR={env.venv}",
            f"DAF_BUTLER_DIR={env.venv}",
            f"CTRL_BPS_DIR={env.venv}",
            *argv,
        ]

    def run(self, argv: list[str], *, timeout_s: float = 600, as_root: bool = False, cwd: str = "/") -> str:
        """Run a command in the environment; its stdout, or OperationFailed with its output."""
        full = self._argv(["/bin/sh", "-c", 'cd "$0" && exec "$@"', cwd, *argv], as_root=as_root)
        try:
            done = subprocess.run(full, capture_output=True, text=True, timeout=timeout_s, check=False)
        except FileNotFoundError as exc:
            raise OperationFailed("chroot is not installed; run `idf local up` (the batch role)") from exc
        except subprocess.TimeoutExpired as exc:
            raise OperationFailed(
                f"{argv[0]} in the batch environment did not finish in {timeout_s:.0f} s"
            ) from exc
        if done.returncode != 0:
            raise OperationFailed(
                f"{' '.join(argv[:3])} failed in the batch environment (exit {done.returncode}):\n"
                + failure_excerpt(done.stderr or done.stdout)
            )
        return done.stdout + done.stderr

    def available(self) -> bool:
        """True when the environment has been built (its bps exists)."""

        return Path(self.env.host(f"{self.env.venv}/bin/bps")).exists()

    def started_run(self, output: str) -> SubmittedRun:
        """The run `bps submit` or `bps restart` names in its output."""
        run_id, name = _RUN_ID.search(output), _RUN_NAME.search(output)
        if run_id is None or name is None:
            raise OperationFailed(f"bps printed no run id:\n{output[-2000:]}")
        submit = _SUBMIT_DIR.search(output)
        return SubmittedRun(run_id.group(1), name.group(1), submit.group(1) if submit else "")

    def submit(self, config_path: str) -> SubmittedRun:
        """`bps submit CONFIG`: build the quantum graph and submit it to the pool."""
        return self.started_run(self.run(["bps", "submit", config_path], cwd=self.env.data, timeout_s=900))

    def restart(self, submit_path: str) -> SubmittedRun:
        """`bps restart --id SUBMIT_PATH`: rerun what did not succeed (DAGMan's rescue DAG)."""
        return self.started_run(self.run(["bps", "restart", "--id", submit_path], cwd=self.env.data))

    def cancel(self, run_id: str) -> str:
        """`bps cancel --id RUN_ID`."""
        return self.run(["bps", "cancel", "--id", run_id], cwd=self.env.data)

    def report(self, run_id: str | None = None) -> list[dict[str, Any]]:
        """The runs HTCondor knows (one run when run_id, an id or a submit path, is given)."""
        argv = ["python", "-m", "idf_batch_tasks.report"] + (["--id", run_id] if run_id else [])
        out = self.run(argv, timeout_s=300)
        try:
            line = next(ln for ln in reversed(out.splitlines()) if ln.startswith('{"runs"'))
            runs = json.loads(line)["runs"]
        except (StopIteration, ValueError, KeyError) as exc:
            raise OperationFailed(f"the batch report printed no JSON:\n{out[-1000:]}") from exc
        return list(runs)

    def slots(self) -> list[dict[str, Any]]:
        """The pool's slots (`condor_status`): name, state, cpus, memory."""
        out = self.run(
            ["condor_status", "-json", "-attributes", "Name,State,Activity,Cpus,Memory"], timeout_s=60
        )
        return list(json.loads(out)) if out.strip() else []

    def trivial_job(self, *, timeout_s: float = 120) -> float:
        """Submit a /bin/true job as the batch user and wait for it; seconds it took."""

        stamp = f"{time.time_ns()}"
        folder = f"{self.env.data}/probe/{stamp}"
        self.write_file(
            f"{folder}/true.sub",
            "executable = /bin/true\nuniverse = vanilla\nlog = true.log\nrequest_cpus = 1\n"
            "request_memory = 64\nqueue\n",
        )
        started = time.monotonic()
        self.run(["condor_submit", "true.sub"], cwd=folder, timeout_s=timeout_s)
        self.run(
            ["condor_wait", "-wait", str(int(timeout_s)), "true.log"], cwd=folder, timeout_s=timeout_s + 10
        )
        return time.monotonic() - started

    def write_file(self, path: str, text: str) -> None:
        """Write a file inside the environment as the batch user (a submit config, a marker)."""

        host = Path(self.env.host(path))
        for parent in reversed([p for p in host.parents if not p.exists()]):
            parent.mkdir()
            os.chown(parent, self.env.uid, self.env.uid)
        tmp = host.with_name(host.name + ".tmp")
        tmp.write_text(text)
        os.chown(tmp, self.env.uid, self.env.uid)
        tmp.replace(host)
