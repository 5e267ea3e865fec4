"""Per-process shared state of the users: the run configuration and the sampled object ids.

Object ids are sampled once per process (at test_start, from the service under test itself), so
id lookups ask for rows that exist and their row counts can be checked exactly. pyvo (astropy) and
pymysql are imported with this module, before a worker connects to its master: importing astropy
inside a running worker blocks its event loop for seconds and the master declares it missing.
"""

from __future__ import annotations

import logging
import random
import time

import gevent.lock
import pymysql
import pyvo
from locust.env import Environment

from idf_clients import qserv
from loadtests.querysets import QuerySet, adapt_adql, load_query_set
from loadtests.runconfig import RunConfig, load_run_config
from loadtests.users.bounds import fire_request

__all__ = ["object_ids", "qserv_connect", "query_set", "rng_for", "run_config"]

logger = logging.getLogger(__name__)

_config: RunConfig | None = None
_query_sets: dict[str, QuerySet] = {}
_object_ids: dict[str, list[int]] = {}
_sample_lock = gevent.lock.Semaphore()
_user_counter = 0


def run_config() -> RunConfig:
    """The run configuration of this process (read once)."""
    global _config  # noqa: PLW0603 - one configuration per process, by design
    if _config is None:
        _config = load_run_config()
    return _config


def query_set(name: str) -> QuerySet:
    """``loadtests/data/<name>.yaml``, read once per process."""
    if name not in _query_sets:
        _query_sets[name] = load_query_set(name)
    return _query_sets[name]


def rng_for(kind: str) -> random.Random:
    """A random generator per user: reproducible when the run has a seed."""
    global _user_counter  # noqa: PLW0603 - per-process counter of users
    _user_counter += 1
    seed = run_config().seed
    return random.Random(f"{seed}-{kind}-{_user_counter}") if seed is not None else random.Random()  # noqa: S311


def qserv_connect() -> pymysql.connections.Connection:
    """A pymysql connection to the Qserv front end of the run (:mod:`idf_clients.qserv`)."""
    target = run_config().qserv
    connection: pymysql.connections.Connection = qserv.connect(
        target.host,
        target.port,
        target.user,
        qserv.password_from_file(target.password_file),
        target.database,
        connect_timeout_s=10,
        read_timeout_s=run_config().profile.tap_job_timeout_s,
    )
    return connection


def _sample_tap(limit: int) -> list[int]:
    query = adapt_adql(
        query_set("tap").object_id_sample["adql"].format(limit=limit), run_config().tap_dialect
    )
    table = pyvo.dal.TAPService(run_config().tap_url).run_sync(query, maxrec=limit)
    return [int(row[0]) for row in table.to_table().iterrows()]


def _sample_qserv(limit: int) -> list[int]:
    dialect = run_config().qserv.dialect
    query = query_set("qserv").object_id_sample[dialect].format(limit=limit)
    connection = qserv_connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(query)
            return [int(row[0]) for row in cursor.fetchall()]
    finally:
        connection.close()


def object_ids(environment: Environment, service: str) -> list[int]:
    """Object ids of ``service`` (tap or qserv), sampled on first use; [] when sampling failed."""
    with _sample_lock:
        if service not in _object_ids:
            limit = query_set(service).object_id_sample_size
            started_at = time.perf_counter()
            try:
                ids = _sample_tap(limit) if service == "tap" else _sample_qserv(limit)
                if not ids:
                    raise ValueError("the id sample query returned no rows")
            except Exception as exc:  # noqa: BLE001 -- any failure here is reported as a failed request
                logger.error("sampling %s object ids failed: %s", service, exc)  # noqa: TRY400 (reported as a failed request)
                fire_request(environment, "SETUP", f"{service}.setup.sample_ids", started_at, exception=exc)
                ids = []
            else:
                fire_request(
                    environment, "SETUP", f"{service}.setup.sample_ids", started_at, response_length=len(ids)
                )
            _object_ids[service] = ids
        return _object_ids[service]
