"""Facts every tool must agree on, each defined once.

The Pulumi program, the policy pack, the scale-test lifecycle, the local stack, the load tests
and the readiness gates read these names from here; none of them writes its own copy.
"""

from __future__ import annotations

__all__ = [
    "DB_AUTH_SECRET",
    "HUB_TOKEN_ENV",
    "HUB_TOKEN_SECRET",
    "HUB_TOKEN_SECRET_GLOBS",
    "PG_PASSWORD_SECRET",
    "QSERV_PASSWORD_ENV",
    "QSERV_PASSWORD_SECRET",
    "QSERV_READER_USER",
    "SCALE_STACK_PREFIX",
    "STATEFUL_TYPES",
    "TAP_SCHEMA",
    "TAP_SERVED_RENAMES",
    "is_scale_stack",
    "pool_name",
    "served_table",
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


# The catalog schema TAP serves, and the tables DaCHS serves under another name: `position` is an
# ADQL reserved word, so the local stack's resource descriptor publishes it as `position_`.
TAP_SCHEMA = "dp01_dc2_catalogs"
TAP_SERVED_RENAMES: dict[str, str] = {"position": "position_"}


def served_table(table: str, *, dachs: bool) -> str:
    """The qualified name a TAP client queries for Felis table ``table`` (DaCHS renames some)."""
    return f"{TAP_SCHEMA}.{TAP_SERVED_RENAMES.get(table, table) if dachs else table}"


# Names of the secret files under a stack's ``secrets_dir`` (the contract publishes the directory,
# never a value). The Ansible roles write them; idf_clients.secrets is the one reader.
HUB_TOKEN_SECRET = "jupyterhub_api_token"  # noqa: S105 - a file name, not a secret
# Other names a hub admin token is found under in a secrets_dir (never the proxy token beside it).
HUB_TOKEN_SECRET_GLOBS = ("*hub*admin*token*", "*hub*api*token*")
QSERV_READER_USER = "qsmaster"  # Qserv's default client account
QSERV_PASSWORD_SECRET = "mariadb_{user}.password"  # noqa: S105 - a file name pattern
PG_PASSWORD_SECRET = "pg_{role}.password"  # noqa: S105 - a file name pattern
DB_AUTH_SECRET = "db-auth.yaml"  # noqa: S105 - a file name: the Butler's LSST_DB_AUTH file
# Environment variables naming a secret *file* elsewhere (an operator's machine, a GKE pod).
HUB_TOKEN_ENV = "IDF_HUB_TOKEN_FILE"  # noqa: S105 - a variable name
QSERV_PASSWORD_ENV = "IDF_QSERV_PASSWORD_FILE"  # noqa: S105 - a variable name
