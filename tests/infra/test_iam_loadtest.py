"""The load-test pods' identity (infra/iam.py), under the mock engine: Workload Identity from the
Kubernetes service account the Locust Job runs as, object create/read under the reports prefix of
the stack's reports bucket only; and the run's manifests name the same accounts."""

from __future__ import annotations

import pytest

from idf_core.facts import LOADTEST_NAMESPACE, LOADTEST_SERVICE_ACCOUNT, loadtest_account_id
from idf_ops.loadtest import manifests
from support.plans import OfflinePlans
from support.stacks import STACKS

ACCOUNT = "gcp:serviceaccount/account:Account"
SA_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
BUCKET_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"
BUCKET = "gcp:storage/bucket:Bucket"


def test_the_job_runs_as_the_shared_service_account() -> None:
    assert (manifests.NAMESPACE, manifests.SERVICE_ACCOUNT) == (LOADTEST_NAMESPACE, LOADTEST_SERVICE_ACCOUNT)


@pytest.mark.parametrize("stack", STACKS)
def test_loadtest_identity_is_bucket_scoped_workload_identity(plans: OfflinePlans, stack: str) -> None:
    plan = plans[stack]
    accounts = [r for r in plan.of_type(ACCOUNT) if r.inputs["accountId"] == loadtest_account_id(stack)]
    buckets = {r.inputs["name"] for r in plan.of_type(BUCKET)}
    reports_buckets = [b for b in buckets if b.endswith(("-loadtest-reports", "-backups"))]
    if not reports_buckets:
        # A scale-test stack holds no bucket (idf_core.facts.STATEFUL_TYPES): no reports, no account.
        assert accounts == [] and not [r for r in plan.of_type(BUCKET_MEMBER) if "-loadtest-" in r.name]
        return
    assert len(accounts) == 1, "a stack with a reports bucket has a load-test account"
    project = accounts[0].inputs["project"]
    bindings = [r for r in plan.of_type(SA_MEMBER) if r.name.endswith("-loadtest-workload-identity")]
    assert len(bindings) == 1
    binding = bindings[0].inputs
    assert binding["role"] == "roles/iam.workloadIdentityUser"
    assert (
        binding["member"]
        == f"serviceAccount:{project}.svc.id.goog[{LOADTEST_NAMESPACE}/{LOADTEST_SERVICE_ACCOUNT}]"
    )

    grants = [r for r in plan.of_type(BUCKET_MEMBER) if "-loadtest-" in r.name]
    assert sorted(g.inputs["role"] for g in grants) == [
        "roles/storage.objectCreator",
        "roles/storage.objectViewer",
    ]
    reports = reports_buckets[0]
    for grant in grants:
        assert grant.inputs["bucket"] == reports, grant.urn
        expression = grant.inputs["condition"]["expression"]
        assert expression == (
            f'resource.name.startsWith("projects/_/buckets/{reports}/objects/loadtests/{stack}/")'
        ), grant.urn
    assert not [
        r for r in plan.of_type(PROJECT_MEMBER) if loadtest_account_id(stack) in str(r.inputs.get("member"))
    ], "no project-wide role for the load tests"
