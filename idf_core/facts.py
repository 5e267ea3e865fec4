"""Facts every tool must agree on, each defined once.

The Pulumi program, the policy pack, the scale-test lifecycle, the local stack, the load tests
and the readiness gates read these names from here; none of them writes its own copy.
"""

from __future__ import annotations

__all__ = [
    "SCALE_STACK_PREFIX",
    "STATEFUL_TYPES",
    "is_scale_stack",
    "pool_name",
]

# pulumi-gcp type tokens of resources that hold data which cannot be regenerated: the Butler
# registry (Cloud SQL instance and database), the datastore / ingest / backup buckets, and disks or
# file shares. Serving stacks must protect them; a temporary scale-test stack must declare none.
# (Cloud SQL *users* are not here: they hold no data and are regenerated from the secrets.)
STATEFUL_TYPES = frozenset(
    {
        "gcp:sql/databaseInstance:DatabaseInstance",
        "gcp:sql/database:Database",
        "gcp:storage/bucket:Bucket",
        "gcp:compute/disk:Disk",
        "gcp:compute/regionDisk:RegionDisk",
        "gcp:filestore/instance:Instance",
    }
)

# Stacks whose name starts with this are temporary scale-test stacks (`idf scale`): they expire,
# are reaped, and hold no data of their own.
SCALE_STACK_PREFIX = "qserv-scale"


def is_scale_stack(stack: str) -> bool:
    """Whether a stack name names a temporary scale-test stack."""
    return stack.startswith(SCALE_STACK_PREFIX)


def pool_name(cluster: str, key: str) -> str:
    """The GKE node pool name of config key ``key`` (``qserv_worker``) in cluster ``cluster``:
    ``<cluster>-qserv-worker``. The program, the outputs contract and the gates all use this."""
    return f"{cluster}-{key.replace('_', '-')}"
