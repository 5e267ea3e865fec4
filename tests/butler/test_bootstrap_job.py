"""The cloud stacks' Butler bootstrap Job (infra/butler_bootstrap.py), offline: it exists on every
stack with its own Butler, waits for Cloud SQL and the datastore bucket, runs the bootstrap module's
exact text with a pinned image and command, reads the writer's password from a Secret, reaches the
bucket through Workload Identity, and its manifests validate strictly."""

from __future__ import annotations

import ast
import secrets
import sys
from collections.abc import Mapping
from typing import Any

import kubernetes_validate
import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pytest

from idf_ops.plan.engine import OfflinePlan, PlannedResource
from idf_ops.plan.manifests import KUBERNETES_VERSION
from infra.butler_bootstrap import (
    BOOTSTRAP_MODULE,
    BOOTSTRAP_PIP_REQUIREMENTS,
    WORKLOAD_IDENTITY_ANNOTATION,
    ButlerBootstrap,
    ButlerBootstrapArgs,
)
from support.mocks import use_mocks

JOB = "kubernetes:batch/v1:Job"
BUTLER_STACKS = ("dev", "dp01", "dp02")


def _one(plan: OfflinePlan, typ: str, name_part: str) -> PlannedResource:
    found = [r for r in plan.resources if r.type == typ and name_part in r.name]
    assert len(found) == 1, f"{plan.stack}: {len(found)} {typ} named *{name_part}*"
    return found[0]


@pytest.mark.parametrize("stack", BUTLER_STACKS)
def test_job_waits_for_cloud_sql_and_the_bucket(plans: Mapping[str, OfflinePlan], stack: str) -> None:
    plan = plans[stack]
    job = _one(plan, JOB, "butler-bootstrap")
    instance = _one(plan, "gcp:sql/databaseInstance:DatabaseInstance", "instance")
    database = _one(plan, "gcp:sql/database:Database", "registry")
    bucket = _one(plan, "gcp:storage/bucket:Bucket", "butler-datastore")
    grant = _one(plan, "gcp:storage/bucketIAMMember:BucketIAMMember", "butler-bootstrap-datastore-admin")
    for needed in (instance, database, bucket, grant):
        assert needed.urn in job.dependencies, f"{job.urn} does not depend on {needed.urn}"


@pytest.mark.parametrize("stack", BUTLER_STACKS)
def test_manifests_validate_strictly(plans: Mapping[str, OfflinePlan], stack: str) -> None:
    objects = [
        r for r in plans[stack].resources
        if r.custom and r.type.startswith("kubernetes:") and "butler-bootstrap" in r.name
    ]  # fmt: skip
    assert {r.type.rsplit(":", 1)[-1] for r in objects} == {"Job", "ConfigMap", "Secret", "ServiceAccount"}
    for r in objects:
        manifest = {k: v for k, v in r.inputs.items() if not k.startswith("__")}
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_job_runs_the_one_implementation_pinned(plans: Mapping[str, OfflinePlan]) -> None:
    plan = plans["dp01"]
    code = _one(plan, "kubernetes:core/v1:ConfigMap", "butler-bootstrap-code")
    assert code.inputs["data"]["bootstrap.py"] == BOOTSTRAP_MODULE.read_text()
    pod = _one(plan, JOB, "butler-bootstrap").inputs["spec"]["template"]["spec"]
    containers = pod["initContainers"] + pod["containers"]
    assert all("@sha256:" in c["image"] for c in containers), [c["image"] for c in containers]
    install = " ".join(pod["initContainers"][0]["command"])
    assert all(requirement in install for requirement in BOOTSTRAP_PIP_REQUIREMENTS)
    assert all("==" in requirement for requirement in BOOTSTRAP_PIP_REQUIREMENTS)
    command = pod["containers"][0]["command"]
    assert command[command.index("--repo") + 1] == "gs://rubin-idf-dp01-butler-datastore/repo"
    assert "sslmode=require" in command[command.index("--db-url") + 1]
    password = next(e for e in pod["containers"][0]["env"] if e["name"] == "IDF_BUTLER_WRITER_PASSWORD")
    assert set(password) == {"name", "valueFrom"}, "the password comes from the Secret, never a literal"
    secret = _one(plan, "kubernetes:core/v1:Secret", "butler-bootstrap-registry-writer")
    assert "stringData.password" in secret.secret_inputs or "stringData" in secret.secret_inputs
    ksa = _one(plan, "kubernetes:core/v1:ServiceAccount", "butler-bootstrap-ksa")
    assert ksa.inputs["metadata"]["name"] == pod["serviceAccountName"]
    assert WORKLOAD_IDENTITY_ANNOTATION in ksa.inputs["metadata"]["annotations"]


def test_stacks_without_a_butler_of_their_own_have_no_job(plans: Mapping[str, OfflinePlan]) -> None:
    assert not [r for r in plans["qserv-scale75"].resources if r.type == JOB and "butler" in r.name]


@pulumi.runtime.test
def test_component_keeps_the_password_secret_and_names_the_job_by_its_code() -> Any:
    """A mocked run of the component alone: the writer's Secret stays a Pulumi secret, the Job's
    name carries the code's digest, the identity binding names the Job's service account (each
    check awaited by the decorator, so a failing one fails the test)."""
    use_mocks("dp01")
    provider = k8s.Provider("t-provider", kubeconfig="{}")
    bucket = gcp.storage.Bucket("t-bucket", name="t-datastore", location="US")
    component = ButlerBootstrap(
        "t",
        ButlerBootstrapArgs(
            project="rubin-idf-dp01",
            stack="dp01",
            namespace="butler",
            labels={"idf.lsst.io/stack": "dp01"},
            provider=provider,
            depends_on=[bucket],
            datastore_bucket=bucket,
            repo_uri="gs://t-datastore/repo",
            registry_host="10.0.0.3",
            registry_database="butler_registry",
            writer_user="butler_writer",
            writer_password=pulumi.Output.secret(secrets.token_hex(8)),
            reader_user="butler_reader",
        ),
    )

    def check(values: list[Any]) -> None:
        job_name, is_secret = values
        assert job_name.startswith("butler-bootstrap-") and len(job_name) == len("butler-bootstrap-") + 10
        assert is_secret, "the writer's password must stay a Pulumi secret in the Kubernetes Secret"

    return pulumi.Output.all(
        component.job.metadata.name, component.writer_secret.string_data.is_secret()
    ).apply(check)


def test_bootstrap_module_is_self_contained() -> None:
    """It runs alone in the Job's image: only the standard library, SQLAlchemy and lsst.*."""
    tree = ast.parse(BOOTSTRAP_MODULE.read_text())
    imported = {
        (node.module or "").split(".")[0] if isinstance(node, ast.ImportFrom) else alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    foreign = {m for m in imported if m not in sys.stdlib_module_names and m not in {"lsst", "sqlalchemy"}}
    assert not foreign, f"bootstrap.py imports {sorted(foreign)}: the Job's image has none of them"
