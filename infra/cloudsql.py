"""Cloud SQL component: PostgreSQL for the Butler registry.

Private IP only (through private services access), SSL required, daily backups with point-in-time
recovery, REGIONAL availability when configured, deletion protection both in GCP and in Pulumi
(`protect=True`), and a `max_connections` flag. Passwords come from `pulumi_random` and stay
secret. The registry also needs `CREATE EXTENSION btree_gist` (Butler), which Cloud SQL allows
for `cloudsqlsuperuser`: the Butler bootstrap Job (infra/butler_bootstrap.py) runs it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_random as random

from infra.config import CloudSqlConfig

__all__ = ["REGISTRY_EXTENSIONS", "RegistryDatabase", "RegistryDatabaseArgs"]

REGISTRY_EXTENSIONS = ["btree_gist"]


@dataclass(frozen=True)
class RegistryDatabaseArgs:
    """Inputs of :class:`RegistryDatabase`."""

    cloudsql: CloudSqlConfig
    project: str
    region: str
    labels: dict[str, str]
    network_id: pulumi.Input[str]
    private_services: pulumi.Resource
    """The service networking connection the private IP depends on."""


class RegistryDatabase(pulumi.ComponentResource):
    """The Butler registry's Cloud SQL instance, database and users."""

    instance: gcp.sql.DatabaseInstance
    writer_password: pulumi.Output[str]
    reader_password: pulumi.Output[str]

    def __init__(
        self, name: str, args: RegistryDatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("idf:cloudsql:RegistryDatabase", name, None, opts)
        sql = args.cloudsql
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=True)
        self.instance = gcp.sql.DatabaseInstance(
            f"{name}-instance",
            name=sql.instance_name,
            project=args.project,
            region=args.region,
            database_version=sql.database_version,
            deletion_protection=sql.deletion_protection,
            settings=gcp.sql.DatabaseInstanceSettingsArgs(
                tier=sql.tier,
                edition="ENTERPRISE",
                availability_type="REGIONAL" if sql.high_availability else "ZONAL",
                disk_size=sql.disk_size_gb,
                disk_type="PD_SSD",
                disk_autoresize=True,
                deletion_protection_enabled=sql.deletion_protection,
                user_labels=args.labels,
                ip_configuration=gcp.sql.DatabaseInstanceSettingsIpConfigurationArgs(
                    ipv4_enabled=False,
                    private_network=args.network_id,
                    ssl_mode="ENCRYPTED_ONLY",
                ),
                backup_configuration=gcp.sql.DatabaseInstanceSettingsBackupConfigurationArgs(
                    enabled=True,
                    start_time=sql.backup_start_time_utc,
                    point_in_time_recovery_enabled=sql.point_in_time_recovery,
                    transaction_log_retention_days=sql.transaction_log_retention_days,
                    backup_retention_settings=gcp.sql.DatabaseInstanceSettingsBackupConfigurationBackupRetentionSettingsArgs(
                        retained_backups=sql.retained_backups, retention_unit="COUNT"
                    ),
                ),
                database_flags=[
                    gcp.sql.DatabaseInstanceSettingsDatabaseFlagArgs(
                        name="max_connections", value=str(sql.max_connections)
                    ),
                    gcp.sql.DatabaseInstanceSettingsDatabaseFlagArgs(
                        name="log_min_duration_statement", value="5000"
                    ),
                ],
                insights_config=gcp.sql.DatabaseInstanceSettingsInsightsConfigArgs(
                    query_insights_enabled=True
                ),
                maintenance_window=gcp.sql.DatabaseInstanceSettingsMaintenanceWindowArgs(
                    day=7, hour=14, update_track="stable"
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=True, depends_on=[args.private_services]),
        )
        self.database = gcp.sql.Database(
            f"{name}-registry",
            name=sql.database_name,
            project=args.project,
            instance=self.instance.name,
            opts=stateful,
        )
        writer = random.RandomPassword(f"{name}-writer-password", length=32, special=False, opts=child)
        reader = random.RandomPassword(f"{name}-reader-password", length=32, special=False, opts=child)
        self.writer_password = pulumi.Output.secret(writer.result)
        self.reader_password = pulumi.Output.secret(reader.result)
        self.writer = gcp.sql.User(
            f"{name}-writer",
            name="butler_writer",
            project=args.project,
            instance=self.instance.name,
            password=self.writer_password,
            opts=child,
        )
        # SELECT-only grants (and default privileges for lazily created dataset tables) are made
        # by the Butler bootstrap Job (infra/butler_bootstrap.py); this user cannot write.
        self.reader = gcp.sql.User(
            f"{name}-reader",
            name="butler_reader",
            project=args.project,
            instance=self.instance.name,
            password=self.reader_password,
            opts=child,
        )
        self.register_outputs(
            {
                "connection_name": self.instance.connection_name,
                "private_ip": self.instance.private_ip_address,
                "database": sql.database_name,
                "required_extensions": REGISTRY_EXTENSIONS,
            }
        )
