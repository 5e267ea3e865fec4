"""`idf loadtest run` and `collect` as services: a local Locust run, or GKE manifests and later
the summary of their run.

Local stacks run here (loopback targets only, reachability probed first). On cloud stacks the
manifests of a distributed run are validated, applied to the stack's GKE cluster with the
kubernetes client and followed (:mod:`idf_ops.loadtest.gke`); the master uploads its reports to
the stack's bucket, and the run is judged from there. `collect` turns a run's reports (a folder,
or the bucket: a gs:// URI or the newest run) into the same summary.json a local run writes.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from idf_clients.gcp import stack_credentials, stack_project
from idf_core.contract import load_outputs
from idf_core.errors import BadInput
from idf_core.paths import validate_output_dir, validate_stack_name
from idf_ops.loadtest import gke
from idf_ops.loadtest.collect import check_reports, collect_reports
from idf_ops.loadtest.manifests import render_manifests, validate_manifests, write_manifests
from idf_ops.loadtest.profiles import load_profile
from idf_ops.loadtest.provenance import collected_provenance, stack_provenance
from idf_ops.loadtest.report import RunSummary
from idf_ops.loadtest.runner import default_out_dir, run_locally
from idf_ops.loadtest.targets import build_run_config, check_reachable

__all__ = ["CollectRequest", "OfflineRunPlan", "RunRequest", "collect_run", "run_profile"]


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
    poll_s: float = Field(
        default=10.0,
        gt=0,
        title="Poll interval (s)",
        description="How often a GKE run's master Job is polled.",
    )


class OfflineRunPlan(BaseModel):
    """What an offline plan's outputs (mock values) get instead of a GKE run: validated manifests."""

    model_config = ConfigDict(extra="forbid")

    path: Path = Field(title="Manifest file", description="Multi-document YAML written.")
    documents: int = Field(title="Documents", description="Manifests in the file.")
    notes: list[str] = Field(title="Notes", description="What a live run of this stack needs or lacks.")


class CollectRequest(BaseModel):
    """A GKE run's reports (a folder, a gs:// run URI, or the newest run in the stack's bucket)."""

    model_config = ConfigDict(extra="forbid")

    profile: str = Field(title="Profile", description="Profile name or file the run was rendered for.")
    stack: str = Field(title="Stack", description="Stack the run was rendered for.")
    source: str | None = Field(
        default=None,
        title="Reports",
        description="A local folder, a gs:// run folder, or None: the newest run in the stack's bucket.",
    )
    out_dir: Path | None = Field(default=None, title="Output folder", description="None: default under var/.")


def _checked_out_dir(requested: Path | None) -> Path | None:
    """The operator's --out, checked before any work (a system directory or a file: BadInput)."""
    return validate_output_dir(requested) if requested is not None else None


def _run_on_gke(
    request: RunRequest, outputs: Any, config: Any, out_dir: Path, progress: Callable[[str], None]
) -> RunSummary | OfflineRunPlan:
    """Apply the run to the stack's cluster, follow the master, judge the reports it uploaded.
    On an offline plan (mock outputs) only render and validate the manifests."""
    profile = config.profile
    notes = []
    if outputs.offline_plan and not gke.has_reports_bucket(outputs):
        roles = " or ".join(gke.REPORTS_BUCKET_ROLES)
        uri = f"gs://<no {roles} bucket>/loadtests/{outputs.stack}/{profile.name}"
        notes.append(
            f"the outputs of {outputs.stack} name no {roles} bucket: a live run refuses to start "
            "until the stack has one (`idf:buckets`)"
        )
    else:
        uri = gke.reports_uri(outputs, profile.name, dt.datetime.now(dt.UTC))
    credentials, project = (
        (None, stack_project(outputs)) if outputs.offline_plan else stack_credentials(outputs)
    )
    if project is None:
        notes.append(
            f"the outputs of {outputs.stack} name no GCP project: the service account is a placeholder"
        )
    documents = render_manifests(
        config,
        workers=request.workers,
        image=request.image,
        reports_uri=uri,
        gcp_service_account=gke.gcp_service_account(outputs, project),
    )
    validate_manifests(documents)
    path = write_manifests(documents, out_dir)
    if outputs.offline_plan:
        return OfflineRunPlan(path=path, documents=len(documents), notes=notes)
    progress(f"{path}: {len(documents)} manifests validated; applying to cluster {outputs.cluster_name}")
    secret = gke.secret_document(config.hub_token_file, config.qserv.password_file)
    # The Secret goes to the cluster only (right after the namespace), never into the manifests file.
    to_create = [documents[0], secret, *documents[1:]] if secret else documents
    kube = gke.start_run(outputs, credentials, str(project), to_create, progress)
    deadline_s = profile.run_time_s + profile.stop_timeout_s + 900
    condition, message = gke.follow_master(kube, deadline_s, progress, poll_s=request.poll_s)
    progress(f"master job {condition}{': ' + message if message else ''}; reports in {uri}")
    return collect_run(
        CollectRequest(profile=request.profile, stack=request.stack, source=uri, out_dir=out_dir)
    )


def run_profile(request: RunRequest, progress: Callable[[str], None]) -> RunSummary | OfflineRunPlan:
    """Run the profile locally or on the stack's GKE cluster: a summary with SLO verdicts."""
    requested_out = _checked_out_dir(request.out_dir)
    profile = load_profile(request.profile)
    outputs = load_outputs(request.stack)
    config = build_run_config(profile, outputs, request.seed)
    out_dir = requested_out or default_out_dir(request.stack, profile.name)
    if outputs.kind == "gcp":
        return _run_on_gke(request, outputs, config, out_dir, progress)
    check_reachable(config, loopback_only=True)
    progress(
        f"running {profile.name} on {request.stack}: {profile.users} users, <= {profile.run_time_s} s, "
        f"{request.workers} worker(s); output in {out_dir}"
    )
    provenance = stack_provenance(outputs, profile)
    return run_locally(config, out_dir, workers=request.workers, progress=progress, provenance=provenance)


def collect_run(request: CollectRequest) -> RunSummary:
    """summary.json, latency.png and the SLO verdicts of a GKE run, from its reports."""
    validate_stack_name(request.stack)
    requested_out = _checked_out_dir(request.out_dir)
    profile = load_profile(request.profile)
    with tempfile.TemporaryDirectory(prefix="idf-loadtest-reports-") as scratch:
        source = request.source
        if source is None or source.startswith("gs://"):
            outputs = load_outputs(request.stack)
            if outputs.offline_plan:
                raise BadInput(
                    f"stack {request.stack}: its outputs are an offline plan (mock values), so no GKE run "
                    "uploaded reports; run `idf loadtest run` on the live stack, or pass --from a folder"
                )
            uri = source or gke.latest_run(outputs, profile.name)
            from_dir = gke.fetch_reports(uri, Path(scratch))
        else:
            from_dir = Path(source)
        # Checked before the output folder exists: bad reports leave no empty run folder behind.
        reports = check_reports(from_dir, profile=profile.name, stack=request.stack)
        out_dir = requested_out or default_out_dir(request.stack, profile.name)
        # The stack's data scale and this checkout's commit at collection; the profile hash is of the
        # profile the run was rendered with (carried in its run configuration).
        provenance = collected_provenance(request.stack, reports.config.profile)
        return collect_reports(reports, out_dir, provenance)
