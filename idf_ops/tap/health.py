"""Health check of the TAP service: a real ADQL query through the balancer and on every DaCHS instance.

DaCHS answers HTTP 200 with ``QUERY_STATUS`` = ERROR for a failed query, and ``dachs serve start``
exits 0 even when PostgreSQL is down (then every query fails with 500): only a query whose VOTable
says OK counts as healthy.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import requests

from idf_ops.local.health import ServiceHealth, health_check
from idf_ops.local.settings import TAP_URL

__all__ = ["HEALTH_QUERY", "INSTANCE_CONFIG_DIR", "adql_ok", "check_tap", "instance_urls"]

HEALTH_QUERY = 'SELECT TOP 1 "objectId", ra, dec FROM dp01_dc2_catalogs.object'
INSTANCE_CONFIG_DIR = Path("/etc/idf/dachs")
_OK = 'name="QUERY_STATUS" value="OK"'


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
    started = time.perf_counter()
    try:
        answer = requests.post(
            f"{tap_url}/sync", data={"LANG": "ADQL", "REQUEST": "doQuery", "QUERY": query}, timeout=timeout_s
        )
    except requests.RequestException as exc:
        return False, f"{tap_url}: no answer ({type(exc).__name__})"
    elapsed_ms = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        return False, f"{tap_url}: HTTP {answer.status_code} (is PostgreSQL up?)"
    if _OK not in answer.text:
        return False, f"{tap_url}: QUERY_STATUS is not OK for {query!r}"
    return True, f"{tap_url}: ADQL answered in {elapsed_ms:.0f} ms"


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
