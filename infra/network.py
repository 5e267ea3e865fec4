"""Network component: custom VPC, node subnet with pod/service secondary ranges, Cloud Router +
NAT (private nodes reach the internet only through NAT), firewall rules as data, and the private
services access range Cloud SQL's private IP is allocated from."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.config import FirewallRuleConfig, NetworkConfig

__all__ = ["Network", "NetworkArgs"]


@dataclass(frozen=True)
class NetworkArgs:
    """Inputs of :class:`Network`."""

    network: NetworkConfig
    project: str
    region: str
    labels: dict[str, str]
    description: str
    """What the VPC is for (the stack and its owner)."""
    private_services_access: bool
    """Reserve a peering range for Google-managed services (Cloud SQL private IP)."""


class Network(pulumi.ComponentResource):
    """The VPC of one stack."""

    vpc: gcp.compute.Network
    subnet: gcp.compute.Subnetwork
    pods_range_name: str
    services_range_name: str
    private_services: gcp.servicenetworking.Connection | None

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("idf:network:Network", name, None, opts)
        net = args.network
        child = pulumi.ResourceOptions(parent=self)
        self.pods_range_name = f"{name}-pods"
        self.services_range_name = f"{name}-services"

        self.vpc = gcp.compute.Network(
            f"{name}-vpc",
            name=f"{name}-vpc",
            project=args.project,
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            description=args.description,
            opts=child,
        )
        self.subnet = gcp.compute.Subnetwork(
            f"{name}-nodes",
            name=f"{name}-nodes",
            project=args.project,
            region=args.region,
            network=self.vpc.id,
            ip_cidr_range=net.subnet_cidr,
            private_ip_google_access=True,
            secondary_ip_ranges=[
                gcp.compute.SubnetworkSecondaryIpRangeArgs(
                    range_name=self.pods_range_name, ip_cidr_range=net.pods_cidr
                ),
                gcp.compute.SubnetworkSecondaryIpRangeArgs(
                    range_name=self.services_range_name, ip_cidr_range=net.services_cidr
                ),
            ],
            log_config=gcp.compute.SubnetworkLogConfigArgs(
                aggregation_interval="INTERVAL_5_MIN", flow_sampling=0.5, metadata="INCLUDE_ALL_METADATA"
            ),
            opts=child,
        )
        self.router = gcp.compute.Router(
            f"{name}-router",
            name=f"{name}-router",
            project=args.project,
            region=args.region,
            network=self.vpc.id,
            opts=child,
        )
        self.nat = gcp.compute.RouterNat(
            f"{name}-nat",
            name=f"{name}-nat",
            project=args.project,
            region=args.region,
            router=self.router.name,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            min_ports_per_vm=net.nat_min_ports_per_vm,
            log_config=gcp.compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"),
            opts=child,
        )
        self.firewall_rules = [self._firewall(name, args.project, rule, child) for rule in net.firewall_rules]

        self.private_services = None
        if args.private_services_access:
            peering_range = gcp.compute.GlobalAddress(
                f"{name}-private-services",
                name=f"{name}-private-services",
                project=args.project,
                purpose="VPC_PEERING",
                address_type="INTERNAL",
                prefix_length=20,
                network=self.vpc.id,
                labels=args.labels,
                opts=child,
            )
            self.private_services = gcp.servicenetworking.Connection(
                f"{name}-private-services",
                network=self.vpc.id,
                service="servicenetworking.googleapis.com",
                reserved_peering_ranges=[peering_range.name],
                opts=child,
            )
        self.register_outputs(
            {"vpc_id": self.vpc.id, "subnet_id": self.subnet.id, "subnet_cidr": net.subnet_cidr}
        )

    def _firewall(
        self, name: str, project: str, rule: FirewallRuleConfig, opts: pulumi.ResourceOptions
    ) -> gcp.compute.Firewall:
        return gcp.compute.Firewall(
            f"{name}-allow-{rule.name}",
            name=f"{name}-allow-{rule.name}",
            project=project,
            network=self.vpc.id,
            direction="INGRESS",
            description=rule.description,
            allows=[
                gcp.compute.FirewallAllowArgs(
                    protocol=rule.protocol, ports=[str(port) for port in rule.ports] or None
                )
            ],
            source_ranges=list(rule.source_ranges),
            target_tags=list(rule.target_tags) or None,
            log_config=gcp.compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA"),
            opts=opts,
        )
