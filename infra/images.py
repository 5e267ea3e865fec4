"""Container images of the program: the idf-ops image it builds, and the upstream pins it checks.

**idf-ops (this repository's CLI)** is built from ``docker/idf-ops/Dockerfile`` and pushed at
``pulumi up`` by the ``pulumi-docker-build`` provider (:class:`IdfOpsImage`) into an Artifact
Registry Docker repository this component creates in the stack's project and region. Workloads
run the build's digest reference, ``<region>-docker.pkg.dev/<project>/<repo>/idf-ops@sha256:<digest>``
(:func:`idf_ops_image`): never a tag, never a constant. The base image (:data:`PYTHON_BASE_IMAGE`,
also the Butler bootstrap Job's image) and the Pulumi CLI's version are build arguments from here,
the CLI tarball checked against ``idf:images.pulumi_cli_sha256`` of the stack file when recorded,
else against the checksums file Pulumi publishes with the release on GitHub. The GKE nodes'
service account reads that one repository (:data:`NODE_REPOSITORY_ROLE`, on the repository only);
the reaper's Cloud Run job pulls through Cloud Run's service agent of the same project. The push
authenticates with the deploying person's Docker credential helper
(``gcloud auth configure-docker <region>-docker.pkg.dev``): no token is stored in the state.

**Upstream images** (Rubin's qserv/ingest, HTCondor's cm/submit/execute) cannot be resolved from
the machines that build this repository, so their digests are not in the code: each is a key of
``idf:images`` (:class:`infra.config.ImagesConfig`, ``name:tag@sha256:<64 hex>``). A stack whose
workload needs one that is not recorded gets :func:`pinned_upstream_image` -> None: the workload is
not declared, ``idf plan`` and ``pulumi preview`` warn with the file, key and command to run, and a
real ``pulumi up`` stops with that message (``pulumi.RunError``) before anything is created.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_docker_build as docker_build
import pulumi_gcp as gcp
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.settings import get_monitor

from idf_core.paths import REPO_ROOT

__all__ = [
    "IDF_OPS_DOCKERFILE",
    "IDF_OPS_IMAGE_NAME",
    "IDF_OPS_REPOSITORY_ID",
    "NODE_REPOSITORY_ROLE",
    "PULUMI_CLI_VERSION",
    "PYTHON_BASE_IMAGE",
    "UPSTREAM_IMAGES",
    "IdfOpsImage",
    "IdfOpsImageArgs",
    "digest_reference",
    "idf_ops_image",
    "is_real_deployment",
    "pinned_upstream_image",
    "unrecorded_image_message",
]

#: Docker Hub's python:3.11-slim-bookworm at a recorded digest: the idf-ops image's base and the
#: Butler bootstrap Job's image (check with `docker buildx imagetools inspect python:3.11-slim-bookworm`).
PYTHON_BASE_IMAGE = (
    "python:3.11-slim-bookworm@sha256:"
    "2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91"  # pragma: allowlist secret
)
#: The Pulumi CLI in the image (the reaper runs `pulumi destroy` through the Automation API): the
#: version of the `pulumi` SDK pyproject.toml pins (Pulumi releases both under one version).
PULUMI_CLI_VERSION = "3.272.0"
IDF_OPS_DOCKERFILE = REPO_ROOT / "docker" / "idf-ops" / "Dockerfile"
IDF_OPS_REPOSITORY_ID = "idf-ops"
IDF_OPS_IMAGE_NAME = "idf-ops"
#: What the GKE nodes' service account holds on the idf-ops repository (and on nothing else of
#: Artifact Registry: infra/iam.py's NODE_ROLES no longer grant it on the project).
NODE_REPOSITORY_ROLE = "roles/artifactregistry.reader"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")

#: `idf:images` key -> the upstream image (name:tag) it pins, the tag the code was written against.
UPSTREAM_IMAGES: dict[str, str] = {
    # Rubin's ingest workflow (lsst-dm/qserv-ingest) at a release tag.
    "qserv_ingest": "qserv/ingest:2023.1.1-rc2",
    # HTCondor's official images of the LTS series the batch bindings speak (htcondor==24.x).
    "htcondor_cm": "htcondor/cm:24.0.7-el9",
    "htcondor_submit": "htcondor/submit:24.0.7-el9",
    "htcondor_execute": "htcondor/execute:24.0.7-el9",
}


def is_real_deployment() -> bool:
    """True under `pulumi up` (not a preview, not the mock engine of `idf plan` and the tests)."""
    return not pulumi.runtime.is_dry_run() and not isinstance(get_monitor(), MockMonitor)


def unrecorded_image_message(source: str, key: str, needed_by: str) -> str:
    """What to do about an `idf:images` key a workload needs and the stack file does not set."""
    image = UPSTREAM_IMAGES.get(key)
    how = (
        f"run `docker buildx imagetools inspect {image}` and set `{key}: {image}@sha256:<digest>`"
        if image
        else f"see the description of idf:images.{key} in stacks/stack.schema.json"
    )
    return (
        f"{source}: config.idf:images.{key}: not recorded, and {needed_by} needs it; {how} under "
        "`idf:images` in that file (runbooks/pulumi.md, 'Before the first pulumi up')"
    )


def _refuse_or_warn(message: str) -> None:
    if is_real_deployment():
        raise pulumi.RunError(message)
    pulumi.log.warn(f"{message}. Not declared in this plan.")


def pinned_upstream_image(value: str | None, *, source: str, key: str, needed_by: str) -> str | None:
    """The recorded ``name:tag@sha256:...`` of an upstream image, or None (with a warning in a plan
    or preview) when the stack file does not record it; a real deployment stops instead."""
    if value is not None:
        return value
    _refuse_or_warn(unrecorded_image_message(source, key, needed_by))
    return None


def digest_reference(repository: str, digest: str) -> str:
    """``<repository>@<digest>``; ValueError unless ``digest`` is a real sha256 (not the zero one)."""
    if not _DIGEST.match(digest) or set(digest.removeprefix("sha256:")) == {"0"}:
        raise ValueError(
            f"the build of {repository} reported digest {digest!r}, not sha256:<64 hex>: the image "
            "was not pushed (docker-build `push`), so no workload may run it"
        )
    return f"{repository}@{digest}"


@dataclass(frozen=True)
class IdfOpsImageArgs:
    """Inputs of :class:`IdfOpsImage`."""

    project: str
    region: str
    labels: dict[str, str]
    version: str
    """The idf version (pyproject.toml), the pushed tag."""
    pulumi_cli_sha256: str
    """SHA-256 of the Pulumi CLI tarball (linux-x64) at :data:`PULUMI_CLI_VERSION`, or "" (the build
    then takes it from the release's published checksums file)."""
    node_service_account_email: pulumi.Input[str]


class IdfOpsImage(pulumi.ComponentResource):
    """The Artifact Registry repository, the node pools' read grant on it, and the idf-ops build."""

    repository: gcp.artifactregistry.Repository
    image: docker_build.Image
    repository_url: pulumi.Output[str]
    """``<region>-docker.pkg.dev/<project>/<repository>/idf-ops``."""

    def __init__(self, name: str, args: IdfOpsImageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("idf:images:IdfOpsImage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.repository = gcp.artifactregistry.Repository(
            f"{name}-repository",
            project=args.project,
            location=args.region,
            repository_id=IDF_OPS_REPOSITORY_ID,
            format="DOCKER",
            description="The idf-ops image (this repository's CLI), built and pushed by `pulumi up`",
            labels=args.labels,
            opts=child,
        )
        gcp.artifactregistry.RepositoryIamMember(
            f"{name}-nodes-read",
            project=args.project,
            location=args.region,
            repository=self.repository.name,
            role=NODE_REPOSITORY_ROLE,
            member=pulumi.Output.from_input(args.node_service_account_email).apply(
                lambda e: f"serviceAccount:{e}"
            ),
            opts=child,
        )
        host = f"{args.region}-docker.pkg.dev"
        self.repository_url = self.repository.repository_id.apply(
            lambda repo: f"{host}/{args.project}/{repo}/{IDF_OPS_IMAGE_NAME}"
        )
        self.image = docker_build.Image(
            f"{name}-build",
            context=docker_build.BuildContextArgs(location=str(REPO_ROOT)),
            dockerfile=docker_build.DockerfileArgs(location=str(IDF_OPS_DOCKERFILE)),
            build_args={
                "PYTHON_BASE_IMAGE": PYTHON_BASE_IMAGE,
                "PULUMI_CLI_VERSION": PULUMI_CLI_VERSION,
                "PULUMI_CLI_SHA256": args.pulumi_cli_sha256,
            },
            platforms=[docker_build.Platform.LINUX_AMD64],
            tags=[self.repository_url.apply(lambda url: f"{url}:{args.version}")],
            push=True,
            # A preview builds nothing: the push (and the digest) happens at `pulumi up`.
            build_on_preview=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.repository]),
        )
        self.register_outputs({"repository": self.repository_url, "digest": self.image.digest})


def idf_ops_image(image: IdfOpsImage) -> pulumi.Output[str]:
    """The reference every workload that runs idf code uses: the build's ``...@sha256:<digest>``."""
    return pulumi.Output.all(image.repository_url, image.image.digest).apply(
        lambda v: digest_reference(str(v[0]), str(v[1]))
    )
