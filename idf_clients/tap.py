"""TAP (IVOA Table Access Protocol) through pyvo: sync queries and async jobs, status from the VOTable.

A TAP server may answer HTTP 200 with ``QUERY_STATUS`` = ERROR (DaCHS does for bad ADQL), and a
server that fails while streaming writes an ERROR ``INFO`` *after* a partial table. pyvo parses the
document and raises on the first status it finds; :func:`query_status` reads every ``QUERY_STATUS``
of the parsed document so that a trailing ERROR is not hidden by the OK written before the table.
"""

from __future__ import annotations

import contextlib
import io
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyvo
import requests
from astropy.io.votable import parse
from astropy.io.votable.exceptions import VOWarning
from astropy.io.votable.tree import VOTableFile
from pyvo.dal.exceptions import DALFormatError, DALQueryError, DALServiceError

from idf_core.errors import OperationFailed

__all__ = [
    "GOOD_STATUSES",
    "TapAnswer",
    "TapClient",
    "TapQueryError",
    "TapUnavailable",
    "body_status",
    "query_status",
    "query_statuses",
]

# Statuses of a good answer: OVERFLOW means the row limit was hit, the rows are still valid.
GOOD_STATUSES = frozenset({"OK", "OVERFLOW"})


class TapUnavailable(OperationFailed):
    """No TAP answer at all: refused, timed out, or an HTTP error status."""


class TapQueryError(OperationFailed):
    """The service answered, but its VOTable says the query failed (or is not a result)."""


@dataclass(frozen=True)
class TapAnswer:
    """A good answer: the final status, the rows and how long the query took."""

    status: str
    rows: int
    elapsed_ms: float
    table: Any  # astropy.table.Table of the results


def _infos(document: VOTableFile) -> Iterator[Any]:
    """Every INFO of the document in document order (root, resources and nested ones, tables)."""
    yield from document.infos

    def walk(resource: Any) -> Iterator[Any]:
        yield from resource.infos
        for table in resource.tables:
            yield from table.infos
        for child in resource.resources:
            yield from walk(child)

    for resource in document.resources:
        yield from walk(resource)


def query_statuses(document: VOTableFile) -> list[tuple[str, str]]:
    """Every (status, message) of the document's ``QUERY_STATUS`` INFOs, in document order."""
    return [
        (str(i.value).upper(), str(i.content or "")) for i in _infos(document) if i.name == "QUERY_STATUS"
    ]


def query_status(document: VOTableFile) -> tuple[str, str]:
    """(status, message) of a parsed TAP result: an ERROR anywhere wins, else the last status
    (OVERFLOW is written after the table, OK before it)."""
    statuses = query_statuses(document)
    if not statuses:
        return "OK", "QUERY_STATUS not specified"
    errors = [s for s in statuses if s[0] not in GOOD_STATUSES]
    return errors[-1] if errors else statuses[-1]


def body_status(body: bytes) -> tuple[str, str]:
    """(status, message) of a TAP answer's raw body, parsed (see :func:`query_status`);
    TapQueryError when the body is not a VOTable."""
    if not body:
        raise TapQueryError("empty answer, expected a VOTable")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VOWarning)
        try:
            document = parse(io.BytesIO(body), verify="ignore")
        except Exception as exc:  # astropy raises many types for a body that is not a VOTable
            raise TapQueryError(f"not a VOTable ({type(exc).__name__}: {exc})") from exc
    return query_status(document)


class _TimeoutSession(requests.Session):
    """A session whose requests time out (pyvo passes none)."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self.timeout_s = timeout_s

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout_s)
        return super().request(*args, **kwargs)


class TapClient:
    """The TAP service at ``url`` (``…/tap``)."""

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self._service = pyvo.dal.TAPService(self.url, session=_TimeoutSession(timeout_s))

    def _check(self, result: Any, started: float) -> TapAnswer:
        status, message = query_status(result.votable)
        if status not in GOOD_STATUSES:
            raise TapQueryError(f"{self.url}: QUERY_STATUS={status}: {message.strip()[:300]}")
        table = result.to_table()
        return TapAnswer(status, len(table), (time.perf_counter() - started) * 1000, table)

    def _failed(self, exc: Exception) -> OperationFailed:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, requests.RequestException) and getattr(cause, "response", None) is None:
            return TapUnavailable(f"{self.url}: no answer ({type(cause).__name__})")
        if isinstance(exc, DALQueryError):
            return TapQueryError(f"{self.url}: QUERY_STATUS={exc.label or 'ERROR'}: {str(exc).strip()[:300]}")
        if isinstance(exc, DALFormatError):
            return TapQueryError(f"{self.url}: not a TAP result ({exc})")
        code = getattr(exc, "code", None)
        if code:
            return TapUnavailable(f"{self.url}: HTTP {code} (is PostgreSQL up?)")
        return TapUnavailable(f"{self.url}: no answer ({type(cause or exc).__name__})")

    def get(self, path: str, timeout_s: float | None = None) -> requests.Response:
        """GET ``<url>/<path>`` (e.g. a VOSI ``availability``) and return the answer, any HTTP status.

        TapUnavailable, raised from the requests error, when there is no answer within ``timeout_s``
        (the client's timeout unless given).
        """
        url = f"{self.url}/{path.lstrip('/')}"
        try:
            return requests.get(url, timeout=self.timeout_s if timeout_s is None else timeout_s)
        except requests.RequestException as exc:
            raise TapUnavailable(f"{url}: no answer ({type(exc).__name__})") from exc

    def query(self, adql: str, maxrec: int | None = None) -> TapAnswer:
        """Run ``adql`` synchronously; TapQueryError or TapUnavailable when it did not succeed."""
        started = time.perf_counter()
        try:
            result = self._service.run_sync(adql, maxrec=maxrec)
        except (DALServiceError, DALQueryError, DALFormatError) as exc:
            raise self._failed(exc) from exc
        return self._check(result, started)

    def query_async(self, adql: str, timeout_s: float = 120.0, maxrec: int | None = None) -> TapAnswer:
        """Submit ``adql`` as an async (UWS) job, wait for it, fetch the result and delete the job."""
        started = time.perf_counter()
        try:
            job = self._service.submit_job(adql, maxrec=maxrec)
        except (DALServiceError, DALQueryError, DALFormatError) as exc:
            raise self._failed(exc) from exc
        try:
            job.run()
            job.wait(phases={"COMPLETED", "ERROR", "ABORTED"}, timeout=timeout_s)
            if job.phase != "COMPLETED":
                raise TapQueryError(f"{self.url}: async job {job.job_id} ended {job.phase}")
            result = job.fetch_result()
        except (DALServiceError, DALQueryError, DALFormatError) as exc:
            raise self._failed(exc) from exc
        finally:
            # The job expires on its own: a failed cleanup is not the query's failure.
            with contextlib.suppress(DALServiceError):
                job.delete()
        return self._check(result, started)
