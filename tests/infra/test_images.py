"""The idf-ops image is built by the program and run by its digest; upstream digests are stack config.

- every workload that runs idf code (the reaper's Cloud Run job, a scale stack's generator) runs the
  docker-build Image's ``...@sha256:<digest>`` reference, never a tag or a constant;
- the Dockerfile takes its base and the Pulumi CLI from the program (one definition of each);
- an unrecorded upstream digest leaves the workload out of ``idf plan`` with a warning naming the
  stack file, the key and the command; a real deployment refuses; the all-zero digest is refused.
"""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import pulumi
import pytest
from pydantic import ValidationError

from idf_ops.plan.engine import run_offline
from infra import images
from infra.butler_bootstrap import BOOTSTRAP_PYTHON_IMAGE
from infra.config import ImagesConfig, config_mapping_from_file, resolve_stack_file
from support.plans import TEST_IMAGES, offline_plan, with_test_images

DEV = Path("stacks/Pulumi.dev.yaml")
IMAGE = "docker-build:index:Image"
DIGEST_REF = re.compile(r"^us-central1-docker\.pkg\.dev/rubin-idf-dev/idf-ops/idf-ops@sha256:[0-9a-f]{64}$")


def _build_digest() -> str:
    [build] = offline_plan("dev").of_type(IMAGE)
    tag = build.inputs["tags"][0]
    assert tag == "us-central1-docker.pkg.dev/rubin-idf-dev/idf-ops/idf-ops:0.1.0"
    return build.inputs["tags"][0]


def test_reaper_runs_the_builds_digest_reference() -> None:
    plan = offline_plan("dev")
    [job] = [r for r in plan.of_type("gcp:cloudrunv2/job:Job") if r.inputs["name"] == "idf-scale-reaper"]
    image = job.inputs["template"]["template"]["containers"][0]["image"]
    assert DIGEST_REF.match(image), image
    _build_digest()


def test_the_build_pushes_with_the_base_and_cli_of_the_program() -> None:
    [build] = offline_plan("dev").of_type(IMAGE)
    assert build.inputs["push"] is True
    assert build.inputs["buildArgs"] == {
        "PYTHON_BASE_IMAGE": images.PYTHON_BASE_IMAGE,
        "PULUMI_CLI_VERSION": images.PULUMI_CLI_VERSION,
        "PULUMI_CLI_SHA256": TEST_IMAGES["pulumi_cli_sha256"],
    }
    assert build.inputs["dockerfile"]["location"] == str(images.IDF_OPS_DOCKERFILE)
    assert version("pulumi") == images.PULUMI_CLI_VERSION, "the CLI in the image follows the SDK pin"


def test_nodes_read_the_repository_only() -> None:
    plan = offline_plan("dev")
    [grant] = plan.of_type("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember")
    assert grant.inputs["role"] == images.NODE_REPOSITORY_ROLE
    assert grant.inputs["member"].startswith("serviceAccount:gke-nodes-dev@")


def test_dockerfile_takes_its_pins_from_the_program() -> None:
    text = images.IDF_OPS_DOCKERFILE.read_text()
    froms = [line for line in text.splitlines() if line.startswith("FROM")]
    assert froms == ["FROM ${PYTHON_BASE_IMAGE}"], "the base is defined once, in infra/images.py"
    assert "sha256sum -c" in text and "-c constraints.txt" in text
    assert BOOTSTRAP_PYTHON_IMAGE == images.PYTHON_BASE_IMAGE


@pytest.mark.parametrize(
    "digest",
    ["sha256:" + "ab" * 32, "sha256:" + "0123456789abcdef" * 4],
)
def test_digest_reference(digest: str) -> None:
    assert images.digest_reference("r/x", digest) == f"r/x@{digest}"


@pytest.mark.parametrize("digest", ["", "sha256:" + "0" * 64, "sha256:abc", "latest"])
def test_digest_reference_refuses_what_is_not_a_push(digest: str) -> None:
    with pytest.raises(ValueError, match="not pushed"):
        images.digest_reference("r/x", digest)


def test_unrecorded_upstream_digests_leave_the_workloads_out_with_a_warning() -> None:
    # With the catalogs staged, so that the ingest Job needs its image (unstaged, it is left out
    # before its image is looked at: test_dp01_without_staged_catalogs_... in tests/ingest).
    document = config_mapping_from_file(resolve_stack_file("dp02"))
    document["config"]["idf:qserv"]["ingest_staged"] = True
    plan = run_offline("dp02", document, source="stacks/Pulumi.dp02.yaml")
    jobs = {r.inputs["metadata"]["name"].rsplit("-", 1)[0] for r in plan.of_type("kubernetes:batch/v1:Job")}
    assert "qserv-ingest" not in jobs
    assert not plan.of_type("kubernetes:apps/v1:StatefulSet")
    text = "\n".join(plan.warnings)
    for key in ("qserv_ingest", "htcondor_cm", "htcondor_submit", "htcondor_execute"):
        assert f"config.idf:images.{key}: not recorded" in text
    assert "stacks/Pulumi.dp02.yaml" in text
    assert "docker buildx imagetools inspect qserv/ingest:2023.1.1-rc2" in text
    recorded = offline_plan("dp02")
    assert recorded.of_type("kubernetes:apps/v1:StatefulSet") and not recorded.warnings
    ingest = [j for j in recorded.of_type("kubernetes:batch/v1:Job") if "qserv-ingest" in j.name]
    assert (
        ingest[0].inputs["spec"]["template"]["spec"]["containers"][0]["image"] == TEST_IMAGES["qserv_ingest"]
    )


def test_a_real_deployment_refuses_an_unrecorded_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "is_real_deployment", lambda: True)
    with pytest.raises(pulumi.RunError, match=r"config\.idf:images\.qserv_ingest: not recorded"):
        images.pinned_upstream_image(
            None, source="stacks/Pulumi.dp01.yaml", key="qserv_ingest", needed_by="x"
        )


def test_the_mock_engine_is_not_a_real_deployment() -> None:
    offline_plan("dev")
    assert not images.is_real_deployment()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("qserv_ingest", "qserv/ingest:2023.1.1-rc2@sha256:" + "0" * 64),
        ("qserv_ingest", "qserv/ingest:2023.1.1-rc2"),
        ("qserv_ingest", "qserv/ingest@sha256:" + "ab" * 32),
        ("htcondor_cm", "htcondor/execute:24.0.7-el9@sha256:" + "ab" * 32),
        ("pulumi_cli_sha256", "0" * 64),
    ],
)
def test_images_config_refuses_placeholders_and_wrong_names(key: str, value: str) -> None:
    with pytest.raises(ValidationError):
        ImagesConfig.model_validate({key: value})


def test_test_images_are_valid_config() -> None:
    assert ImagesConfig.model_validate(TEST_IMAGES)
    document = with_test_images(config_mapping_from_file(DEV))
    assert document["config"]["idf:images"] == TEST_IMAGES  # type: ignore[index]
