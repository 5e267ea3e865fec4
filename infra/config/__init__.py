"""Typed stack configuration: the one model every stack file (`stacks/Pulumi.<stack>.yaml`) meets.

The package, by concern:

- :mod:`infra.config.models`: the pydantic models of a Pulumi stack file (``config:`` with
  ``gcp:project``, ``gcp:region`` and structured ``idf:<section>`` keys), ``extra="forbid"``
  everywhere;
- :mod:`infra.config.checks`: the cross-field rules pydantic cannot express (min > max nodes, zones
  outside the region, overlapping CIDRs, bucket names, temporary pools without an expiry, ...), one
  function per concern, registered in one list;
- :mod:`infra.config.loader`: :func:`resolve_stack_file`, :func:`load_stack_file` (YAML on disk),
  :func:`load_from_pulumi_config` (the same keys read through ``pulumi.Config``, which is how
  ``pulumi up -s dp01`` and the offline plan both feed the program) and
  :func:`validate_stack_files` (what `idf config validate` reports);
- :mod:`infra.config.problems`: a :class:`Problem` per mistake and :class:`StackConfigError`, the
  :class:`idf_core.errors.BadInput` naming every problem of a file, one line each: the file, the
  key path (e.g. ``config.idf:node_pools.qserv_worker.max_nodes``), what is wrong, what to do;
- :mod:`infra.config.schema`: :func:`stack_file_schema`, exported to ``stacks/stack.schema.json``.

Import from ``infra.config``; the submodules are its layout, not separate interfaces.
"""

from __future__ import annotations

from infra.config.checks import CHECKS, Check, run_checks
from infra.config.loader import (
    StackFileReport,
    config_mapping_from_file,
    config_problems,
    dump_stack_file,
    load_from_pulumi_config,
    load_stack_file,
    pulumi_config_from_mapping,
    resolve_stack_file,
    stack_name_of,
    validate_config_mapping,
    validate_stack_files,
)
from infra.config.models import (
    EXT4_OVERHEAD_FRACTION,
    GCP_KEYS,
    IDF_SECTIONS,
    LOCAL_SSD_PARTITION_BYTES,
    AuthorizedNetwork,
    BucketConfig,
    BudgetConfig,
    ButlerReferenceConfig,
    CloudSqlConfig,
    DnsConfig,
    ExternalS3Config,
    FirewallRuleConfig,
    GkeConfig,
    ImagesConfig,
    KubernetesConfig,
    MetaConfig,
    NamespaceQuota,
    NetworkConfig,
    NodePoolConfig,
    QservConfig,
    ReaperConfig,
    ScaleCatalogConfig,
    StackConfig,
    StackFile,
    Taint,
    local_ssd_raid_capacity_gib,
)
from infra.config.problems import Problem, StackConfigError
from infra.config.schema import SCHEMA_PATH, stack_file_schema, write_schema

__all__ = [
    "CHECKS",
    "EXT4_OVERHEAD_FRACTION",
    "GCP_KEYS",
    "IDF_SECTIONS",
    "LOCAL_SSD_PARTITION_BYTES",
    "SCHEMA_PATH",
    "AuthorizedNetwork",
    "BucketConfig",
    "BudgetConfig",
    "ButlerReferenceConfig",
    "Check",
    "CloudSqlConfig",
    "DnsConfig",
    "ExternalS3Config",
    "FirewallRuleConfig",
    "GkeConfig",
    "ImagesConfig",
    "KubernetesConfig",
    "MetaConfig",
    "NamespaceQuota",
    "NetworkConfig",
    "NodePoolConfig",
    "Problem",
    "QservConfig",
    "ReaperConfig",
    "ScaleCatalogConfig",
    "StackConfig",
    "StackConfigError",
    "StackFile",
    "StackFileReport",
    "Taint",
    "config_mapping_from_file",
    "config_problems",
    "dump_stack_file",
    "load_from_pulumi_config",
    "load_stack_file",
    "local_ssd_raid_capacity_gib",
    "pulumi_config_from_mapping",
    "resolve_stack_file",
    "run_checks",
    "stack_file_schema",
    "stack_name_of",
    "validate_config_mapping",
    "validate_stack_files",
    "write_schema",
]
