"""Qserv ingest on the cloud, offline: the generated configuration of dp01, the ingest Job in the plan
(ordered after the Qserv resource, least privilege, Workload Identity) and the generator's Indexed Job,
both validated strictly against the Kubernetes schema."""

from __future__ import annotations

import json
from typing import Any

import kubernetes_validate
import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from idf_core.qserv_ingest import (
    DP01_PARTITIONING,
    DP01_SKY_BOX_DEG,
    DP01_STAGING_BUCKET,
    SCALE_STAGING_DELETE_AFTER_DAYS,
    SCALE_STAGING_ROLE,
    chunks_in_box,
    scale_chunks,
    scale_staging_bucket,
    scale_staging_uri,
)
from idf_ops.plan.engine import run_offline
from idf_ops.plan.manifests import KUBERNETES_VERSION
from infra.config import config_mapping_from_file, resolve_stack_file
from infra.policy.rules import evaluate_inventory
from infra.qserv_ingest import (
    ScaleCatalogGenerator,
    ScaleCatalogGeneratorArgs,
    dp01_cloud_config,
    generator_job_spec,
)
from infra.storage import ScratchBucketArgs, scratch_bucket
from support.mocks import use_recording_monitor
from support.plans import TEST_IMAGES, OfflinePlans, with_test_images
from support.stacks import STACKS

JOB = "kubernetes:batch/v1:Job"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
QSERV_CR = "kubernetes:qserv.lsst.org/v1beta1:Qserv"


def _strict(manifest: dict[str, Any]) -> None:
    kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_dp01_configuration_lists_the_five_tables_with_their_chunking() -> None:
    config = dp01_cloud_config("bucket", "dp01_dc2_catalogs", "qserv", "dp01_dc2_catalogs")
    assert config.table_order() == ["object", "truth_match", "forced_photometry", "position", "reference"]
    chunks = chunks_in_box(*DP01_SKY_BOX_DEG)
    assert 90 < len(chunks) < 130  # FIELD-NOTES: the DC2 area covers ~104 chunks
    assert (config.database.num_stripes, config.database.num_sub_stripes) == (85, 12)
    for table in config.table_order():
        assert config.data_of(table)[0].chunks == chunks
        spec = config.tables[table]
        assert spec.is_partitioned == 1
        assert [c.name for c in spec.columns][-2:] == ["chunkId", "subChunkId"]
        assert spec.director_table == (DP01_PARTITIONING[table].director or "")
    assert len(config.tables["forced_photometry"].columns) == 747 + 2  # every Felis column
    files = config.files()
    metadata = json.loads(files["metadata.json"])
    assert metadata["tables"][0]["schema"] == "object.json"
    assert yaml.safe_load(files["ingest.yaml"])["ingest"]["qserv"]["replication_url"].startswith(
        "http://qserv-repl-ctl"
    )


