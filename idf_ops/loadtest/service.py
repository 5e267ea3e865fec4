"""`idf loadtest run` and `collect` as services: a local Locust run, or GKE manifests and later
the summary of their run.

Local stacks run here (loopback targets only, reachability probed first). Cloud stacks get the
manifests of a distributed run, validated offline, and the commands that deploy it and copy the
master's reports back; nothing is deployed from this machine. `collect` turns those copied
reports into the same summary.json a local run writes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from idf_core.contract import load_outputs
from idf_core.paths import validate_output_dir, validate_stack_name
from idf_ops.loadtest.collect import check_reports, collect_reports
from idf_ops.loadtest.manifests import (
    EXIT_CODE_FILE,
    MASTER_SELECTOR,
    NAMESPACE,
    REPORTS_DIR,
    render_manifests,
    validate_manifests,
    write_manifests,
)
from idf_ops.loadtest.profiles import load_profile
from idf_ops.loadtest.provenance import collected_provenance, stack_provenance
from idf_ops.loadtest.report import RunSummary
from idf_ops.loadtest.runner import default_out_dir, run_locally
from idf_ops.loadtest.targets import build_run_config, check_reachable

__all__ = ["CollectRequest", "ManifestPlan", "RunRequest", "collect_run", "run_profile"]


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
    commands: list[str] = Field(
        title="Commands",
        description="What an operator runs to start the run, fetch the master's reports and collect them.",
    )


class CollectRequest(BaseModel):
    """Reports copied from a GKE run's master, to be turned into summary.json."""

    model_config = ConfigDict(extra="forbid")

    profile: str = Field(title="Profile", description="Profile name or file the run was rendered for.")
    stack: str = Field(title="Stack", description="Stack the run was rendered for.")
    from_dir: Path = Field(title="Reports folder", description="The master's reports folder, copied here.")
    out_dir: Path | None = Field(default=None, title="Output folder", description="None: default under var/.")


def _checked_out_dir(requested: Path | None) -> Path | None:
    """The operator's --out, checked before any work (a system directory or a file: BadInput)."""
    return validate_output_dir(requested) if requested is not None else None


def run_profile(request: RunRequest, progress: Callable[[str], None]) -> RunSummary | ManifestPlan:
    """Run the profile locally (a summary with verdicts) or plan it for GKE (validated manifests)."""
    requested_out = _checked_out_dir(request.out_dir)
    profile = load_profile(request.profile)
    outputs = load_outputs(request.stack)
    config = build_run_config(profile, outputs, request.seed)
    out_dir = requested_out or default_out_dir(request.stack, profile.name)
    if outputs.kind == "gcp":
        documents = render_manifests(config, workers=request.workers, image=request.image)
        validate_manifests(documents)
        path = write_manifests(documents, out_dir)
        reports = out_dir / "gke-reports"
        kubectl = f"kubectl -n {NAMESPACE}"
        wait_minutes = -(-(profile.run_time_s + profile.stop_timeout_s + 600) // 60)
        return ManifestPlan(
            path=path,
            documents=len(documents),
            commands=[
                f"gcloud container clusters get-credentials {outputs.cluster_name or '<cluster>'}",
                f"{kubectl} create secret generic idf-loadtest-secrets "
                "--from-file=hub-admin-token=<file> --from-file=qserv-password=<file>",
                f"kubectl apply -f {path}",
                f"POD=$({kubectl} get pods -l {MASTER_SELECTOR} -o jsonpath='{{.items[0].metadata.name}}')",
                # The master writes the exit-code file after Locust exits, then keeps the reports a while.
                # Bounded wait: the run's length plus its stop timeout and 10 min of start-up.
                f"for minute in $(seq {wait_minutes}); do "
                f'{kubectl} exec "$POD" -- test -f {REPORTS_DIR}/{EXIT_CODE_FILE} && break; sleep 60; done',
                f'{kubectl} exec "$POD" -- test -f {REPORTS_DIR}/{EXIT_CODE_FILE} || '
                f'echo "no reports after {wait_minutes} min: see {kubectl} logs $POD"',
                f'{kubectl} cp "$POD":{REPORTS_DIR} {reports}',
                f"idf loadtest collect {request.profile} --stack {request.stack} --from {reports}",
                f"kubectl delete namespace {NAMESPACE}",
            ],
        )
    check_reachable(config, loopback_only=True)
    progress(
        f"running {profile.name} on {request.stack}: {profile.users} users, <= {profile.run_time_s} s, "
        f"{request.workers} worker(s); output in {out_dir}"
    )
    provenance = stack_provenance(outputs, profile)
    return run_locally(config, out_dir, workers=request.workers, progress=progress, provenance=provenance)


def collect_run(request: CollectRequest) -> RunSummary:
    """summary.json, latency.png and the SLO verdicts of a GKE run, from its copied reports."""
    validate_stack_name(request.stack)
    requested_out = _checked_out_dir(request.out_dir)
    profile = load_profile(request.profile)
    # Checked before the output folder exists: bad reports leave no empty run folder behind.
    reports = check_reports(request.from_dir, profile=profile.name, stack=request.stack)
    out_dir = requested_out or default_out_dir(request.stack, profile.name)
    # The stack's data scale and this checkout's commit at collection; the profile hash is of the
    # profile the run was rendered with (carried in its run configuration).
    provenance = collected_provenance(request.stack, reports.config.profile)
    return collect_reports(reports, out_dir, provenance)
