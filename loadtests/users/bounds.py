"""Bounds every user obeys: an iteration cap per user, and ending the run when all users are done.

Locust bounds a run by time (``--run-time``); this adds the count bound. A user that reached
``max_iterations_per_user`` stops (StopUser); when the last user greenlet of a process has ended
(its on_stop included), the process ends the run: a standalone runner quits; a worker sends its
statistics and an ``idf_worker_idle`` message, and the master quits once every worker is idle.
Workers must not quit on their own: Locust's master would re-dispatch a quitting worker's users
to the others, and they would run again.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import gevent
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import STATE_RUNNING, MasterRunner, WorkerRunner

__all__ = [
    "IterationBudget",
    "end_master_run_after",
    "fire_request",
    "register_idle_protocol",
    "send_worker_stats",
]

IDLE_MESSAGE = "idf_worker_idle"

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
            _watch_for_idle(self.environment)
            raise StopUser
        self.done += 1


_watcher: gevent.Greenlet | None = None


def _watch_for_idle(environment: Environment) -> None:
    """Start (once per process) the greenlet that ends the run when no user greenlet is left."""
    global _watcher  # noqa: PLW0603 - one watcher per process
    if _watcher is None or _watcher.dead:
        _watcher = gevent.spawn(_end_run_when_idle, environment)


def _end_run_when_idle(environment: Environment) -> None:
    runner = environment.runner
    if runner is None or isinstance(runner, MasterRunner):
        return
    # A stopping user is still running its on_stop (e.g. stopping its lab): wait for its greenlet
    # to end, not for Locust's user count, which drops as soon as StopUser is raised.
    while runner.state == STATE_RUNNING and len(runner.user_greenlets) > 0:
        gevent.sleep(0.5)
    if runner.state != STATE_RUNNING:
        return
    logger.info("every user reached its iteration cap: ending the run")
    if isinstance(runner, WorkerRunner):
        data: dict[str, Any] = {}
        environment.events.report_to_master.fire(client_id=runner.client_id, data=data)
        runner.send_message("stats", data)
        runner.send_message(IDLE_MESSAGE, None)
    else:
        runner.quit()


def register_idle_protocol(environment: Environment) -> None:
    """On the master: quit once every worker has reported that all its users are done."""
    runner = environment.runner
    if not isinstance(runner, MasterRunner):
        return
    master: MasterRunner = runner
    idle_workers: set[str] = set()

    def on_idle(msg: Any, **_kwargs: Any) -> None:
        idle_workers.add(msg.node_id)
        connected = {client.id for client in master.clients.all}
        if connected and connected <= idle_workers and master.state == STATE_RUNNING:
            logger.info("every worker's users reached their iteration cap: ending the run")
            gevent.spawn(master.quit)

    master.register_message(IDLE_MESSAGE, on_idle)


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


def send_worker_stats(environment: Environment) -> None:
    """On a worker whose users have just stopped: send the statistics now, not at the next report."""
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        data: dict[str, Any] = {}
        environment.events.report_to_master.fire(client_id=runner.client_id, data=data)
        runner.send_message("stats", data)


def end_master_run_after(environment: Environment, run_time_s: float) -> None:
    """On the master: after ``run_time_s``, stop the workers gracefully, then quit.

    Locust's own ``--run-time`` makes the master quit at once and wait only 0.5 s for the workers'
    last statistics, so the in-flight requests of the stop timeout (e.g. a scan still running) are
    lost. Stopping first lets the workers finish or fail their tasks within ``--stop-timeout`` and
    report them; the master waits for that (Locust bounds the wait at stop timeout + 60 s).
    """
    runner = environment.runner
    if not isinstance(runner, MasterRunner):
        return
    master: MasterRunner = runner

    def end() -> None:
        gevent.sleep(run_time_s)
        logger.info("run time of %.0f s reached: stopping the workers, then quitting", run_time_s)
        # Also when Locust stopped the test on its own (e.g. every worker went missing): a headless
        # master would otherwise wait forever.
        master.stop()
        gevent.sleep(2.0)  # the workers' final statistics follow their stop
        master.quit()

    gevent.spawn(end)
