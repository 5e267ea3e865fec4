"""A threads-only ctrl_bps_parsl site for the local batch environment.

ctrl_bps_parsl's own ``Local`` site runs a parsl HighThroughputExecutor, whose interchange and
workers talk over ZeroMQ ports (54000-55000) bound on every interface (FIELD-NOTES, "Batch
processing"): the local stack binds nothing beyond 127.0.0.1. Each BPS job is a shell command
(``pipetask run-qbb ...``) that parsl starts as a subprocess, so a ThreadPoolExecutor runs the
same jobs with no network at all: one thread per core waits on its job's process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsst.ctrl.bps.parsl.configuration import get_bps_config_value
from lsst.ctrl.bps.parsl.site import SiteConfig
from parsl.executors import ThreadPoolExecutor
from parsl.executors.base import ParslExecutor

if TYPE_CHECKING:
    from lsst.ctrl.bps.parsl.job import ParslJob

__all__ = ["LocalThreads"]

_LABEL = "local-threads"


class LocalThreads(SiteConfig):
    """Run every job on this machine, ``site.<computeSite>.cores`` at a time (default 1)."""

    def get_executors(self) -> list[ParslExecutor]:
        cores = get_bps_config_value(self.site, "cores", int, default=1)
        return [ThreadPoolExecutor(label=_LABEL, max_threads=cores)]

    def select_executor(self, job: ParslJob) -> str:
        return _LABEL
