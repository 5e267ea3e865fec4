"""DNS component: the stack's public host (`data.lsst.cloud` for dp01, `data-dev.lsst.cloud` for dev).

A public managed zone for the host with DNSSEC on, a global static address for the Science
Platform ingress, and the A record pointing the host at it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.config import DnsConfig

__all__ = ["PublicDns", "PublicDnsArgs"]


@dataclass(frozen=True)
class PublicDnsArgs:
    """Inputs of :class:`PublicDns`."""

    dns: DnsConfig
    project: str
    stack: str
    labels: dict[str, str]


class PublicDns(pulumi.ComponentResource):
    """Managed zone, ingress address and A record of the public host."""

    fqdn: str
    ingress_address: gcp.compute.GlobalAddress

    def __init__(self, name: str, args: PublicDnsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("idf:dns:PublicDns", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.fqdn = args.dns.fqdn
        self.zone = gcp.dns.ManagedZone(
            f"{name}-zone",
            name=f"{name}-zone",
            project=args.project,
            dns_name=f"{self.fqdn}.",
            description=f"Public host of IDF stack {args.stack}",
            visibility="public",
            dnssec_config=gcp.dns.ManagedZoneDnssecConfigArgs(state="on"),
            labels=args.labels,
            opts=child,
        )
        self.ingress_address = gcp.compute.GlobalAddress(
            f"{name}-ingress",
            name=f"{name}-ingress",
            project=args.project,
            address_type="EXTERNAL",
            labels=args.labels,
            opts=child,
        )
        self.record = gcp.dns.RecordSet(
            f"{name}-a",
            name=f"{self.fqdn}.",
            project=args.project,
            managed_zone=self.zone.name,
            type="A",
            ttl=300,
            rrdatas=[self.ingress_address.address],
            opts=child,
        )
        self.register_outputs({"fqdn": self.fqdn, "ingress_ip": self.ingress_address.address})
