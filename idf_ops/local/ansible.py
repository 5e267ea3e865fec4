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

from idf_ops.errors import OperationFailed
from idf_ops.local.settings import ANSIBLE_DIR, VENV_BIN
from idf_ops.paths import state_dir

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
    current: dict[str, RoleStats | None] = {"stats": None}

    def role_of(data: dict[str, Any]) -> str:
        # Tasks outside roles (fact gathering, the playbooks' own tasks) count under "setup".
        return str(data.get("role") or "setup")

    def handle(event: dict[str, Any]) -> bool:
        data = event.get("event_data") or {}
        kind = event.get("event", "")
        now = time.monotonic()
        if kind == "playbook_on_task_start":
            role = role_of(data)
            stats = run.roles.setdefault(role, RoleStats(role=role, started_at=now))
            previous = current["stats"]
            if role != "setup" and (previous is None or previous.role != role):
                if previous is not None:
                    on_role_end(previous)
                current["stats"] = stats
                on_role_start(role)
            stats.ended_at = now
        elif kind.startswith("runner_on_") and kind != "runner_on_start":
            stats = run.roles.setdefault(role_of(data), RoleStats(role=role_of(data), started_at=now))
            stats.ended_at = now
            res = data.get("res") or {}
            if kind == "runner_on_ok":
                stats.ok += 1
                stats.changed += 1 if res.get("changed") else 0
            elif kind == "runner_on_skipped":
                stats.skipped += 1
            elif kind in ("runner_on_failed", "runner_on_unreachable") and not data.get("ignore_errors"):
                stats.failed += 1
                run.failures.append(
                    TaskFailure(role_of(data), str(data.get("task", "?")), _failure_message(res))
                )
        return True

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
            event_handler=handle,
            quiet=True,
            rotate_artifacts=10,
        )
    finally:
        shutil.rmtree(private_dir, ignore_errors=True)
    if current["stats"] is not None:
        on_role_end(current["stats"])
    run.seconds = time.monotonic() - started
    run.rc = int(result.rc if result.rc is not None else -1)
    if run.rc != 0:
        try:
            run.stdout_tail = "\n".join(result.stdout.read().splitlines()[-15:])
        except (OSError, AttributeError):
            run.stdout_tail = ""
    return run
