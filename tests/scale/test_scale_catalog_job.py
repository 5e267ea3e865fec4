"""The scale stack's generated catalog in the Pulumi program (mock engine): the generator's Indexed
Job on the stack's own Qserv workers, one completion per chunk, the stack's own scratch staging
bucket and its narrow identity on it and on dp01's seed, the ingest Job ordered after it, strict
manifests, and the plan's figures read from the same stack-file section the program reads."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import kubernetes_validate
import pytest
import yaml
from typer.testing import CliRunner

from idf_core.errors import BadInput
from idf_core.facts import pool_name
from idf_core.paths import STACKS_DIR
from idf_core.qserv_ingest import (
    DP01_SEED_URI,
    DP01_STAGING_BUCKET,
    SCALE_STAGING_DELETE_AFTER_DAYS,
    generator_parallelism,
    scale_chunks,
    scale_staging_bucket,
    scale_staging_uri,
)
from idf_ops.cli.main import app
from idf_ops.cost.prices import load_price_table
from idf_ops.plan.engine import OfflinePlan, PlannedResource, run_offline
from idf_ops.plan.manifests import KUBERNETES_VERSION, manifests_of
from idf_ops.scale import plan as scale_plan
from idf_ops.scale import service
from idf_ops.scale.sizing import SizingInputs
from infra.config import validate_config_mapping
from infra.policy.rules import evaluate_inventory
from support.plans import OfflinePlans, with_test_images

pytestmark = pytest.mark.filterwarnings("ignore:.*has been deprecated in favor of:DeprecationWarning")

STACK = "qserv-scale75"
PREFIX = f"idf-{STACK}"
JOB = "kubernetes:batch/v1:Job"
BUCKET_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
GENERATOR_ACCOUNT = f"scale-gen-{STACK}"
BUCKET = "gcp:storage/bucket:Bucket"
STAGING = scale_staging_bucket(STACK)
SEED_PATH = f"projects/_/buckets/{DP01_STAGING_BUCKET}"


def _document() -> dict[str, Any]:
    return yaml.safe_load((STACKS_DIR / f"Pulumi.{STACK}.yaml").read_text())


def _catalog(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["config"]["idf:scale_catalog"]


def _generator(plan: OfflinePlan) -> PlannedResource:
    return plan.by_name(f"{PREFIX}-scale-catalog-job")


def _ingest(plan: OfflinePlan) -> PlannedResource:
    return plan.by_name(f"{PREFIX}-qserv-ingest-job")


def _check_completions(plan: OfflinePlan, doc: dict[str, Any]) -> None:
    """The Indexed Job has one completion per chunk of the stack file's percent, and its pods pass
    that count as --of (each index generates chunks[index::of]: exactly one chunk)."""
    percent = _catalog(doc)["percent_of_dr1"]
    chunks = len(scale_chunks(percent))
    spec = _generator(plan).inputs["spec"]
    command = spec["template"]["spec"]["containers"][0]["command"]
    assert spec["completions"] == chunks, (
        f"completions {spec['completions']} != {chunks} chunks of {percent:g} % of DR1"
    )
    assert command[command.index("--of") + 1] == str(chunks)
    assert command[command.index("--percent") + 1] == f"{percent:g}"


def test_generator_is_an_indexed_job_on_the_worker_pool(plans: OfflinePlans) -> None:
    doc = _document()
    catalog = _catalog(doc)
    job = _generator(plans[STACK])
    spec = job.inputs["spec"]
    pod = spec["template"]["spec"]
    assert spec["completionMode"] == "Indexed"
    _check_completions(plans[STACK], doc)
    assert spec["parallelism"] == catalog["parallelism"] == generator_parallelism(38, 16) == 304
    worker_pool = doc["config"]["idf:qserv"]["worker_pool"]
    assert pod["nodeSelector"] == {"cloud.google.com/gke-nodepool": pool_name(PREFIX, worker_pool)}
    assert pod["tolerations"] == [
        {"key": "idf.lsst.io/qserv", "value": "worker", "operator": "Equal", "effect": "NoSchedule"}
    ]
    command = pod["containers"][0]["command"]
    # The local command's code path; the share comes from JOB_COMPLETION_INDEX (its --index envvar).
    assert command[:3] == ["idf", "scale", "generate"] and "--index" not in command
    assert command[command.index("--out") + 1] == scale_staging_uri(STACK)
    assert command[command.index("--seed") + 1] == DP01_SEED_URI
    assert pod["serviceAccountName"] == GENERATOR_ACCOUNT
    assert job.inputs["metadata"]["annotations"] == {
        "pulumi.com/timeoutSeconds": str(int(catalog["timeout_hours"] * 3600))
    }


def test_completions_follow_the_chunk_count_of_the_stack_file(plans: OfflinePlans) -> None:
    """Another percent in the stack file gives another chunk count, and the Job follows it; the
    committed plan checked against that count is refused (completions != chunks)."""
    doc = _document()
    other = copy.deepcopy(doc)
    _catalog(other)["percent_of_dr1"] = 50.0
    plan = run_offline(STACK, document=with_test_images(other), source="test: percent 50")
    _check_completions(plan, other)
    assert len(scale_chunks(50)) != len(scale_chunks(75))
    with pytest.raises(AssertionError, match="completions"):
        _check_completions(plans[STACK], other)


def test_generator_identity_is_limited_to_its_bucket_and_the_seed(plans: OfflinePlans) -> None:
    plan = plans[STACK]
    member = f"serviceAccount:{GENERATOR_ACCOUNT}@rubin-idf-scale-test.iam.gserviceaccount.com"
    grants = {r.inputs["role"]: r for r in plan.of_type(BUCKET_MEMBER) if r.inputs["member"] == member}
    assert set(grants) == {"roles/storage.objectAdmin", "roles/storage.objectViewer"}
    admin, viewer = grants["roles/storage.objectAdmin"], grants["roles/storage.objectViewer"]
    # Write: the stack's own scratch bucket, nothing of dp01's.
    assert admin.inputs["bucket"] == STAGING != DP01_STAGING_BUCKET
    assert plan.by_name(f"{PREFIX}-scale-staging").urn in admin.dependencies
    # Read: dp01's seed prefix only, and the grant is left by a destroy (the reaper may not touch dp01).
    assert viewer.inputs["bucket"] == DP01_STAGING_BUCKET
    assert viewer.inputs["condition"]["expression"] == (
        f'resource.name.startsWith("{SEED_PATH}/objects/seed/dp01_dc2_catalogs/")'
    ), viewer.urn
    assert viewer.retain_on_delete and not admin.retain_on_delete
    # Nothing else anywhere: no project role, no other bucket, no binding.
    elsewhere = [
        r.urn
        for r in plan.resources
        if r.custom and r.inputs.get("member") == member and r.type != BUCKET_MEMBER
    ]
    assert elsewhere == []
    identity = plan.by_name(f"{PREFIX}-scale-catalog-workload-identity")
    assert (
        identity.inputs["member"]
        == f"serviceAccount:rubin-idf-scale-test.svc.id.goog[qserv/{GENERATOR_ACCOUNT}]"
    )
    ksa = plan.by_name(f"{PREFIX}-scale-catalog-ksa")
    assert ksa.inputs["metadata"]["annotations"]["iam.gke.io/gcp-service-account"] == member.split(":", 1)[1]


def test_staging_bucket_goes_with_the_stack(plans: OfflinePlans) -> None:
    """The scratch bucket is the scale project's, destroyed objects and all (no protect, force_destroy)
    and emptied by its lifecycle should a destroy fail; no scale-stack bucket is named like dp01's."""
    plan = plans[STACK]
    (bucket,) = plan.of_type(BUCKET)
    assert bucket.inputs["name"] == STAGING and bucket.inputs["project"] == "rubin-idf-scale-test"
    assert bucket.inputs["forceDestroy"] is True and not bucket.protect
    assert bucket.inputs["publicAccessPrevention"] == "enforced"
    assert bucket.inputs["uniformBucketLevelAccess"] is True
    assert bucket.inputs["lifecycleRules"] == [
        {"action": {"type": "Delete"}, "condition": {"age": SCALE_STAGING_DELETE_AFTER_DAYS}}
    ]
    assert bucket.inputs["labels"]["role"] == "scale-staging"
    assert bucket.inputs["labels"]["stack"] == STACK


