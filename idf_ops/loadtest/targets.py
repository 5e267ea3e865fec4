"""From a stack's outputs to the run configuration of a load test, and the reachability probe.

Targets come only from the stack outputs contract. Secrets are located, never copied: the run
configuration holds the path of the hub admin token and of the Qserv password, as
:mod:`idf_clients.secrets` finds them (under the stack's ``secrets_dir``, or given by
``$IDF_HUB_TOKEN_FILE`` / ``$IDF_QSERV_PASSWORD_FILE``).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Literal
from urllib.parse import urlsplit

from idf_clients.secrets import hub_token_file as hub_token_file_of
from idf_clients.secrets import qserv_password_file
from idf_core.contract import StackOutputs
from idf_core.errors import BadInput
from idf_core.facts import HUB_TOKEN_ENV, QSERV_READER_USER
from loadtests.profile import Profile
from loadtests.runconfig import QservTarget, RunConfig

__all__ = ["build_run_config", "check_reachable", "service_endpoints"]


def _tap_dialect(outputs: StackOutputs) -> Literal["rubin", "dachs"]:
    """The local stack serves TAP with DaCHS; cloud stacks with Rubin's TAP service."""
    stand_in = outputs.stand_ins.get("tap", "").lower()
    return "dachs" if outputs.kind == "local" or "dachs" in stand_in else "rubin"


def build_run_config(profile: Profile, outputs: StackOutputs, seed: int | None = None) -> RunConfig:
    """Resolve the profile's targets from the stack outputs."""
    hub_token_file = None
    if "hub" in profile.services():
        found = hub_token_file_of(outputs.secrets_dir)
        if found is None:
            raise BadInput(
                f"stack {outputs.stack}: no JupyterHub admin token found in secrets_dir "
                f"{outputs.secrets_dir!r}; set ${HUB_TOKEN_ENV} to the file holding it."
            )
        hub_token_file = str(found)
    qserv_user = os.environ.get("IDF_QSERV_USER", QSERV_READER_USER)
    password_file = qserv_password_file(outputs.secrets_dir, qserv_user)
    qserv = QservTarget(
        host=outputs.qserv.host,
        port=outputs.qserv.port,
        database=outputs.qserv.database,
        dialect=outputs.qserv.dialect,
        user=qserv_user,
        password_file=str(password_file) if password_file else None,
    )
    return RunConfig(
        stack=outputs.stack,
        profile=profile,
        tap_url=outputs.tap_url.rstrip("/"),
        tap_dialect=_tap_dialect(outputs),
        hub_url=outputs.hub_url.rstrip("/"),
        hub_token_file=hub_token_file,
        qserv=qserv,
        seed=seed,
    )


def service_endpoints(config: RunConfig) -> dict[str, tuple[str, int]]:
    """service -> (host, port) of the services the profile uses."""
    endpoints: dict[str, tuple[str, int]] = {}
    services = config.profile.services()
    for service, url in (("tap", config.tap_url), ("hub", config.hub_url)):
        if service in services:
            parts = urlsplit(url)
            default_port = 443 if parts.scheme == "https" else 80
            endpoints[service] = (parts.hostname or "", parts.port or default_port)
    if "qserv" in services:
        endpoints["qserv"] = (config.qserv.host, config.qserv.port)
    return endpoints


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_reachable(config: RunConfig, *, loopback_only: bool, timeout_s: float = 3.0) -> None:
    """BadInput unless every service the profile uses accepts a TCP connection (and is loopback if asked)."""
    for service, (host, port) in service_endpoints(config).items():
        if loopback_only and not _is_loopback(host):
            raise BadInput(
                f"stack {config.stack}: {service} target {host}:{port} is not on 127.0.0.1; local load tests "
                "only target loopback. Fix the stack outputs."
            )
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                pass
        except OSError as exc:
            raise BadInput(
                f"stack {config.stack}: {service} target {host}:{port} is unreachable ({exc}); "
                "start the service (`idf local up`) or fix the stack outputs."
            ) from exc
