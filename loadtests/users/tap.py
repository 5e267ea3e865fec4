"""TAP users (FastHttpUser): low-volume synchronous queries and high-volume async UWS jobs.

Every response is checked three ways: the HTTP status, the VOTable's QUERY_STATUS, and the row
count the template expects. Requests are named by query kind (``tap.lv.cone.object``, ...); a
UWS job is also reported as one ``UWS`` request named by its kind, timed from creation to the
fetched result, beside its steps (``tap.uws.create/run/poll/fetch/delete``).
"""

from __future__ import annotations

import time
from urllib.parse import urlencode, urljoin

import gevent
from gevent import GreenletExit
from locust import FastHttpUser, task
from locust.env import Environment

from loadtests.querysets import QueryTemplate, RenderedQuery, adapt_adql, render
from loadtests.users.bounds import IterationBudget, fire_request
from loadtests.users.shared import object_ids, query_set, rng_for, run_config
from loadtests.users.votable import check_votable

__all__ = ["TapHighVolumeUser", "TapLowVolumeUser", "judge_tap_response"]

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_FINAL_PHASES = {"COMPLETED", "ERROR", "ABORTED"}


def judge_tap_response(status_code: int, body: bytes, query: RenderedQuery) -> str | None:
    """None when a TAP result is right, else why it is not."""
    if status_code != 200:
        return f"HTTP {status_code}: {body[:200]!r}"
    try:
        verdict = check_votable(body)
    except ValueError as exc:
        return str(exc)
    if not verdict.ok:
        return f"QUERY_STATUS={verdict.status}: {verdict.message[:300]}"
    return query.check_rows(verdict.rows)


class _JobError(Exception):
    """A UWS job step went wrong."""


class _TapUser(FastHttpUser):
    abstract = True
    volume = "low_volume"
    network_timeout = 600.0
    connection_timeout = 10.0

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        config = run_config()
        self.queries = query_set("tap")
        self.templates: list[QueryTemplate] = getattr(self.queries, self.volume)
        self.weights = [t.weight for t in self.templates]
        self.budget = IterationBudget(environment, config.profile.max_iterations_per_user)
        self.rng = rng_for(type(self).__name__)

    def next_query(self) -> RenderedQuery | None:
        """Draw a query; None (and a failure) when it needs object ids that could not be sampled."""
        template = self.rng.choices(self.templates, weights=self.weights)[0]
        needs_ids = "{object_id" in template.text["adql"]
        ids = object_ids(self.environment, "tap") if needs_ids else []
        if needs_ids and not ids:
            fire_request(
                self.environment,
                "GET",
                template.kind,
                time.perf_counter(),
                exception=_JobError("no object ids: sampling from the TAP service failed"),
            )
            return None
        query = render(template, "adql", self.queries.area, ids, self.rng)
        return query.model_copy(update={"text": adapt_adql(query.text, run_config().tap_dialect)})


class TapLowVolumeUser(_TapUser):
    """Interactive TAP user: cones, id lookups, joins, near-neighbour pairs (synchronous)."""

    volume = "low_volume"

    @task
    def sync_query(self) -> None:
        """One synchronous query, checked."""
        self.budget.spend()
        query = self.next_query()
        if query is None:
            return
        form = {"REQUEST": "doQuery", "LANG": "ADQL", "FORMAT": "votable", "QUERY": query.text}
        with self.client.post(
            "/sync", data=urlencode(form), headers=_FORM, name=query.kind, catch_response=True
        ) as response:
            problem = judge_tap_response(response.status_code or 0, response.content or b"", query)
            if problem:
                response.failure(problem)
            else:
                response.success()


