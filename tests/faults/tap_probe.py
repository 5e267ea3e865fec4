"""A minimal synchronous TAP caller for fault tests: one request, a classified answer.

pyvo raises on the first error and hides the HTTP status; fault tests need both the status and
the VOTable's QUERY_STATUS (DaCHS answers bad ADQL with HTTP 200 and QUERY_STATUS=ERROR), so
this posts the TAP parameters with requests and parses the body with astropy's VOTable reader.
"""

from __future__ import annotations

import io
import time
import warnings
from dataclasses import dataclass

import requests
from astropy.io import votable

__all__ = ["GOOD_QUERY", "TapAnswer", "tap_sync", "wait_until_good"]

GOOD_QUERY = "SELECT TOP 3 ra, dec FROM dp01_dc2_catalogs.object"


@dataclass(frozen=True)
class TapAnswer:
    """What a TAP sync request returned."""

    http_status: int  # 0 when the connection itself failed
    query_status: str  # OK, OVERFLOW, ERROR, or "" when the body is not a VOTable
    rows: int
    message: str
    first_cell: object = None

    @property
    def ok(self) -> bool:
        return self.http_status == 200 and self.query_status in {"OK", "OVERFLOW"}

    @property
    def is_error(self) -> bool:
        """An explicit error answer: HTTP 4xx/5xx or QUERY_STATUS=ERROR."""
        return self.http_status >= 400 or self.query_status == "ERROR"


def tap_sync(tap_url: str, params: dict[str, str], timeout_s: float = 60.0) -> TapAnswer:
    """POST one sync request to ``<tap_url>/sync`` and classify the answer."""
    try:
        response = requests.post(f"{tap_url}/sync", data=params, timeout=timeout_s)
    except requests.RequestException as exc:
        return TapAnswer(0, "", 0, f"{type(exc).__name__}: {exc}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table_file = votable.parse(io.BytesIO(response.content), verify="ignore")
    except Exception as exc:  # noqa: BLE001 -- any unparseable body is "not a VOTable"
        return TapAnswer(response.status_code, "", 0, f"not a VOTable ({exc}): {response.text[:200]}")
    status, message = "", ""
    for info in list(table_file.infos) + [i for r in table_file.resources for i in r.infos]:
        if info.name == "QUERY_STATUS":
            status, message = str(info.value), str(info.content or "")
    rows, first_cell = 0, None
    tables = list(table_file.iter_tables())
    if tables:
        rows = len(tables[0].array)
        cell = tables[0].array[0][0] if rows else None
        first_cell = cell.item() if hasattr(cell, "item") else cell
    return TapAnswer(response.status_code, status, rows, message, first_cell)


def wait_until_good(tap_url: str, timeout_s: float, consecutive: int = 4) -> float:
    """Poll the good query until ``consecutive`` answers in a row succeed (the balancer spreads
    requests over several DaCHS instances: one good answer does not mean all are well); return the
    seconds waited, or raise AssertionError if that never happens within ``timeout_s``."""
    start = time.monotonic()
    last, streak = None, 0
    while time.monotonic() - start < timeout_s:
        last = tap_sync(tap_url, {"REQUEST": "doQuery", "LANG": "ADQL", "QUERY": GOOD_QUERY}, timeout_s=10)
        streak = streak + 1 if last.ok and last.rows > 0 else 0
        if streak >= consecutive:
            return time.monotonic() - start
        time.sleep(0.25)
    raise AssertionError(
        f"TAP did not answer {consecutive} good queries in a row within {timeout_s:.0f} s; last answer {last}"
    )