def test_dp01_plan_orders_the_ingest_job_after_qserv(plans: OfflinePlans) -> None:
    plan = plans["dp01"]
    jobs = [r for r in plan.of_type(JOB) if r.inputs["metadata"]["name"].startswith("qserv-ingest-")]
    assert len(jobs) == 1
    job = jobs[0]
    (qserv,) = plan.of_type(QSERV_CR)
    assert qserv.urn in job.dependencies, "the ingest Job must wait for the Qserv resource"
    config = next(r for r in plan.of_type(CONFIG_MAP) if r.urn in job.dependencies)
    assert set(config.inputs["data"]) >= {f"{t}.json" for t in DP01_PARTITIONING} | {
        "metadata.json",
        "ingest.yaml",
    }
    pod = job.inputs["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == TEST_IMAGES["qserv_ingest"]
    ksa = next(
        r
        for r in plan.of_type("kubernetes:core/v1:ServiceAccount")
        if r.inputs["metadata"]["name"] == pod["serviceAccountName"]
    )
    assert "iam.gke.io/gcp-service-account" in ksa.inputs["metadata"]["annotations"]
    grants = [
        r
        for r in plan.of_type("gcp:storage/bucketIAMMember:BucketIAMMember")
        if r.name.startswith("idf-dp01-qserv-ingest")
    ]
    assert [g.inputs["role"] for g in grants] == ["roles/storage.objectViewer"]
    for resource in (job, config, ksa):
        _strict(
            {"apiVersion": _api(resource.type), "kind": resource.type.rsplit(":", 1)[-1], **resource.inputs}
        )
    assert evaluate_inventory([job, config, ksa, *grants]) == []


def _api(type_token: str) -> str:
    group_version = type_token.split(":")[1]
    group, _, version = group_version.rpartition("/")
    return version if group == "core" else group_version


@pytest.mark.parametrize("stack", [s for s in STACKS if s != "dp01"])
def test_stacks_without_a_staging_bucket_declare_no_ingest_job(plans: OfflinePlans, stack: str) -> None:
    """Only stacks with a staging bucket, or a scale stack's generated catalog
    (tests/scale/test_scale_catalog_job.py), have an ingest Job."""
    plan = plans[stack]
    has_bucket = any(r.name.endswith("-qserv-ingest") for r in plan.of_type("gcp:storage/bucket:Bucket"))
    generated = any(r.name.endswith("-scale-catalog-job") for r in plan.of_type(JOB))
    jobs = [r for r in plan.of_type(JOB) if r.inputs["metadata"]["name"].startswith("qserv-ingest-")]
    assert len(jobs) == int(has_bucket or generated)


GENERATOR_IMAGE = "us-central1-docker.pkg.dev/rubin-idf-scale-test/idf-ops/idf-ops@sha256:" + "ab" * 32


def _generator_args(provider: Any = None, bucket: Any = None) -> ScaleCatalogGeneratorArgs:
    return ScaleCatalogGeneratorArgs(
        project="rubin-idf-scale-test",
        stack="qserv-scale75",
        namespace="qserv",
        percent=75,
        staging_uri=scale_staging_uri("qserv-scale75"),
        seed_uri=f"gs://{DP01_STAGING_BUCKET}/seed/dp01_dc2_catalogs/",
        shares=304,
        parallelism=304,
        worker_pool_name="idf-qserv-scale75-qserv-worker",
        worker_taint={"key": "idf.lsst.io/qserv", "value": "worker"},
        labels={"idf.lsst.io/stack": "qserv-scale75"},
        provider=provider,
        depends_on=[],
        image=GENERATOR_IMAGE,
        staging_bucket=bucket,
    )


def test_generator_is_an_indexed_job_on_the_worker_nodes() -> None:
    spec = generator_job_spec(_generator_args(), "scale-gen-qserv-scale75")
    manifest = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "scale-catalog-generate", "namespace": "qserv"},
        "spec": spec,
    }
    _strict(manifest)
    assert spec["completionMode"] == "Indexed" and spec["completions"] == 304
    pod = spec["template"]["spec"]
    assert pod["nodeSelector"] == {"cloud.google.com/gke-nodepool": "idf-qserv-scale75-qserv-worker"}
    command = pod["containers"][0]["command"]
    # The share is --index, read from JOB_COMPLETION_INDEX (idf scale generate's envvar), not passed.
    assert command[:3] == ["idf", "scale", "generate"] and "--index" not in command
    broken = json.loads(json.dumps(manifest))
    broken["spec"]["completionsMode"] = broken["spec"].pop("completionMode")  # a misspelt field
    with pytest.raises(kubernetes_validate.ValidationError):
        _strict(broken)


@pytest.fixture
def recorded() -> Any:
    return use_recording_monitor("qserv-scale75")