def test_ingest_follows_the_generator_and_reads_its_bucket(plans: OfflinePlans) -> None:
    plan = plans[STACK]
    generator, ingest = _generator(plan), _ingest(plan)
    assert generator.urn in ingest.dependencies, "the ingest Job must be created after the generator's"
    assert generator.inputs["metadata"].get("annotations", {}).get("pulumi.com/skipAwait") is None
    assert ingest.inputs["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}
    config = plan.by_name(f"{PREFIX}-qserv-ingest-config")
    assert config.inputs["metadata"]["annotations"]["idf.lsst.io/staging-url"] == scale_staging_uri(STACK)
    metadata = json.loads(config.inputs["data"]["metadata.json"])
    chunks = scale_chunks(_catalog(_document())["percent_of_dr1"])
    for table in metadata["tables"]:
        assert [entry["chunks"] for entry in table["data"]] == [chunks], table["schema"]
    grant = plan.by_name(f"{PREFIX}-qserv-ingest-staging")
    assert grant.inputs["role"] == "roles/storage.objectViewer"
    assert grant.inputs["bucket"] == STAGING
    assert plan.by_name(f"{PREFIX}-scale-staging").urn in grant.dependencies


def test_generator_and_ingest_manifests_are_strictly_valid(plans: OfflinePlans) -> None:
    jobs = [m for m in manifests_of(plans[STACK]) if m["kind"] == "Job"]
    names = sorted(m["metadata"]["name"] for m in jobs)
    assert names[1] == "scale-catalog-generate" and names[0].startswith("qserv-ingest-")
    for manifest in jobs:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    broken = copy.deepcopy(next(m for m in jobs if m["metadata"]["name"] == "scale-catalog-generate"))
    broken["spec"]["completionsMode"] = broken["spec"].pop("completionMode")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_scale_stack_has_no_policy_violation(plans: OfflinePlans) -> None:
    violations = evaluate_inventory([r for r in plans[STACK].resources if r.custom])
    assert violations == [], "\n".join(map(str, violations))


def test_only_a_scale_stack_declares_a_scale_catalog() -> None:
    dev = yaml.safe_load((STACKS_DIR / "Pulumi.dev.yaml").read_text())
    dev["config"]["idf:scale_catalog"] = {"percent_of_dr1": 1, "parallelism": 2, "timeout_hours": 1}
    with pytest.raises(BadInput, match=r"idf:scale_catalog: only a temporary scale-test stack"):
        validate_config_mapping(dev, "stacks/Pulumi.dev.yaml", "dev")
    bad = _document()
    _catalog(bad)["seed_uri"] = "https://example.org/seed"
    with pytest.raises(BadInput, match="seed_uri"):
        validate_config_mapping(bad, "stacks/Pulumi.qserv-scale75.yaml", STACK)


def test_plan_sizes_the_generation_job_from_the_rendered_stack_file() -> None:
    plan, doc = scale_plan.plan_scale_test(
        SizingInputs(percent_of_dr1=75), load_price_table(), expires_at=datetime(2026, 12, 15, tzinfo=UTC)
    )
    job = plan.generation_job
    assert job.completions == len(scale_chunks(75)) == 3568
    assert job.parallelism == _catalog(doc)["parallelism"] == plan.sizing.generation_cores
    assert job.node_pool == doc["config"]["idf:qserv"]["worker_pool"]
    assert job.pod_hours == pytest.approx(plan.sizing.generation_hours * job.parallelism)
    assert plan.test_cost.generation_usd == pytest.approx(job.hours * plan.cost.usd_per_hour)
    assert job.timeout_hours >= job.hours


def test_plan_refuses_a_parallelism_other_than_the_model_s(monkeypatch: pytest.MonkeyPatch) -> None:
    render = scale_plan.render_stack_document

    def drifted(*args: Any, **kwargs: Any) -> dict[str, Any]:
        doc = render(*args, **kwargs)
        _catalog(doc)["parallelism"] += 1
        return doc

    monkeypatch.setattr(scale_plan, "render_stack_document", drifted)
    with pytest.raises(ValueError, match="parallelism"):
        scale_plan.plan_scale_test(
            SizingInputs(percent_of_dr1=75), load_price_table(), expires_at=datetime(2026, 12, 15, tzinfo=UTC)
        )


def test_a_pod_s_share_is_its_completion_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """`idf scale generate` (the pods' command) reads --index from JOB_COMPLETION_INDEX."""
    seen: dict[str, Any] = {}

    def generate(**kwargs: Any) -> service.Generated:
        seen.update(kwargs)
        return service.Generated(
            out=kwargs["out"],
            chunks_total=3568,
            chunks=[],
            objects_per_chunk=1,
            rows={},
            seconds=0,
            skipped=0,
        )

    monkeypatch.setattr(service, "generate_catalog", generate)
    args = ["scale", "generate", "--out", "gs://b/scale/x/", "--seed", "gs://b/seed/", "--of", "3568"]
    result = CliRunner().invoke(app, args, env={"JOB_COMPLETION_INDEX": "17"})
    assert result.exit_code == 0, result.output
    assert (seen["index"], seen["count"]) == (17, 3568)