class TapHighVolumeUser(_TapUser):
    """Scanning TAP user: full-table aggregates and histograms as async UWS jobs."""

    volume = "high_volume"

    @task
    def async_query(self) -> None:
        """Create, run, poll (with backoff), fetch and delete one job; report it as one UWS request."""
        self.budget.spend()
        query = self.next_query()
        if query is None:
            return
        started_at = time.perf_counter()
        job_url = None
        try:
            job_url = self._create(query)
            self._run(job_url)
            phase = self._wait(job_url)
            if phase != "COMPLETED":
                raise _JobError(f"job ended in phase {phase}: {self._error_summary(job_url)}")
            length = self._fetch(job_url, query)
        except _JobError as exc:
            fire_request(self.environment, "UWS", query.kind, started_at, exception=exc)
        except GreenletExit:
            # The run ended (run time + stop timeout) with this job unfinished: that is a failure to
            # report, not a request to forget; then let Locust stop the user.
            unfinished = _JobError("run ended before the job finished")
            fire_request(self.environment, "UWS", query.kind, started_at, exception=unfinished)
            raise
        else:
            fire_request(self.environment, "UWS", query.kind, started_at, response_length=length)
        finally:
            if job_url:
                self._delete(job_url)

    def _create(self, query: RenderedQuery) -> str:
        form = {"REQUEST": "doQuery", "LANG": "ADQL", "FORMAT": "votable", "QUERY": query.text}
        with self.client.post(
            "/async",
            data=urlencode(form),
            headers=_FORM,
            name="tap.uws.create",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            location = response.headers.get("location") if response.headers else None
            if response.status_code not in (200, 201, 303) or not location:
                response.failure(f"HTTP {response.status_code} without a job Location")
                raise _JobError(f"job creation answered HTTP {response.status_code}")
            response.success()
        return urljoin(run_config().tap_url.rstrip("/") + "/async/", location)

    def _run(self, job_url: str) -> None:
        with self.client.post(
            f"{job_url}/phase",
            data=urlencode({"PHASE": "RUN"}),
            headers=_FORM,
            name="tap.uws.run",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code not in (200, 303):
                response.failure(f"HTTP {response.status_code}")
                raise _JobError(f"PHASE=RUN answered HTTP {response.status_code}")
            response.success()

    def _wait(self, job_url: str) -> str:
        deadline = time.monotonic() + run_config().profile.tap_job_timeout_s
        delay_s = 0.25
        while True:
            with self.client.get(f"{job_url}/phase", name="tap.uws.poll", catch_response=True) as response:
                if response.status_code != 200:
                    response.failure(f"HTTP {response.status_code}")
                    raise _JobError(f"phase poll answered HTTP {response.status_code}")
                phase = (response.text or "").strip().upper()
                response.success()
            if phase in _FINAL_PHASES:
                return phase
            if time.monotonic() > deadline:
                self.client.post(
                    f"{job_url}/phase",
                    data=urlencode({"PHASE": "ABORT"}),
                    headers=_FORM,
                    name="tap.uws.abort",
                    allow_redirects=False,
                )
                raise _JobError(f"job still {phase} after {run_config().profile.tap_job_timeout_s:.0f} s")
            gevent.sleep(delay_s)
            delay_s = min(delay_s * 1.6, 5.0)

    def _error_summary(self, job_url: str) -> str:
        response = self.client.get(f"{job_url}/error", name="tap.uws.error")
        body = response.content or b""
        try:
            verdict = check_votable(body)
        except ValueError:
            return body[:300].decode(errors="replace")
        return f"{verdict.status}: {verdict.message[:300]}"

    def _fetch(self, job_url: str, query: RenderedQuery) -> int:
        with self.client.get(
            f"{job_url}/results/result", name="tap.uws.fetch", catch_response=True
        ) as response:
            body = response.content or b""
            problem = judge_tap_response(response.status_code or 0, body, query)
            if problem:
                response.failure(problem)
                raise _JobError(problem)
            response.success()
        return len(body)

    def _delete(self, job_url: str) -> None:
        with self.client.delete(
            job_url, name="tap.uws.delete", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code in (200, 204, 303):
                response.success()
            else:
                response.failure(f"HTTP {response.status_code}")
