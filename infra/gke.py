"""GKE component: the cluster itself (its node pools are `infra.node_pools`).

Private nodes, Workload Identity, a release channel, shielded nodes, master authorized networks,
VPC-native (alias IP) networking, Dataplane V2 network policy, the Persistent Disk and Cloud Storage
FUSE CSI add-ons (Qserv's volumes; the ingest Jobs' bucket mounts), and the default node pool removed
so that every pool is declared, sized and labelled by the stack config.

The private control plane reaches the nodes only where a firewall rule lets it: GKE's own rule
opens tcp 443 and 10250, and admission webhooks served elsewhere fail with "the server is
currently unable to handle the request". :data:`CONTROL_PLANE_WEBHOOK_PORTS` is what our cluster
prerequisites serve their webhooks on (qserv-operator 9443, cert-manager 10250): one ingress rule
from the control-plane range (`idf:network.master_cidr`, the cluster's `master_ipv4_cidr_block`)
only, to the nodes' network tag only. The policy pack checks that its source stays that range
(`firewall-webhooks-from-control-plane-only`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.cert_manager import CERT_MANAGER_WEBHOOK_PORT
from infra.config import GkeConfig
from infra.qserv_operator import OPERATOR_WEBHOOK_PORT

__all__ = ["CONTROL_PLANE_WEBHOOK_PORTS", "Cluster", "ClusterArgs"]

# The nodes' ports the control plane calls admission webhooks on (see the module docstring).
CONTROL_PLANE_WEBHOOK_PORTS = (OPERATOR_WEBHOOK_PORT, CERT_MANAGER_WEBHOOK_PORT)


@dataclass(frozen=True)
class ClusterArgs:
    """Inputs of :class:`Cluster`."""

    gke: GkeConfig
    project: str
    region: str
    labels: dict[str, str]
    master_cidr: str
    """The /28 of the private control plane (`idf:network.master_cidr`)."""
    network_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    pods_range_name: str
    services_range_name: str
    node_tag: str
    """The network tag of every node of the cluster (:func:`idf_core.facts.node_network_tag`)."""


class Cluster(pulumi.ComponentResource):
    """One GKE cluster, regional or zonal per stack."""

    cluster: gcp.container.Cluster
    location: str
    control_plane_webhooks: gcp.compute.Firewall

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("idf:gke:Cluster", name, None, opts)
        gke = args.gke
        self.location = args.region if gke.location_type == "regional" else str(gke.zone)
        self.cluster = gcp.container.Cluster(
            name,
            name=gke.cluster_name,
            project=args.project,
            location=self.location,
            node_locations=list(gke.node_zones) if gke.location_type == "regional" else None,
            network=args.network_id,
            subnetwork=args.subnet_id,
            # The default pool cannot be configured like ours: create one node and delete it.
            remove_default_node_pool=True,
            initial_node_count=1,
            deletion_protection=gke.deletion_protection,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
                cluster_secondary_range_name=args.pods_range_name,
                services_secondary_range_name=args.services_range_name,
            ),
            private_cluster_config=gcp.container.ClusterPrivateClusterConfigArgs(
                enable_private_nodes=True,
                # The endpoint stays reachable, but only from master_authorized_networks.
                enable_private_endpoint=False,
                master_ipv4_cidr_block=args.master_cidr,
            ),
            master_authorized_networks_config=gcp.container.ClusterMasterAuthorizedNetworksConfigArgs(
                cidr_blocks=[
                    gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(
                        cidr_block=an.cidr, display_name=an.display_name
                    )
                    for an in gke.master_authorized_networks
                ],
            ),
            workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(
                workload_pool=f"{args.project}.svc.id.goog"
            ),
            release_channel=gcp.container.ClusterReleaseChannelArgs(channel=gke.release_channel),
            enable_shielded_nodes=True,
            datapath_provider="ADVANCED_DATAPATH",
            enable_legacy_abac=False,
            master_auth=gcp.container.ClusterMasterAuthArgs(
                client_certificate_config=gcp.container.ClusterMasterAuthClientCertificateConfigArgs(
                    issue_client_certificate=False
                )
            ),
            addons_config=gcp.container.ClusterAddonsConfigArgs(
                gce_persistent_disk_csi_driver_config=gcp.container.ClusterAddonsConfigGcePersistentDiskCsiDriverConfigArgs(
                    enabled=True
                ),
                http_load_balancing=gcp.container.ClusterAddonsConfigHttpLoadBalancingArgs(disabled=False),
                # The Cloud Storage FUSE CSI driver (gcsfuse.csi.storage.gke.io): the Qserv ingest and
                # scale generator Jobs mount their staging bucket through it (infra/qserv_ingest.py).
                gcs_fuse_csi_driver_config=gcp.container.ClusterAddonsConfigGcsFuseCsiDriverConfigArgs(
                    enabled=True
                ),
            ),
            resource_labels=args.labels,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.control_plane_webhooks = gcp.compute.Firewall(
            f"{name}-allow-control-plane-webhooks",
            name=f"{name}-allow-control-plane-webhooks",
            project=args.project,
            network=args.network_id,
            direction="INGRESS",
            description=f"GKE control plane of {gke.cluster_name} -> admission webhooks on its nodes "
            "(qserv-operator, cert-manager)",
            allows=[
                gcp.compute.FirewallAllowArgs(
                    protocol="tcp", ports=[str(port) for port in CONTROL_PLANE_WEBHOOK_PORTS]
                )
            ],
            source_ranges=[args.master_cidr],
            target_tags=[args.node_tag],
            log_config=gcp.compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs(
            {"name": self.cluster.name, "endpoint": self.cluster.endpoint, "location": self.location}
        )
