"""`idf loadtest`: list profiles, run one, collect a GKE run's reports; SLO verdicts are the exit code."""

from __future__ import annotations

# ruff: noqa: PLC0415 - heavy imports stay inside commands so that `idf --help` answers at once
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from idf_ops.loadtest.report import RunSummary

__all__ = ["register"]


def _print_summary(result: RunSummary) -> int:
    """The per-kind table, the SLO verdicts and the verdict; the exit code (1 when an SLO failed)."""
    for kind in result.request_kinds:
        typer.echo(
            f"{kind.kind:<34} {kind.count:>6} req {kind.failures:>5} fail  p50 {kind.p50_ms:>7.0f} ms  "
            f"p95 {kind.p95_ms:>7.0f} ms  p99 {kind.p99_ms:>7.0f} ms  {kind.requests_per_s:>7.2f} req/s"
        )
    for verdict in result.slos:
        line = f"SLO {verdict.kind}: {verdict.verdict}"
        for check in verdict.breaches():
            line += f"\n    {check.kind} {check.metric} = {check.actual:g} (limit {check.threshold:g})"
        typer.echo(line)
    locust = result.locust
    if locust.cpu_seconds is None or locust.cpu_share_of_machine is None:
        typer.echo(
            f"locust exit code {locust.exit_code}; its CPU was not measured (collected from "
            f"{result.collected_from or 'another machine'})"
        )
    else:
        typer.echo(
            f"locust CPU {locust.cpu_seconds:.1f} s = {locust.cpu_share_of_machine:.1%} "
            f"of {locust.cores} cores"
        )
    typer.echo(f"verdict: {result.verdict}  ({result.output_dir}/summary.json)")
    if result.verdict == "fail":
        typer.echo(f"failed SLOs: {', '.join(result.failed_slos)}", err=True)
        return 1
    return 0


def register(app: typer.Typer) -> None:
    """Add the `loadtest` command group to `idf`."""
    loadtest_app = typer.Typer(
        help="Locust load tests of TAP, Qserv and the Science Platform, with SLO verdicts."
    )
    app.add_typer(loadtest_app, name="loadtest")

    @loadtest_app.command("list")
    def list_command() -> None:
        """List the profiles in loadtests/profiles/ with their bounds."""
        from idf_ops.loadtest.profiles import list_profiles

        for profile in list_profiles():
            classes = ", ".join(entry.user_class for entry in profile.user_classes)
            typer.echo(
                f"{profile.name:<24} {profile.users:>4} users  {profile.run_time_s:>5} s  "
                f"[{classes}]\n{'':<26}{profile.description}"
            )

    @loadtest_app.command("run")
    def run_command(  # noqa: PLR0917 - typer maps each parameter to an option
        profile: Annotated[str, typer.Argument(metavar="PROFILE", help="Profile name or file.")],
        stack: Annotated[str, typer.Option("--stack", help="Stack whose outputs give the targets.")],
        workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="1, or master + N.")] = 1,
        out: Annotated[Path | None, typer.Option("--out", help="Output folder (default under var/).")] = None,
        seed: Annotated[int | None, typer.Option("--seed", help="Seed of query parameters.")] = None,
        image: Annotated[str, typer.Option("--image", help="Image for GKE runs.")] = "idf-loadtest:0.1.0",
    ) -> int:
        """Run PROFILE against STACK; exit 0 when every SLO holds, 1 when one fails.

        Exit 2 on bad input. A local STACK runs here. A gcp STACK runs on its GKE
        cluster: the validated master/worker manifests are applied with the
        kubernetes client (Application Default Credentials), the master Job is
        followed, and the reports it uploads to the stack's bucket are judged.
        On an offline plan (`idf plan`) the manifests are only written and
        validated (exit 0).
        """
        from idf_ops.loadtest.service import OfflineRunPlan, RunRequest, run_profile

        request = RunRequest(
            profile=profile, stack=stack, workers=workers, out_dir=out, seed=seed, image=image
        )
        result = run_profile(request, progress=lambda line: typer.echo(line, err=True))
        if isinstance(result, OfflineRunPlan):
            typer.echo(
                f"{result.path}: {result.documents} Kubernetes manifests, validated (kubernetes-validate, "
                f"strict). The outputs of {stack} are an offline plan (mock values): nothing was applied "
                "and no SLO was judged. On the live stack this command applies them, follows the run "
                f"and judges it; `idf loadtest collect {profile} --stack {stack}` judges it again."
            )
            for note in result.notes:
                typer.echo(f"note: {note}")
            return 0
        return _print_summary(result)

    @loadtest_app.command("collect")
    def collect_command(
        profile: Annotated[str, typer.Argument(metavar="PROFILE", help="Profile name or file of the run.")],
        stack: Annotated[str, typer.Option("--stack", help="Stack the run was rendered for.")],
        from_source: Annotated[
            str | None,
            typer.Option(
                "--from",
                help="The run's reports: a folder, or a gs:// run folder (default: the newest run in "
                "the stack's bucket).",
            ),
        ] = None,
        out: Annotated[Path | None, typer.Option("--out", help="Output folder (default under var/).")] = None,
    ) -> int:
        """Judge a GKE run from its master's reports, read from the stack's bucket.

        Writes summary.json (SLO verdicts) and latency.png to --out, by default
        var/loadtests/STACK/PROFILE/<UTC time>/ where the gates look. Exit 0 when
        every SLO holds, 1 when one fails (named), 2 when the reports are missing
        or unreadable, or are of another profile/stack.
        """
        from idf_ops.loadtest.service import CollectRequest, collect_run

        result = collect_run(CollectRequest(profile=profile, stack=stack, source=from_source, out_dir=out))
        return _print_summary(result)
