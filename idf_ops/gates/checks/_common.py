"""Small network and secret-path helpers the gate checks of several areas share."""

from __future__ import annotations

import os
import socket
import time
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING

from idf_core.facts import DB_AUTH_READER_SECRET
from idf_ops.gates.checks.base import Budget, CheckFailedError

if TYPE_CHECKING:
    from idf_core.contract import StackOutputs

__all__ = ["db_auth_path", "host_port", "os_reason", "tcp_probe"]


def tcp_probe(host: str, port: int, budget: Budget) -> float:
    """Open and close a TCP connection; return the connect time in ms or raise CheckFailedError."""
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=budget.remaining()):
            pass
    except OSError as exc:
        raise CheckFailedError(f"{host}:{port} not reachable ({os_reason(exc)})") from exc
    return (time.monotonic() - started) * 1000


def os_reason(exc: BaseException) -> str:
    """A short reason for a network error (timed out, connection refused, ...)."""
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return str(exc) or type(exc).__name__


def host_port(url: str) -> tuple[str, int]:
    """Host and port of a URL (the scheme's default port when it names none)."""
    parsed = urllib.parse.urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return parsed.hostname or "", port


def db_auth_path(outputs: StackOutputs) -> Path | None:
    """The users' Butler credentials (LSST_DB_AUTH) in the stack's secrets directory, if any: the
    reader-only file, so that the gates see what a user sees (never the builder's writer entry)."""
    if os.environ.get("LSST_DB_AUTH"):
        return Path(os.environ["LSST_DB_AUTH"])
    if outputs.secrets_dir and (Path(outputs.secrets_dir) / DB_AUTH_READER_SECRET).is_file():
        return Path(outputs.secrets_dir) / DB_AUTH_READER_SECRET
    return None
