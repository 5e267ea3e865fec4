"""The local stack's notebook hub: the JupyterHub client of :mod:`idf_clients.hub` and its admin token.

It is what proves the notebook aspect works end to end on the local stack: create a user, spawn
their JupyterLab server through the hub, run code in a kernel, then stop and clean up.
"""

from __future__ import annotations

from idf_clients.hub import HubClient
from idf_clients.secrets import read_hub_token
from idf_ops.local.settings import SECRETS_DIR

__all__ = ["HubClient", "read_admin_token"]


def read_admin_token() -> str:
    """The local hub's admin service token, or BadInput saying how to get one."""
    return read_hub_token(str(SECRETS_DIR))
