"""Qserv users over the MySQL protocol (pymysql): point lookups, boxes and cones (LV), full scans (HV).

The query text follows the stack's dialect: ``qserv`` (scisql UDFs, qserv_areaspec_box) for the
real Qserv, ``mariadb-standin`` (BETWEEN boxes, great-circle formula) for the local stand-in.
Each query is reported to Locust as a ``SQL`` request named by its kind, and fails when the
server errs or the row count is wrong.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

from locust import User, task
from locust.env import Environment

from loadtests.querysets import QueryTemplate, render
from loadtests.users.bounds import IterationBudget, fire_request
from loadtests.users.shared import object_ids, qserv_connect, query_set, rng_for, run_config

if TYPE_CHECKING:
    import pymysql.connections

__all__ = ["QservHighVolumeUser", "QservLowVolumeUser"]


class _QueryError(Exception):
    """The query ran but its answer is wrong."""


class _QservUser(User):
    abstract = True
    volume = "low_volume"

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        config = run_config()
        self.dialect = config.qserv.dialect
        self.queries = query_set("qserv")
        self.templates: list[QueryTemplate] = getattr(self.queries, self.volume)
        self.weights = [t.weight for t in self.templates]
        self.budget = IterationBudget(environment, config.profile.max_iterations_per_user)
        self.rng = rng_for(type(self).__name__)
        self.connection: pymysql.connections.Connection | None = None

    def on_stop(self) -> None:
        """Close the connection."""
        self._drop_connection()

    def _drop_connection(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):  # closing a broken connection may raise; it is gone anyway
                self.connection.close()
            self.connection = None

    @task
    def sql_query(self) -> None:
        """One query, timed from send to the last row, with its row count checked."""
        self.budget.spend()
        template = self.rng.choices(self.templates, weights=self.weights)[0]
        needs_ids = "{object_id" in template.text[self.dialect]
        ids = object_ids(self.environment, "qserv") if needs_ids else []
        started_at = time.perf_counter()
        if needs_ids and not ids:
            fire_request(
                self.environment,
                "SQL",
                template.kind,
                started_at,
                exception=_QueryError("no object ids: sampling from Qserv failed"),
            )
            return
        query = render(template, self.dialect, self.queries.area, ids, self.rng)
        try:
            connection = self.connection or qserv_connect()
            self.connection = connection
            with connection.cursor() as cursor:
                cursor.execute(query.text)
                rows = cursor.fetchall()
            problem = query.check_rows(len(rows))
            if problem:
                raise _QueryError(problem)
        except Exception as exc:  # noqa: BLE001 -- pymysql errors, lost connections, wrong answers: all failures
            if not isinstance(exc, _QueryError):
                self._drop_connection()
            fire_request(self.environment, "SQL", query.kind, started_at, exception=exc)
        else:
            fire_request(self.environment, "SQL", query.kind, started_at, response_length=len(rows))


class QservLowVolumeUser(_QservUser):
    """Interactive Qserv user: id lookups, boxes, cones."""

    volume = "low_volume"


class QservHighVolumeUser(_QservUser):
    """Scanning Qserv user: full-table counts."""

    volume = "high_volume"