def test_generator_writes_only_its_own_bucket(recorded: Any) -> None:
    @pulumi.runtime.test
    def program() -> Any:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        bucket = scratch_bucket(
            "t-staging",
            ScratchBucketArgs(
                name=scale_staging_bucket("qserv-scale75"),
                project="rubin-idf-scale-test",
                location="US-CENTRAL1",
                labels={"stack": "qserv-scale75"},
                role=SCALE_STAGING_ROLE,
                delete_after_days=SCALE_STAGING_DELETE_AFTER_DAYS,
            ),
        )
        generator = ScaleCatalogGenerator("t-gen", _generator_args(provider, bucket))
        return generator.job.urn

    program()
    by_name = {r.name: r for r in recorded.recorded}
    grant, seed = by_name["t-gen-staging"], by_name["t-gen-seed"]
    assert grant.inputs["role"] == "roles/storage.objectAdmin"
    assert grant.inputs["bucket"] == scale_staging_bucket("qserv-scale75") != DP01_STAGING_BUCKET
    assert by_name["t-staging"].urn in grant.dependencies
    assert seed.inputs["bucket"] == DP01_STAGING_BUCKET
    assert seed.inputs["role"] == "roles/storage.objectViewer"
    assert seed.inputs["condition"]["expression"] == (
        f'resource.name.startsWith("projects/_/buckets/{DP01_STAGING_BUCKET}/objects/seed/dp01_dc2_catalogs/")'
    )
    assert seed.retain_on_delete, "a destroy must leave the grant on dp01's bucket (the reaper can't edit it)"
    job = by_name["t-gen-job"]
    assert by_name["t-gen-ksa"].urn in job.dependencies and grant.urn in job.dependencies
    # Awaited (what depends on it, the ingest, follows its completion), for at most timeout_hours.
    assert job.inputs["metadata"]["annotations"] == {"pulumi.com/timeoutSeconds": str(4 * 3600)}


def test_the_seed_is_in_dp01s_staging_bucket() -> None:
    dp01 = yaml.safe_load(open("stacks/Pulumi.dp01.yaml"))  # noqa: SIM115, PTH123
    assert dp01["config"]["idf:buckets"]["qserv_ingest"]["name"] == DP01_STAGING_BUCKET


def test_dp01_without_staged_catalogs_leaves_the_ingest_job_out_and_says_why() -> None:
    """Before a person has staged the catalogs (`idf:qserv.ingest_staged`, default false) a Job
    reading the empty bucket would fail `pulumi up`: it is left out, warned, and the outputs name
    no Job to follow."""
    path = resolve_stack_file("dp01")
    document = with_test_images(config_mapping_from_file(path))
    document["config"]["idf:qserv"]["ingest_staged"] = False  # type: ignore[index]
    plan = run_offline("dp01", document, source=f"stacks/{path.name}")
    assert not [r for r in plan.of_type(JOB) if r.inputs["metadata"]["name"].startswith("qserv-ingest-")]
    assert any(
        "idf:qserv.ingest_staged is false" in w and "rubin-idf-dp01-qserv-ingest" in w for w in plan.warnings
    )
    assert plan.outputs.get("qserv_ingest_job") is None


def test_the_ingest_job_is_what_the_outputs_name_for_following(plans: OfflinePlans) -> None:
    """`qserv_ingest_job` (what `idf scale run --follow-ingest` follows) names the planned Job and
    the chunks of its configuration: dp01's DC2 box, the scale stack's generated layout."""
    for stack, chunks in (
        ("dp01", len(chunks_in_box(*DP01_SKY_BOX_DEG))),
        ("qserv-scale75", len(scale_chunks(75))),
    ):
        plan = plans[stack]
        (job,) = [r for r in plan.of_type(JOB) if r.inputs["metadata"]["name"].startswith("qserv-ingest-")]
        named = plan.outputs["qserv_ingest_job"]
        assert named["job"] == job.inputs["metadata"]["name"] and named["namespace"] == "qserv"
        assert named["chunks_total"] == chunks and named["tables"][0] == "object"
