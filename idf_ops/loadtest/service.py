"""`idf loadtest run` as a service: profile + stack outputs -> a local Locust run or GKE manifests.

Local stacks run here (loopback targets only, reachability probed first). Cloud stacks get the
manifests of a distributed run, validated offline; nothing is deployed from this machine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from idf_ops.loadtest.manifests import render_manifests, validate_manifests, write_manifests
from idf_ops.loadtest.profiles import load_profile
from idf_ops.loadtest.report import RunSummary
from idf_ops.loadtest.runner import default_out_dir, run_locally
from idf_ops.loadtest.targets import build_run_config, check_reachable
from idf_ops.stack_outputs import load_outputs

__all__ = ["ManifestPlan", "RunRequest", "run_profile"]


class RunRequest(BaseModel):
    """What the operator asked for."""

    model_config = ConfigDict(extra="forbid")

    profile: str = Field(title="Profile", description="Profile name or file.")
    stack: str = Field(title="Stack", description="Stack whose outputs give the targets.")
    workers: int = Field(
        default=1, ge=1, title="Workers", description="1: standalone; N: master + N workers."
    )
    out_dir: Path | None = Field(default=None, title="Output folder", description="None: default under var/.")
    seed: int | None = Field(default=None, title="Seed", description="Seed of query parameters.")
    image: str = Field(
        default="idf-loadtest:0.1.0", title="Image", description="Container image for GKE runs."
    )


class ManifestPlan(BaseModel):
    """What a cloud stack gets instead of a run: validated manifests and the commands to apply them."""

    model_config = ConfigDict(extra="forbid")

    path: Path = Field(title="Manifest file", description="Multi-document YAML written.")
    documents: int = Field(title="Documents", description="Manifests in the file.")
    commands: list[str] = Field(title="Commands", description="What an operator runs to start the run.")


def run_profile(request: RunRequest, progress: Callable[[str], None]) -> RunSummary | ManifestPlan:
    """Run the profile locally (a summary with verdicts) or plan it for GKE (validated manifests)."""
    profile = load_profile(request.profile)
    outputs = load_outputs(request.stack)
    config = build_run_config(profile, outputs, request.seed)
    out_dir = request.out_dir or default_out_dir(request.stack, profile.name)
    if outputs.kind == "gcp":
        documents = render_manifests(config, workers=request.workers, image=request.image)
        validate_manifests(documents)
        path = write_manifests(documents, out_dir)
        return ManifestPlan(
            path=path,
            documents=len(documents),
            commands=[
                f"gcloud container clusters get-credentials {outputs.cluster_name or '<cluster>'}",
                "kubectl -n idf-loadtest create secret generic idf-loadtest-secrets "
                "--from-file=hub-admin-token=<file> --from-file=qserv-password=<file>",
                f"kubectl apply -f {path}",
                "kubectl -n idf-loadtest logs -f job/locust-master",
            ],
        )
    check_reachable(config, loopback_only=True)
    progress(
        f"running {profile.name} on {request.stack}: {profile.users} users, <= {profile.run_time_s} s, "
        f"{request.workers} worker(s); output in {out_dir}"
    )
    return run_locally(config, out_dir, workers=request.workers, progress=progress)
