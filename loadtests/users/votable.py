"""Checking TAP responses: HTTP status, the VOTable's QUERY_STATUS and the row count.

A TAP server may answer HTTP 200 with ``QUERY_STATUS=ERROR`` in the VOTable (DaCHS does for bad
ADQL), so a status code alone proves nothing. Parsing uses astropy.io.votable (what pyvo uses).
"""

from __future__ import annotations

import io
import warnings

from astropy.io.votable import parse
from astropy.io.votable.exceptions import VOWarning

__all__ = ["VOTableVerdict", "check_votable"]


class VOTableVerdict:
    """What a TAP result document says: its status, message and row count."""

    def __init__(self, status: str, message: str, rows: int) -> None:
        self.status = status
        self.message = message
        self.rows = rows

    @property
    def ok(self) -> bool:
        """OK, or OVERFLOW (the row limit was hit but the rows are valid)."""
        return self.status in {"OK", "OVERFLOW"}


def check_votable(body: bytes) -> VOTableVerdict:
    """Parse a TAP result VOTable; raise ValueError when it is not one."""
    if not body:
        raise ValueError("empty response body, expected a VOTable")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VOWarning)
        try:
            document = parse(io.BytesIO(body), verify="ignore")
        except Exception as exc:  # astropy raises many types for non-VOTable input
            raise ValueError(f"not a VOTable ({type(exc).__name__}: {exc})") from exc
    status, message = "", ""
    rows = 0
    for resource in document.resources:
        for info in resource.infos:
            if info.name == "QUERY_STATUS":
                # The last QUERY_STATUS wins: OVERFLOW is written after the table, OK before.
                status, message = str(info.value), str(info.content or "")
        for table in resource.tables:
            rows += len(table.array)
    if not status:
        for info in document.infos:
            if info.name == "QUERY_STATUS":
                status, message = str(info.value), str(info.content or "")
    if not status:
        raise ValueError("VOTable without a QUERY_STATUS INFO element")
    return VOTableVerdict(status, message, rows)
