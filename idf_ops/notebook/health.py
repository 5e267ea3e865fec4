"""Health check of the notebook hub: the JupyterHub API answers an authenticated request."""

from __future__ import annotations

import time

from idf_ops.local.health import ServiceHealth, health_check
from idf_ops.local.settings import HUB_URL
from idf_ops.notebook.hub import HubClient, read_admin_token

__all__ = ["check_notebook"]


@health_check("notebook")
def check_notebook() -> ServiceHealth:
    """GET /hub/api/users with the admin service token, through the proxy on port 8000."""
    endpoint = f"{HUB_URL}/hub/api"
    started = time.perf_counter()
    client = HubClient(HUB_URL, read_admin_token(), timeout_s=5)
    version = client.version()
    answer = client._api("GET", "/users")
    elapsed_ms = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        return ServiceHealth(
            "notebook", False, endpoint, f"hub API refused the admin token: HTTP {answer.status_code}"
        )
    return ServiceHealth(
        "notebook",
        True,
        endpoint,
        f"STAND-IN for Nublado: JupyterHub {version} API answered in {elapsed_ms:.0f} ms, "
        f"{len(answer.json())} users",
    )
