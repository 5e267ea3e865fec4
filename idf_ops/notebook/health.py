"""Health check of the notebook hub: the JupyterHub API answers an authenticated request."""

from __future__ import annotations

from idf_clients.probes import probe_hub
from idf_ops.local.health import ServiceHealth, health_check
from idf_ops.local.settings import HUB_URL
from idf_ops.notebook.hub import read_admin_token

__all__ = ["check_notebook"]


@health_check("notebook")
def check_notebook() -> ServiceHealth:
    """GET /hub/api/users with the admin service token, through the proxy on port 8000."""
    probe = probe_hub(HUB_URL, read_admin_token())
    detail = f"STAND-IN for Nublado: {probe.detail}" if probe.ok else probe.detail
    return ServiceHealth("notebook", probe.ok, probe.endpoint, detail)
