"""Issue 16, TAP findings 3 and 13 against the live local TAP (marker ``local_stack``).

- finding 3: a 2,000-term ORed predicate (~24 KB) is refused by the balancer before DaCHS parses it
  (the parse alone took 10-20 s), and no DaCHS instance restarts because of it;
- finding 13: the default MAXREC returns exactly the limit (flagged OVERFLOW), and the logs that hold
  users' ADQL (DaCHS' and the balancer's) cannot be read by other local users.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import requests
import yaml
from astropy.io.votable import parse

from idf_ops.local.settings import TAP_URL

pytestmark = pytest.mark.local_stack

DEFAULTS = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "ansible/roles/tap/defaults/main.yml").read_text()
)


def _instance_pids() -> set[str]:
    found = subprocess.run(["pgrep", "-f", "dachs serve"], capture_output=True, text=True, check=False)
    return set(found.stdout.split())


def test_a_huge_predicate_is_refused_quickly_without_any_restart() -> None:
    # 2,000 ORed terms are ~8,000 ADQL tokens (DaCHS' parser: 10-20 s): the gate answers a DALI
    # error at once, before DaCHS parses anything.
    query = "SELECT ra FROM dp01_dc2_catalogs.object WHERE " + " OR ".join(f"ra = {i}" for i in range(2000))  # noqa: S608 - ADQL text
    before = _instance_pids()
    started = time.monotonic()
    answer = requests.post(f"{TAP_URL}/sync", data={"LANG": "ADQL", "QUERY": query}, timeout=60)
    elapsed = time.monotonic() - started
    assert answer.status_code == 400, f"HTTP {answer.status_code} after {elapsed:.1f} s"
    assert b'value="ERROR"' in answer.content and b"tokens" in answer.content
    assert elapsed < 2, f"refused only after {elapsed:.1f} s"
    assert _instance_pids() == before


def test_a_body_above_the_request_limit_gets_413() -> None:
    query = "SELECT ra FROM dp01_dc2_catalogs.object WHERE ra = 1 -- " + "x" * 40_000
    answer = requests.post(f"{TAP_URL}/sync", data={"LANG": "ADQL", "QUERY": query}, timeout=60)
    assert answer.status_code == 413


def test_an_in_list_of_400_ids_still_passes() -> None:
    ids = ", ".join(str(18760500000000 + i) for i in range(400))
    query = f"SELECT objectId FROM dp01_dc2_catalogs.object WHERE objectId IN ({ids})"  # noqa: S608
    answer = requests.post(f"{TAP_URL}/sync", data={"LANG": "ADQL", "QUERY": query}, timeout=120)
    assert answer.status_code == 200 and b'value="OK"' in answer.content


def test_default_maxrec_returns_exactly_the_limit(tmp_path: Path) -> None:
    answer = requests.post(
        f"{TAP_URL}/sync",
        data={"LANG": "ADQL", "QUERY": "SELECT objectId FROM dp01_dc2_catalogs.object"},
        timeout=120,
    )
    (tmp_path / "answer.vot").write_bytes(answer.content)
    assert b'value="OVERFLOW"' in answer.content
    assert len(parse(tmp_path / "answer.vot").get_first_table().array) == DEFAULTS["tap_default_maxrec"]


@pytest.mark.parametrize(
    "directory", ["/var/gavo/logs", "/var/gavo/logs/instance-8091", "/var/log/idf-nginx-tap"]
)
def test_logs_with_users_adql_are_closed_to_other_users(directory: str) -> None:
    listing = subprocess.run(
        ["runuser", "-u", "nobody", "--", "ls", directory], capture_output=True, text=True, check=False
    )
    assert listing.returncode != 0, f"nobody can list {directory}: {listing.stdout[:200]}"
