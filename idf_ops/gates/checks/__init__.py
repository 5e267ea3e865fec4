"""The gate checks, one module per area, each check declared once next to its function.

A check reads only the stack outputs (and files they point to), talks to live endpoints with
client timeouts taken from its budget, and returns an :class:`~.base.Outcome` or raises
:class:`~.base.CheckFailedError` with a one-line reason plus evidence. They talk through the one
clients layer (:mod:`idf_clients`: PostgreSQL over psycopg 3, the Qserv front end over PyMySQL,
TAP over pyvo, the JupyterHub REST API, secrets), plus the Gen3 Butler and lsst-felis.

Every check function carries one record (:class:`~.base.CheckSpec`: id, area, live or offline,
stack kinds, timeout, client libraries), declared with the :func:`~.base.check` decorator and
collected in :data:`CHECKS`. The milestone registry (:mod:`idf_ops.gates.registry`) takes its
allowed check ids from :data:`CHECKS`; the runner (:mod:`idf_ops.gates.runner`) decides from the
record whether a check runs on a stack (offline plan, stack kind) and what it loads first.

Areas, in the order their checks are listed (the registry schema's order):
:mod:`.infra` (outputs, compute, database, storage), :mod:`.butler`, :mod:`.qserv`,
:mod:`.notebook` (hub, lab spawn), :mod:`.tap`, :mod:`.loadtests`, :mod:`.batch` (DP0.2
processing). A new area module is imported here, or its checks are not registered.
"""

from __future__ import annotations

# isort: off
# Imported for their registrations, in this order: it is the order of CHECKS, hence of the check
# ids in milestones/registry.schema.json (`idf gates schema` rewrites it after a change).
from idf_ops.gates.checks import infra, butler, qserv, notebook, tap, loadtests, batch  # noqa: F401

# isort: on
from idf_ops.gates.checks.base import CHECKS, CheckSpec, check

__all__ = ["CHECKS", "CheckSpec", "check"]
