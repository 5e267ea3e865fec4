"""Facts every tool must agree on, each defined once.

The Pulumi program, the policy pack, the scale-test lifecycle, the local stack, the load tests
and the readiness gates read these names from here; none of them writes its own copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ARGOCD_NAMESPACE",
    "BATCH_ENVIRONMENT",
    "BATCH_INPUT_COLLECTION",
    "BATCH_OUTPUT_PREFIX",
    "DB_AUTH_READER_SECRET",
    "DB_AUTH_SECRET",
    "HTCONDOR_NAMESPACE",
    "HUB_TOKEN_ENV",
    "HUB_TOKEN_SECRET",
    "HUB_TOKEN_SECRET_GLOBS",
    "LOADTEST_NAMESPACE",
    "LOADTEST_REPORTS_BUCKET_ROLES",
    "LOADTEST_SERVICE_ACCOUNT",
    "LOCAL_DATALOAD_DIR",
    "PG_PASSWORD_SECRET",
    "PLATFORM_NGINX_BACKEND_CONFIG",
    "PLATFORM_NGINX_SERVICE_ANNOTATIONS",
    "QSERV_INSTANCES",
    "QSERV_OPERATOR_NAMESPACE",
    "QSERV_PASSWORD_ENV",
    "QSERV_PASSWORD_SECRET",
    "QSERV_READER_USER",
    "REAPER_STACK",
    "SCALE_STACK_PREFIX",
    "STATEFUL_TYPES",
    "TAP_SCHEMA",
    "TAP_SERVED_RENAMES",
    "BatchEnvironment",
    "QservInstance",
    "is_scale_stack",
    "loadtest_account_id",
    "loadtest_reports_prefix",
    "node_network_tag",
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
#: Where the local stack's dataload role writes dp01's catalogs (``<table>.parquet``, manifest.json):
#: the MariaDB stand-in, the scale generator's seed and `idf catalogs stage` read them there.
LOCAL_DATALOAD_DIR = Path("/var/lib/idf/dataload")
SCALE_STACK_PREFIX = "qserv-scale"


# The permanent stack whose `idf:reaper` destroys expired scale stacks (infra/reaper.py).
REAPER_STACK = "dev"


def is_scale_stack(stack: str) -> bool:
    """Whether a stack name names a temporary scale-test stack."""
    return stack.startswith(SCALE_STACK_PREFIX)


def pool_name(cluster: str, key: str) -> str:
    """The GKE node pool name of config key ``key`` (``qserv_worker``) in cluster ``cluster``:
    ``<cluster>-qserv-worker``. The program, the outputs contract and the gates all use this."""
    return f"{cluster}-{key.replace('_', '-')}"


def node_network_tag(stack: str) -> str:
    """The network tag every GKE node of stack ``stack`` carries (infra/node_pools.py): what the
    control-plane firewall rule (infra/gke.py) targets."""
    return f"{stack}-nodes"


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
DB_AUTH_SECRET = "db-auth.yaml"  # noqa: S105 - a file name: the Butler builder's LSST_DB_AUTH file
# The users' LSST_DB_AUTH file: the SELECT-only registry role alone (never the writer's entry).
DB_AUTH_READER_SECRET = "db-auth-reader.yaml"  # noqa: S105  # pragma: allowlist secret - a file name
# Environment variables naming a secret *file* elsewhere (an operator's machine, a GKE pod).
HUB_TOKEN_ENV = "IDF_HUB_TOKEN_FILE"  # noqa: S105 - a variable name
QSERV_PASSWORD_ENV = "IDF_QSERV_PASSWORD_FILE"  # noqa: S105 - a variable name


@dataclass(frozen=True)
class QservInstance:
    """One Qserv front end of the local stack (a MariaDB stand-in): where clients and root reach it."""

    name: str
    host: str
    port: int
    reader_user: str  # the read-only client account; its password file is QSERV_PASSWORD_SECRET
    admin_socket: str  # root's unix socket (the loader and the Ansible role administer through it)


# The local stack's Qserv front ends: "idf" (this IDF's Qserv, Qserv's port 4040) and "in2p3", a
# second instance standing in for IN2P3's Qserv, which ingests the same catalogs (seed §3.4.4) so
# that `idf catalogs crosscheck idf in2p3` can compare them. The qserv_local role starts both.
QSERV_INSTANCES: dict[str, QservInstance] = {
    "idf": QservInstance("idf", "127.0.0.1", 4040, QSERV_READER_USER, "/run/mysqld/mysqld.sock"),
    "in2p3": QservInstance("in2p3", "127.0.0.1", 4041, "qsmaster_in2p3", "/run/mysqld-in2p3/mysqld.sock"),
}


# Namespaces the program installs into on GKE and the cloud gates read: Argo CD where Phalanx expects
# it (infra/argocd.py), qserv-operator in its own namespace (infra/qserv_operator.py).
ARGOCD_NAMESPACE = "argocd"
QSERV_OPERATOR_NAMESPACE = "qserv-operator"

# The Science Platform's HTTPS load balancer (infra/platform_ingress.py) reaches Phalanx's
# ingress-nginx controller Service through container-native load balancing, health-checked by
# this BackendConfig; `idf phalanx render` writes these annotations into ingress-nginx's values.
PLATFORM_NGINX_BACKEND_CONFIG = "ingress-nginx"
PLATFORM_NGINX_SERVICE_ANNOTATIONS: dict[str, str] = {
    "cloud.google.com/neg": '{"ingress": true}',
    "cloud.google.com/backend-config": '{"default": "ingress-nginx"}',
}


@dataclass(frozen=True)
class BatchEnvironment:
    """Where the local DP0.2 batch environment lives (ansible/roles/batch defaults mirror these).

    Paths under ``root`` are the environment's own (inside the Debian 13 root); ``host(path)``
    gives the same file as the host sees it.
    """

    root: str = "/var/lib/idf/batch/root"
    user: str = "idfbatch"
    uid: int = 2710
    venv: str = "/opt/idf-batch/venv"
    share: str = "/opt/idf-batch/share"
    data: str = "/var/lib/idf-batch"
    database: str = "dp02_processing"
    processing_role: str = "butler_processing"

    @property
    def repo(self) -> str:
        """The processing Butler's repository root (inside the environment)."""
        return f"{self.data}/repo"

    @property
    def readonly_config(self) -> str:
        """The users' read-only config of the processing Butler (inside the environment)."""
        return f"{self.data}/butler-readonly.yaml"

    def host(self, path: str) -> str:
        """The host's path of a path inside the environment."""
        return f"{self.root}{path}"


