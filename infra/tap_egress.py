"""Egress of the TAP pods (issue 16, finding 7): a TAP UPLOAD names a URL the server fetches, so a
client can make the TAP service request addresses it could not reach itself (server-side request
forgery). The NetworkPolicy of the ``tap`` namespace lets its pods reach only their own namespace
(TAP_SCHEMA and UWS databases), cluster DNS, the Qserv front end, and the Internet outside every
private, cluster and link-local range: never the GCE/GKE metadata servers (169.254.169.254 and
169.254.169.252, which hand out the pods' Workload Identity tokens), the node, pod and service
ranges, or the control plane.

The policy pack (``infra/policy/rules.py``, ``tap-egress-denies-internal``) checks the same.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "LINK_LOCAL_CIDR",
    "PRIVATE_CIDRS",
    "TAP_EGRESS_POLICY_NAME",
    "TAP_NAMESPACE",
    "tap_egress_spec",
]

TAP_NAMESPACE = "tap"
TAP_EGRESS_POLICY_NAME = "tap-egress"
# GCE's metadata server (169.254.169.254) and GKE's (169.254.169.252) are link-local addresses.
LINK_LOCAL_CIDR = "169.254.0.0/16"
# RFC 1918 and the shared address space (RFC 6598) that GKE may use for pods and services.
PRIVATE_CIDRS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
_DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


def tap_egress_spec(cluster_cidrs: list[str], qserv_namespace: str | None, qserv_port: int) -> dict[str, Any]:
    """NetworkPolicy spec (Kubernetes wire format) of every pod in the ``tap`` namespace."""
    denied = sorted({LINK_LOCAL_CIDR, *PRIVATE_CIDRS, *cluster_cidrs})
    # An ipBlock's exceptions must lie inside its CIDR: cluster ranges outside 0.0.0.0/0 (IPv6) are
    # not listed; the rule itself is IPv4-only.
    denied = [cidr for cidr in denied if ":" not in cidr]
    egress: list[dict[str, Any]] = [
        {"to": [{"podSelector": {}}]},
        {
            "to": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": _DNS_PORTS,
        },
        {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": denied}}]},
    ]
    if qserv_namespace is not None:
        egress.insert(
            2,
            {
                "to": [
                    {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": qserv_namespace}}}
                ],
                "ports": [{"protocol": "TCP", "port": qserv_port}],
            },
        )
    return {"podSelector": {}, "policyTypes": ["Egress"], "egress": egress}
