"""The policy pack as the Pulumi CLI runs it: `infra/policy/__main__.py` serves the analyzer over
gRPC, and the CLI's own requests (GetAnalyzerInfo, Analyze) get the pack's answers."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from infra.policy.rules import POLICIES

PACK_DIR = Path(__file__).resolve().parents[2] / "infra" / "policy"
BUCKET = "gcp:storage/bucket:Bucket"
GOOD_BUCKET = {
    "location": "US",
    "uniformBucketLevelAccess": True,
    "publicAccessPrevention": "enforced",
    "labels": {"stack": "dp01", "owner": "rubin-idf"},
}


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    server = subprocess.Popen(
        [sys.executable, "__main__.py"], cwd=PACK_DIR, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().strip())  # the pack prints its port, then serves
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=30)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


SQL = "gcp:sql/databaseInstance:DatabaseInstance"
GOOD_SQL = {
    "databaseVersion": "POSTGRES_15",
    "deletionProtection": True,
    "settings": {
        "tier": "db-custom-4-26624",
        "userLabels": {"stack": "dp01", "owner": "rubin-idf"},
        "availabilityType": "REGIONAL",
        "deletionProtectionEnabled": True,
        "ipConfiguration": {
            "ipv4Enabled": False,
            "privateNetwork": "projects/p/global/networks/idf",
            "sslMode": "ENCRYPTED_ONLY",
        },
        "backupConfiguration": {"enabled": True, "pointInTimeRecoveryEnabled": True},
    },
}


def _analyze(
    stub: analyzer_pb2_grpc.AnalyzerStub, props: dict[str, object], protect: bool, resource_type: str = BUCKET
) -> list[str]:
    properties = struct_pb2.Struct()
    properties.update(props)
    name = "idf-dp01-resource"
    request = analyzer_pb2.AnalyzeRequest(
        type=resource_type,
        name=name,
        urn=f"urn:pulumi:dp01::idf::{resource_type}::{name}",
        properties=properties,
        options=analyzer_pb2.AnalyzerResourceOptions(protect=protect),
    )
    return sorted(d.policyName for d in stub.Analyze(request, timeout=30).diagnostics)


def test_pack_announces_every_policy(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    assert info.name == "idf-guardrails"
    assert sorted(p.name for p in info.policies) == sorted(p.name for p in POLICIES)


def test_pack_passes_a_compliant_bucket(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    assert _analyze(analyzer, GOOD_BUCKET, protect=True) == []


def test_pack_reports_a_public_unprotected_bucket(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    bad = {**GOOD_BUCKET, "publicAccessPrevention": "inherited", "uniformBucketLevelAccess": False}
    assert _analyze(analyzer, bad, protect=False) == [
        "bucket-public-access-prevention",
        "bucket-uniform-access",
        "stateful-resources-protected",
    ]


def test_pack_reads_nested_inputs(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    """Nested inputs arrive as the analyzer's proxies (Mapping/Sequence, not dicts): rules read them."""
    assert _analyze(analyzer, GOOD_SQL, protect=True, resource_type=SQL) == []
    public = {
        **GOOD_SQL,
        "settings": {
            **GOOD_SQL["settings"],
            "ipConfiguration": {  # type: ignore[dict-item]
                "ipv4Enabled": True,
                "privateNetwork": "n",
                "sslMode": "ENCRYPTED_ONLY",
                "authorizedNetworks": [{"value": "0.0.0.0/0"}],
            },
        },
    }
    assert _analyze(analyzer, public, protect=True, resource_type=SQL) == ["cloudsql-no-public-ip"] * 2


def _stack_resource(resource_type: str, name: str, props: dict[str, object]) -> analyzer_pb2.AnalyzerResource:
    properties = struct_pb2.Struct()
    properties.update(props)
    return analyzer_pb2.AnalyzerResource(
        type=resource_type,
        name=name,
        urn=f"urn:pulumi:dp01::idf::{resource_type}::{name}",
        properties=properties,
        options=analyzer_pb2.AnalyzerResourceOptions(),
    )


def test_pack_runs_stack_policies(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    """A stack policy (here the node roles one, which loads infra.iam when it runs) answers
    AnalyzeStack in the pack's own process."""
    account = "gke-nodes-dp01@rubin-idf-dp01.iam.gserviceaccount.com"
    pool = _stack_resource(
        "gcp:container/nodePool:NodePool", "pool", {"nodeConfig": {"serviceAccount": account}}
    )

    def grant(role: str) -> analyzer_pb2.AnalyzerResource:
        return _stack_resource(
            "gcp:projects/iAMMember:IAMMember",
            role.rsplit(".", 1)[-1],
            {"project": "p", "role": role, "member": f"serviceAccount:{account}"},
        )

    def names(*resources: analyzer_pb2.AnalyzerResource) -> list[str]:
        request = analyzer_pb2.AnalyzeStackRequest(resources=list(resources))
        return sorted(d.policyName for d in analyzer.AnalyzeStack(request, timeout=60).diagnostics)

    assert names(pool, grant("roles/logging.logWriter")) == []
    assert names(pool, grant("roles/storage.admin")) == ["node-service-account-least-privilege"]
