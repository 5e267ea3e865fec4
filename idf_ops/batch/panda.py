"""`idf batch submit --wms panda --stack <stack>`: the ctrl_bps_panda submission for the IDF
PanDA server (issue 13 item 5).

The submission is the batch environment's own PanDA site config (batch/bps/idf-panda.yaml, the
plugin's wheel ships none) plus the stack's ``idf:panda`` section: queue and compute site, iDDS
server, and the PanDA client's environment (server, cache and monitor URLs, OIDC with the VO).
No secret is involved: each person authenticates with their own OIDC token (runbooks/batch.md).

Offline, :func:`prepare` runs BPS's prepare stage in the batch environment with the server
addresses pointed at 127.0.0.1:9 (`pandaclient` resolves its server when imported; nothing
listens there) and returns the iDDS workflow it built: tasks, queues, dependency counts.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from idf_clients.batch import BatchClient
from idf_core.errors import BadInput, OperationFailed
from idf_core.facts import BATCH_ENVIRONMENT
from infra.config import StackConfig, load_stack_file, resolve_stack_file
from infra.config.models import PandaConfig

__all__ = [
    "OFFLINE_PANDA_ENV",
    "PANDA_BASE_CONFIG",
    "panda_config",
    "panda_environment",
    "prepare",
    "submission",
]

PANDA_BASE_CONFIG = f"{BATCH_ENVIRONMENT.share}/bps/idf-panda.yaml"
# An address nothing listens on: what the PanDA client resolves at import when preparing offline.
_NOWHERE = "https://127.0.0.1:9/server/panda"
OFFLINE_PANDA_ENV = {
    "PANDA_BEHIND_REAL_LB": "1",
    "PANDA_URL": "http://127.0.0.1:9/server/panda",
    "PANDA_URL_SSL": _NOWHERE,
    "PANDACACHE_URL": _NOWHERE,
    "PANDAMON_URL": "https://127.0.0.1:9/",
}
_LABEL = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def panda_config(stack: str) -> tuple[StackConfig, PandaConfig]:
    """The stack's config and its ``idf:panda`` section, or a one-line error saying what to add."""
    cfg = load_stack_file(resolve_stack_file(stack))
    if cfg.panda is None:
        raise BadInput(
            f"{cfg.source}: idf:panda is not set; add the PanDA server, queue and OIDC VO "
            "(see stacks/Pulumi.dp02.yaml and runbooks/batch.md)"
        )
    return cfg, cfg.panda


def panda_environment(panda: PandaConfig) -> dict[str, str]:
    """The PanDA client's environment for a real submission (no token: `panda_auth` gets one)."""
    return {
        "PANDA_URL_SSL": panda.server_url,
        "PANDA_URL": panda.server_url,
        "PANDACACHE_URL": panda.cache_url,
        "PANDAMON_URL": panda.monitor_url,
        "PANDA_AUTH": panda.auth,
        "PANDA_AUTH_VO": panda.auth_vo,
        "PANDA_VERIFY_HOST": "on",
        "PANDA_BEHIND_REAL_LB": "1",
    }


def submission(panda: PandaConfig, *, label: str, stack: str) -> dict[str, Any]:
    """The BPS submit config of one run on the stack's PanDA queue."""
    if not _LABEL.match(label):
        raise BadInput(f"--label {label!r}: use 1-40 characters [a-z0-9-], starting with a letter or digit")
    return {
        "includeConfigs": [PANDA_BASE_CONFIG],
        "computeSite": panda.queue,
        "queue": panda.queue,
        "iddsServer": panda.idds_server,
        "payload": {"output": f"u/idf/{stack}-{label}"},
        "submitPath": f"{BATCH_ENVIRONMENT.data}/submit/panda-{label}/{{outputRun}}",
    }


def prepare(
    stack: str, *, label: str = "panda", client: BatchClient | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Write the submission and prepare it in the batch environment, offline: (submission, workflow)."""
    _cfg, panda = panda_config(stack)
    client = client or BatchClient()
    if not client.available():
        raise OperationFailed("the batch environment is not built; run `idf local up --only batch`")
    config = submission(panda, label=label, stack=stack)
    path = f"{BATCH_ENVIRONMENT.data}/configs/panda-{label}.yaml"
    client.write_file(path, yaml.safe_dump(config, sort_keys=False))
    env = [
        f"{k}={v}"
        for k, v in {**OFFLINE_PANDA_ENV, "PANDA_AUTH": panda.auth, "PANDA_AUTH_VO": panda.auth_vo}.items()
    ]
    out = client.run(
        ["env", *env, "python", "-m", "idf_batch_tasks.panda_prepare", path], cwd=BATCH_ENVIRONMENT.data
    )
    line = next((ln for ln in reversed(out.splitlines()) if ln.startswith("{")), None)
    if line is None:
        raise OperationFailed(f"panda_prepare printed no workflow:\n{out[-2000:]}")
    return config, json.loads(line)
