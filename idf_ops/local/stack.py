"""Bring the local stack up, down, or reset; publish its outputs (the stack outputs contract).

``up`` runs ``ansible/playbooks/site.yml``; ``down`` runs ``down.yml`` (each role's
``tasks/stop.yml``, reverse order); ``reset`` runs ``reset.yml`` (each role's ``tasks/reset.yml``,
which deletes its data) and then ``down.yml``. A failed run raises :class:`OperationFailed` naming
the role, the task and the role's own message (which says what to do).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from idf_core.contract import ButlerEndpoint, QservEndpoint, StackOutputs, outputs_path, write_outputs
from idf_core.errors import BadInput, OperationFailed
from idf_ops.local.ansible import PlaybookRun, RoleStats, run_playbook
from idf_ops.local.settings import (
    BUTLER_DATABASE,
    BUTLER_READONLY_CONFIG,
    BUTLER_REPO,
    HUB_URL,
    LOAD_MANIFEST,
    LOOPBACK,
    PG_PORT,
    QSERV_PORT,
    SECRETS_DIR,
    SERVICE_ORDER,
    TAP_URL,
)

__all__ = ["ENDPOINTS", "local_outputs", "require_root", "run_down", "run_reset", "run_up"]

#: (service, endpoint, note) rows of the table `idf local up` ends with.
ENDPOINTS: tuple[tuple[str, str, str], ...] = (
    ("PostgreSQL 15 (pg_sphere, q3c)", f"postgresql://{LOOPBACK}:{PG_PORT}", "databases gavo, dp01_butler"),
    ("TAP (GAVO DaCHS)", TAP_URL, "dp01_dc2_catalogs, sync and async"),
    ("Qserv front end", f"mysql://{LOOPBACK}:{QSERV_PORT}/dp01_dc2_catalogs", "stand-in: MariaDB"),
    (
        "Butler (read-only)",
        str(BUTLER_READONLY_CONFIG),
        f"collection 2.2i/runs/DP0.1; LSST_DB_AUTH={SECRETS_DIR}/db-auth-reader.yaml",
    ),
    ("Notebooks (JupyterHub)", HUB_URL, "stand-in for Nublado: local process spawner"),
    ("Load manifest", str(LOAD_MANIFEST), "row counts and key checksums per table"),
)


def local_outputs() -> StackOutputs:
    """The local stack's outputs document."""
    return StackOutputs(
        stack="local",
        kind="local",
        tap_url=TAP_URL,
        hub_url=HUB_URL,
        qserv=QservEndpoint(host=LOOPBACK, port=QSERV_PORT, dialect="mariadb-standin", expected_workers=1),
        butler=ButlerEndpoint(
            repo_uri=str(BUTLER_REPO),
            readonly_config=str(BUTLER_READONLY_CONFIG),
            registry_host=LOOPBACK,
            registry_port=PG_PORT,
            registry_database=BUTLER_DATABASE,
        ),
        catalog_load_manifest=str(LOAD_MANIFEST),
        secrets_dir=str(SECRETS_DIR),
        stand_ins={
            "qserv": "MariaDB (local stand-in for Qserv's front end)",
            "nublado": "JupyterHub with a local process spawner",
        },
    )


def require_root(command: str) -> None:
    """The roles install Debian packages and manage system services: root only."""
    if os.geteuid() != 0:
        raise OperationFailed(
            f"`idf local {command}` must run as root (it installs packages and starts services)."
        )


def _raise_for(run: PlaybookRun, what: str) -> None:
    if run.rc == 0:
        return
    if run.failures:
        lines = [f"{f.role}: task '{f.task}' failed: {f.message}" for f in run.failures[:3]]
        detail = "\n  ".join(lines)
    else:
        detail = run.stdout_tail or "ansible-playbook failed before running any task"
    raise OperationFailed(
        f"{what} failed (ansible-playbook exit {run.rc}):\n  {detail}\n"
        "  full log: var/ansible-runner/artifacts/"
    )


def run_up(
    on_role_start: Callable[[str], None],
    on_role_end: Callable[[RoleStats], None],
    extravars: dict[str, Any] | None = None,
    only: str | None = None,
) -> PlaybookRun:
    """Configure and start every service (or ``only`` one) and write ``var/stacks/local/outputs.json``.

    The outputs are written after a full run only: one service alone does not make a stack.
    """
    require_root("up")
    if only is not None and only not in SERVICE_ORDER:
        raise BadInput(
            f"--only {only}: not a service of the local stack; choose one of {', '.join(SERVICE_ORDER)}."
        )
    run = run_playbook(f"{only}.yml" if only else "site.yml", on_role_start, on_role_end, extravars=extravars)
    _raise_for(run, f"idf local up{' --only ' + only if only else ''}")
    if only is None:
        write_outputs(local_outputs())
    return run


def run_down(on_role_start: Callable[[str], None], on_role_end: Callable[[RoleStats], None]) -> PlaybookRun:
    """Stop every service (data stays)."""
    require_root("down")
    run = run_playbook("down.yml", on_role_start, on_role_end)
    _raise_for(run, "idf local down")
    return run


def run_reset(on_role_start: Callable[[str], None], on_role_end: Callable[[RoleStats], None]) -> PlaybookRun:
    """Delete every service's data, stop the services, and forget the outputs."""
    require_root("reset")
    run = run_playbook("reset.yml", on_role_start, on_role_end)
    _raise_for(run, "idf local reset")
    outputs_path("local").unlink(missing_ok=True)
    return run
