"""Bounds every user obeys: an iteration cap per user, and ending the run when all users are done.

Locust bounds a run by time (``--run-time``); this adds the count bound. A user that reached
``max_iterations_per_user`` stops (StopUser); when the last user of a process has stopped, the
process ends the run: a standalone runner quits, a worker sends its final statistics and quits
(the master ends the run when its last worker has quit).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import gevent
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import STATE_RUNNING, MasterRunner, WorkerRunner

__all__ = ["IterationBudget", "fire_request"]

logger = logging.getLogger(__name__)


class IterationBudget:
    """Counts one user's tasks; raises StopUser when the cap is reached."""

    def __init__(self, environment: Environment, cap: int) -> None:
        self.environment = environment
        self.cap = cap
        self.done = 0

    def spend(self) -> None:
        """Call at the start of every task."""
        if self.done >= self.cap:
            gevent.spawn_later(1.0, _end_run_if_idle, self.environment)
            raise StopUser()
        self.done += 1


def _end_run_if_idle(environment: Environment) -> None:
    runner = environment.runner
    if runner is None or isinstance(runner, MasterRunner):
        return
    if runner.state != STATE_RUNNING or runner.user_count > 0:
        return
    logger.info("every user reached its iteration cap: ending the run")
    if isinstance(runner, WorkerRunner):
        runner.stop()
        data: dict[str, Any] = {}
        environment.events.report_to_master.fire(client_id=runner.client_id, data=data)
        runner.send_message("stats", data)
        gevent.sleep(0.2)
        runner.greenlet.kill(block=True)
    else:
        runner.quit()


def fire_request(
    environment: Environment,
    request_type: str,
    name: str,
    started_at: float,
    *,
    response_length: int = 0,
    exception: BaseException | None = None,
) -> None:
    """Report a non-HTTP request (SQL, websocket, a whole UWS job) to Locust's statistics."""
    environment.events.request.fire(
        request_type=request_type,
        name=name,
        response_time=(time.perf_counter() - started_at) * 1000,
        response_length=response_length,
        exception=exception,
        context={},
    )
