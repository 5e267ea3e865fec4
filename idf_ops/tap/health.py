"""Health check of the TAP service: a real ADQL query through the balancer and on every DaCHS instance.

DaCHS answers HTTP 200 with ``QUERY_STATUS`` = ERROR for a failed query, and ``dachs serve start``
exits 0 even when PostgreSQL is down (then every query fails with 500): only a query whose parsed
VOTable says OK counts as healthy (:func:`idf_clients.probes.probe_tap`).
"""

from __future__ import annotations

import re
from pathlib import Path

from idf_clients.probes import TAP_HEALTH_QUERY, probe_tap
from idf_ops.local.health import ServiceHealth, health_check
from idf_ops.local.settings import TAP_URL

__all__ = ["HEALTH_QUERY", "INSTANCE_CONFIG_DIR", "adql_ok", "check_tap", "instance_urls"]

HEALTH_QUERY = TAP_HEALTH_QUERY
INSTANCE_CONFIG_DIR = Path("/etc/idf/dachs")


def instance_urls(config_dir: Path = INSTANCE_CONFIG_DIR) -> list[str]:
    """TAP URLs of the DaCHS instances the `tap` role configured (one .rc file each)."""
    urls = []
    for rc in sorted(config_dir.glob("instance-*.rc")):
        match = re.search(r"^serverPort:\s*(\d+)", rc.read_text(), flags=re.MULTILINE)
        address = re.search(r"^bindAddress:\s*(\S+)", rc.read_text(), flags=re.MULTILINE)
        if match:
            urls.append(f"http://{address.group(1) if address else '127.0.0.1'}:{match.group(1)}/tap")
    return urls


def adql_ok(tap_url: str, query: str = HEALTH_QUERY, timeout_s: float = 10.0) -> tuple[bool, str]:
    """Run one sync ADQL query; (ok, what happened)."""
    probe = probe_tap(tap_url, query, timeout_s)
    return probe.ok, probe.detail


@health_check("tap")
def check_tap() -> ServiceHealth:
    """ADQL through the balancer, then on each instance."""
    ok, detail = adql_ok(TAP_URL)
    if not ok:
        return ServiceHealth("tap", False, TAP_URL, detail + "; run `idf local up`")
    instances = instance_urls()
    answering = [url for url in instances if adql_ok(url)[0]]
    if len(answering) != len(instances):
        down = sorted(set(instances) - set(answering))
        return ServiceHealth("tap", False, TAP_URL, f"DaCHS instances not answering: {', '.join(down)}")
    return ServiceHealth("tap", True, TAP_URL, f"{detail}; {len(answering)} DaCHS instance(s) answer ADQL")
