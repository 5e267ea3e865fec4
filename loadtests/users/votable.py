"""Checking TAP responses: HTTP status, the VOTable's QUERY_STATUS and the row count.

A TAP server may answer HTTP 200 with ``QUERY_STATUS=ERROR`` in the VOTable (DaCHS does for bad
ADQL), so a status code alone proves nothing. Parsing uses astropy.io.votable (what pyvo uses); the
status is read by :func:`idf_clients.tap.query_status` (an ERROR after a partial table wins).
"""

from __future__ import annotations

import io
import warnings

from astropy.io.votable import parse
from astropy.io.votable.exceptions import VOWarning

from idf_clients.tap import query_status, query_statuses

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
    if not query_statuses(document):
        raise ValueError("VOTable without a QUERY_STATUS INFO element")
    status, message = query_status(document)
    rows = sum(len(table.array) for resource in document.resources for table in resource.tables)
    return VOTableVerdict(status, message, rows)