BATCH_ENVIRONMENT = BatchEnvironment()
# Collections of the processing Butler: the small input dataset (seed Table 2) and the output
# convention of DP0.2 reprocessing runs (BPS appends /<timestamp> to each run's output).
BATCH_INPUT_COLLECTION = "2.2i/inputs/dp02-small"
BATCH_OUTPUT_PREFIX = "2.2i/runs/DP0.2"
# Namespace of the HTCondor pool on GKE (infra/batch_htcondor.py; the batch-pool gate reads it).
HTCONDOR_NAMESPACE = "htcondor"


# A distributed load test on a GKE stack (idf_ops/loadtest: its manifests and run): the namespace
# and Kubernetes service account of its Locust pods, which Workload Identity binds to the GCP
# service account infra/iam.py declares for the stack; the master uploads its reports under
# loadtest_reports_prefix() of the first of these bucket roles the stack has.
LOADTEST_NAMESPACE = "idf-loadtest"
LOADTEST_SERVICE_ACCOUNT = "locust"
LOADTEST_REPORTS_BUCKET_ROLES = ("loadtest_reports", "backups")


def loadtest_account_id(stack: str) -> str:
    """The id of the GCP service account the load-test pods of ``stack`` act as."""
    return f"loadtest-{stack}"


def loadtest_reports_prefix(stack: str) -> str:
    """The object prefix (no bucket, no trailing slash) every load-test report of ``stack`` goes under."""
    return f"loadtests/{stack}"
