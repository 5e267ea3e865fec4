"""Issue 16, TAP findings 5, 7 and 13 (job isolation): the balancer's request gate (tapgate.js).

- finding 5: EXECUTIONDURATION is capped; DELETE of an executing job stops its taprun worker and
  cancels its PostgreSQL query (DaCHS' DELETE alone left both running and freed the job's slot);
- finding 7: UPLOAD takes inline tables only: a URL is refused before DaCHS would fetch it;
- finding 13: the async job list (every anonymous job, to everybody) is not served.
Needs `idf local up` (marker ``local_stack``).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import pyvo
import requests
import yaml
from astropy.table import Table
from local.helpers import psql_as_postgres

from idf_ops.local.settings import TAP_URL

pytestmark = pytest.mark.local_stack

DEFAULTS = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "ansible/roles/tap/defaults/main.yml").read_text()
)
# A join of 10^5 x 10^5 rows: minutes of PostgreSQL work, long enough to be caught executing.
SLOW_QUERY = (
    "SELECT COUNT(*) AS n FROM dp01_dc2_catalogs.forced_photometry AS a "
    "JOIN dp01_dc2_catalogs.forced_photometry AS b ON a.coord_ra < b.coord_ra"
)


def _query_backends() -> set[str]:
    """PostgreSQL backends running a TAP query (DaCHS' untrusted role; the result is read by FETCH)."""
    listed = psql_as_postgres(
        "SELECT pid FROM pg_stat_activity WHERE usename = 'untrusted' AND state = 'active' "
        "AND pid <> pg_backend_pid()",
        "gavo",
    )
    return set(listed.split())


def _workers(job_id: str) -> int:
    found = subprocess.run(["pgrep", "-f", f"taprun -- {job_id}"], capture_output=True, check=False)
    return len(found.stdout.split())


def _phase(job_url: str) -> str:
    return requests.get(f"{job_url}/phase", timeout=30).text.strip()


def test_delete_of_an_executing_job_stops_its_worker_and_query() -> None:
    before = _query_backends()
    created = requests.post(
        f"{TAP_URL}/async",
        data={"LANG": "ADQL", "QUERY": SLOW_QUERY},
        allow_redirects=False,
        timeout=30,
    )
    job_url = created.headers["Location"]
    job_id = job_url.rstrip("/").rsplit("/", 1)[-1]
    requests.post(f"{job_url}/phase", data={"PHASE": "RUN"}, allow_redirects=False, timeout=30)
    deadline = time.monotonic() + 60
    while not (_query_backends() - before) and time.monotonic() < deadline:
        time.sleep(0.5)
    job_backends = _query_backends() - before
    assert job_backends and _workers(job_id) > 0, f"job {job_id} never started its query"
    deleted = requests.delete(job_url, allow_redirects=False, timeout=60)
    assert deleted.status_code in {200, 303}, deleted.text[:300]
    deadline = time.monotonic() + 20
    while (_workers(job_id) or job_backends & _query_backends()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _workers(job_id) == 0, f"taprun worker of {job_id} still runs after DELETE"
    assert not job_backends & _query_backends(), "the job's PostgreSQL query still runs after DELETE"


@pytest.mark.parametrize("seconds", ["2000000", "0", "-1", "soon"])
def test_execution_duration_outside_the_cap_is_refused(seconds: str) -> None:
    answer = requests.post(
        f"{TAP_URL}/async",
        data={
            "LANG": "ADQL",
            "QUERY": "SELECT TOP 1 ra FROM dp01_dc2_catalogs.object",
            "EXECUTIONDURATION": seconds,
        },
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 400 and b"EXECUTIONDURATION" in answer.content


def test_execution_duration_within_the_cap_is_accepted() -> None:
    answer = requests.post(
        f"{TAP_URL}/async",
        data={
            "LANG": "ADQL",
            "QUERY": "SELECT TOP 1 ra FROM dp01_dc2_catalogs.object",
            "EXECUTIONDURATION": str(DEFAULTS["tap_max_execution_duration_s"]),
        },
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 303
    requests.delete(answer.headers["Location"], timeout=60)


@pytest.mark.parametrize("uri", ["http://127.0.0.1:4040/x", "https://169.254.169.254/", "ftp://127.0.0.1/"])
def test_upload_by_url_is_refused_before_dachs_fetches_it(uri: str) -> None:
    answer = requests.post(
        f"{TAP_URL}/sync",
        data={"LANG": "ADQL", "QUERY": "SELECT * FROM TAP_UPLOAD.t", "UPLOAD": f"t,{uri}"},
        timeout=30,
    )
    assert answer.status_code == 400 and b"only inline tables" in answer.content
    assert b"mariadb" not in answer.content.lower()


def test_inline_upload_still_works() -> None:
    table = Table({"objectid": [18760500000000, 18760500000001]})
    result = pyvo.dal.TAPService(TAP_URL).run_sync(
        "SELECT o.objectId FROM dp01_dc2_catalogs.object AS o "
        "JOIN TAP_UPLOAD.ids AS u ON u.objectid = o.objectId",
        uploads={"ids": table},
    )
    assert len(result) == 2


@pytest.mark.parametrize("path", ["/tap/async", "/__system__/tap/run/async"])
def test_the_job_list_is_not_served(path: str) -> None:
    answer = requests.get(f"{TAP_URL.removesuffix('/tap')}{path}", timeout=30)
    assert answer.status_code == 400 and b"uws:jobref" not in answer.content
