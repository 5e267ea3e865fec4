"""The locustfile of every run: binds the profile's user classes to the run's targets and bounds.

Started by ``idf loadtest run`` (standalone, master/workers, or GKE pods) with
``$IDF_LOADTEST_RUN_CONFIG`` naming the run configuration. Only the profile's user classes are
bound in this module, so Locust runs exactly those, with the profile's weights, fixed counts and
think times. Object ids are sampled once per process at test_start.
"""

from __future__ import annotations

import json
import os
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import locust.runners
from locust import between, events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner
from locust.stats import StatsEntry

from loadtests.profile import USER_CLASS_NAMES
from loadtests.runconfig import FINAL_STATS_ENV
from loadtests.users import notebook as _notebook
from loadtests.users import qserv as _qserv
from loadtests.users import tap as _tap
from loadtests.users.bounds import end_master_run_after, register_idle_protocol, send_worker_stats
from loadtests.users.shared import object_ids, run_config

# A worker whose CPU is saturated (a shared 2-core machine, a busy pod) misses heartbeats and the
# master declares it missing and stops the test (locust #1158, #1843). Locust reads this module
# constant at each heartbeat: tolerate 15 missed one-second heartbeats instead of 3.
locust.runners.HEARTBEAT_LIVENESS = 15

# Modules, not classes, are bound here: Locust would run every User class found in this namespace.
_MODULES = {"tap": _tap, "qserv": _qserv, "hub": _notebook}
_config = run_config()
_profile = _config.profile

for _entry in _profile.user_classes:
    _service = USER_CLASS_NAMES[_entry.user_class]
    _cls = getattr(_MODULES[_service], _entry.user_class)
    _think = _entry.think_time or _profile.think_time
    _cls.wait_time = between(_think.min_s, _think.max_s)
    _cls.weight = _entry.weight or 1
    _cls.fixed_count = _entry.fixed_count or 0
    if _service == "tap":
        _cls.host = _config.tap_url
    elif _service == "hub":
        _cls.host = _config.hub_url
    globals()[_entry.user_class] = _cls
# Locust collects every User class bound in this module: leave no loop variable holding one.
del _cls


@events.init.add_listener
def _on_init(environment: Environment, **_kwargs: Any) -> None:
    """Let the master end the run when every worker's users are done (the iteration bound)."""
    register_idle_protocol(environment)


@events.test_start.add_listener
def _sample_object_ids(environment: Environment, **_kwargs: Any) -> None:
    """Sample object ids once per load-generating process, before users need them."""
    if isinstance(environment.runner, MasterRunner):
        # Distributed runs: the master enforces the run time itself (see end_master_run_after).
        end_master_run_after(environment, _profile.run_time_s)
        return
    for service in sorted(_profile.services() & {"tap", "qserv"}):
        object_ids(environment, service)


def _row(entry: StatsEntry) -> dict[str, Any]:
    measured = entry.num_requests > 0
    return {
        "kind": entry.name,
        "request_type": entry.method or "",
        "count": entry.num_requests,
        "failures": entry.num_failures,
        "p50_ms": entry.get_response_time_percentile(0.50) if measured else 0,
        "p95_ms": entry.get_response_time_percentile(0.95) if measured else 0,
        "p99_ms": entry.get_response_time_percentile(0.99) if measured else 0,
        "max_ms": entry.max_response_time,
        "requests_per_s": entry.total_rps,
    }


@events.test_stop.add_listener
def _flush_worker_stats(environment: Environment, **_kwargs: Any) -> None:
    """A worker reports its last requests as soon as its users have stopped."""
    send_worker_stats(environment)


@events.quitting.add_listener
def _write_final_stats(environment: Environment, **_kwargs: Any) -> None:
    """Write the final statistics: per kind, total, and merged per SLO pattern (for aggregate SLOs)."""
    target = os.environ.get(FINAL_STATS_ENV)
    if not target or isinstance(environment.runner, WorkerRunner) or environment.runner is None:
        return
    stats = environment.runner.stats
    groups = {}
    for slo in _profile.slos:
        group = StatsEntry(stats, slo.kind, "GROUP")
        for (name, _method), entry in stats.entries.items():
            if fnmatchcase(name, slo.kind):
                group.extend(entry)
        groups[slo.kind] = _row(group)
    document = {
        "kinds": [_row(entry) for _key, entry in sorted(stats.entries.items())],
        "total": _row(stats.total) | {"kind": "Aggregated"},
        "groups": groups,
        "errors": [
            {"kind": error.name, "error": str(error.error)[:500], "occurrences": error.occurrences}
            for error in sorted(stats.errors.values(), key=lambda e: -e.occurrences)
        ],
    }
    Path(target).write_text(json.dumps(document, indent=2) + "\n")
