"""Run the local stack's playbooks through ansible-runner and report progress per role.

A run returns a :class:`PlaybookRun`: per-role task counts and time, and for a failed run the role,
task and message of each failure (roles word their ``fail`` messages as ``<service>: what is wrong;
what to do``). Artifacts (full stdout, events) stay under ``var/ansible-runner/`` for diagnosis.
"""

# ansible_runner is imported when a playbook runs.
# ruff: noqa: PLC0415

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from idf_core.errors import OperationFailed
from idf_core.paths import state_dir
from idf_ops.local.settings import ANSIBLE_DIR, VENV_BIN

__all__ = ["PlaybookRun", "RoleStats", "TaskFailure", "run_playbook"]


@dataclass
class RoleStats:
    """Task outcomes and wall time of one role in a run."""

    role: str
    ok: int = 0
    changed: int = 0
    failed: int = 0
    skipped: int = 0
    started_at: float = 0.0
    ended_at: float = 0.0

    @property
    def seconds(self) -> float:
        """Wall time from the role's first to its last task event."""
        return max(0.0, self.ended_at - self.started_at)


@dataclass(frozen=True)
class TaskFailure:
    """A task that failed (not ignored)."""

    role: str
    task: str
    message: str


@dataclass
class PlaybookRun:
    """Outcome of one playbook run."""

    playbook: str
    rc: int
    seconds: float
    roles: dict[str, RoleStats] = field(default_factory=dict)
    failures: list[TaskFailure] = field(default_factory=list)
    stdout_tail: str = ""

    @property
    def changed(self) -> int:
        """Changed tasks over all roles."""
        return sum(stats.changed for stats in self.roles.values())


def _failure_message(res: dict[str, Any]) -> str:
    for key in ("msg", "stderr", "module_stderr", "stdout"):
        value = res.get(key)
        if isinstance(value, str) and value.strip():
            text = value.strip()
            if key != "msg":  # last lines of a command's output carry the error
                text = " | ".join(text.splitlines()[-3:])
            return text[:1500]
    return "failed without a message"


class _EventTally:
    """Turns ansible-runner events into per-role counts, progress callbacks and failures.

    ``run.roles`` aggregates per role over the whole run; ``segment`` is the role's stretch in the
    play being run now (what the progress lines show).
    """

    def __init__(
        self, run: PlaybookRun, on_role_start: Callable[[str], None], on_role_end: Callable[[RoleStats], None]
    ) -> None:
        self.run = run
        self.on_role_start = on_role_start
        self.on_role_end = on_role_end
        self.segment: RoleStats | None = None

    @staticmethod
    def role_of(data: dict[str, Any]) -> str:
        """Role of an event; tasks outside roles (facts, playbook tasks) count under "setup"."""
        return str(data.get("role") or "setup")

    @staticmethod
    def tally(stats: RoleStats, kind: str, res: dict[str, Any], now: float) -> None:
        stats.ended_at = now
        if kind == "runner_on_ok":
            stats.ok += 1
            stats.changed += 1 if res.get("changed") else 0
        elif kind == "runner_on_skipped":
            stats.skipped += 1
        elif kind in ("runner_on_failed", "runner_on_unreachable"):
            stats.failed += 1

    def finish(self) -> None:
        """Close the last role's stretch."""
        if self.segment is not None:
            self.on_role_end(self.segment)
            self.segment = None

    def handle(self, event: dict[str, Any]) -> bool:
        """ansible-runner event handler (returns True: keep the event in the artifacts)."""
        data = event.get("event_data") or {}
        kind = event.get("event", "")
        now = time.monotonic()
        if kind == "playbook_on_play_start":
            self.finish()
        elif kind == "playbook_on_task_start":
            role = self.role_of(data)
            self.run.roles.setdefault(role, RoleStats(role=role, started_at=now))
            if role != "setup" and (self.segment is None or self.segment.role != role):
                self.finish()
                self.segment = RoleStats(role=role, started_at=now)
                self.on_role_start(role)
        elif kind.startswith("runner_on_") and kind != "runner_on_start":
            failed = kind in ("runner_on_failed", "runner_on_unreachable")
            if failed and data.get("ignore_errors"):
                return True
            role = self.role_of(data)
            res = data.get("res") or {}
            self.tally(self.run.roles.setdefault(role, RoleStats(role=role, started_at=now)), kind, res, now)
            if self.segment is not None and self.segment.role == role:
                self.tally(self.segment, kind, res, now)
            if failed:
                self.run.failures.append(TaskFailure(role, str(data.get("task", "?")), _failure_message(res)))
        return True


def run_playbook(
    playbook: str,
    on_role_start: Callable[[str], None] = lambda _role: None,
    on_role_end: Callable[[RoleStats], None] = lambda _stats: None,
    extravars: dict[str, Any] | None = None,
    inventory: str | None = None,
) -> PlaybookRun:
    """Run ``ansible/playbooks/<playbook>`` with ansible-runner; never raises for a failed play."""
    import ansible_runner

    if not (VENV_BIN / "ansible-playbook").exists():
        raise OperationFailed(
            f"ansible: {VENV_BIN / 'ansible-playbook'} is missing; "
            "run `bash scripts/setup.sh` to install the venv."
        )
    run = PlaybookRun(playbook=playbook, rc=-1, seconds=0.0)
    events = _EventTally(run, on_role_start, on_role_end)

    # A fresh private data dir per run: ansible-runner persists extravars in it (env/extravars),
    # and a later run must not inherit an earlier run's overrides.
    private_dir = Path(tempfile.mkdtemp(prefix="run-", dir=state_dir("ansible-runner")))
    env = {
        "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
    }
    started = time.monotonic()
    try:
        result = ansible_runner.run(
            private_data_dir=str(private_dir),
            artifact_dir=str(state_dir("ansible-runner", "artifacts")),
            project_dir=str(ANSIBLE_DIR),
            playbook=f"playbooks/{playbook}",
            inventory=inventory or str(ANSIBLE_DIR / "inventories" / "local"),
            envvars=env,
            extravars=extravars or {},
            event_handler=events.handle,
            quiet=True,
            rotate_artifacts=10,
        )
    finally:
        shutil.rmtree(private_dir, ignore_errors=True)
    events.finish()
    run.seconds = time.monotonic() - started
    run.rc = int(result.rc if result.rc is not None else -1)
    if run.rc != 0:
        try:
            run.stdout_tail = "\n".join(result.stdout.read().splitlines()[-15:])
        except (OSError, AttributeError):
            run.stdout_tail = ""
    return run
