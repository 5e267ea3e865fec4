"""`idf gates`: readiness gates of the DP0 milestones and their status board."""

# Services and rich are imported inside the commands: `idf --help` stays fast (CONTRIBUTING).
# ruff: noqa: PLC0415

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Annotated, Any

import typer

from idf_core.errors import BadInput, OperationFailed

__all__ = ["register"]


def _parse_today(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise BadInput(f"--today {value!r}: not a date; give YYYY-MM-DD (e.g. 2021-04-01).") from exc


def _not_ready(report: Any, stack: str, *, require_attestations: bool) -> list[str]:
    """What makes the run exit 1: failing required gates, and missing attestations if required."""
    problems = []
    if not report.ok:
        failed = report.summary.required_gates_failed
        problems.append(f"{failed} required gate(s) of stack {stack!r} did not pass")
    if require_attestations and report.missing_attestations:
        problems.append(
            f"{len(report.missing_attestations)} attestation(s) missing: "
            f"{', '.join(report.missing_attestations)} "
            "(sign with `idf gates attest CHECKPOINT --by ... --evidence URL`)"
        )
    return problems


def register(app: typer.Typer) -> None:
    """Add the `gates` command group to `idf`."""
    gates_app = typer.Typer(
        help="Readiness gates of the DP0 milestones (milestones/registry.yaml) and their status board."
    )
    app.add_typer(gates_app, name="gates")

    @gates_app.command("check")
    def check(
        milestones: Annotated[
            list[str] | None,
            typer.Argument(help="Milestone ids (L2-DP-0010, TL-QSERV-SCALE-TEST, ...); all when omitted."),
        ] = None,
        *,
        stack: Annotated[str, typer.Option(help="Stack whose outputs to check (local, dev, dp01, ...).")],
        out: Annotated[
            Path | None,
            typer.Option(help="Output directory (default var/gates/<stack>/)."),
        ] = None,
        today: Annotated[
            str | None, typer.Option(help="Date statuses are computed for, YYYY-MM-DD (default today, UTC).")
        ] = None,
        max_loadtest_age_hours: Annotated[
            float | None,
            typer.Option(min=0.001, help="Override every load-test gate's maximum summary age (hours)."),
        ] = None,
        registry: Annotated[
            Path | None, typer.Option(help="Registry YAML (default milestones/registry.yaml).")
        ] = None,
        attestations: Annotated[
            Path | None, typer.Option(help="Attestations YAML (default milestones/attestations.yaml).")
        ] = None,
        require_attestations: Annotated[
            bool,
            typer.Option(
                "--require-attestations",
                help="Release check: also exit 1 while a manual checkpoint of the selection is not attested.",
            ),
        ] = False,
    ) -> None:
        """Run the gates concurrently, print the table, write the board; exit 1 if a required gate fails
        (or, with --require-attestations, if the selection is not READY)."""
        from rich.console import Console

        from idf_core.paths import state_dir, validate_output_dir, validate_stack_name
        from idf_ops.gates import registry as registry_mod
        from idf_ops.gates.render import print_table, write_all
        from idf_ops.gates.service import check_gates

        when = _parse_today(today)
        validate_stack_name(stack)
        if out is not None:  # refused before the gates run, not after
            out = validate_output_dir(out)
        # Library errors are the gates' evidence (reported per gate); the Butler would also log the
        # refused write that butler-write-refused provokes on purpose, which reads like a crash.
        logging.getLogger("lsst.daf.butler").setLevel(logging.CRITICAL)
        console = Console()
        if not console.is_terminal:
            # Piped or in CI: rich would assume 80 columns and squeeze the evidence column.
            console = Console(width=180)
        progress = Console(stderr=True)
        done: list[str] = []

        with progress.status("running gates…") as status:

            def on_done(checkpoint_id: str, result: object) -> None:
                done.append(checkpoint_id)
                status.update(f"running gates… {len(done)} done (last: {checkpoint_id})")

            report = check_gates(
                stack,
                list(milestones or []),
                today=when,
                max_loadtest_age_hours=max_loadtest_age_hours,
                registry_path=registry or registry_mod.REGISTRY_PATH,
                attestations_path=attestations or registry_mod.ATTESTATIONS_PATH,
                on_done=on_done,
            )
        print_table(report, console)
        out_dir = out if out is not None else state_dir("gates", report.stack)
        paths = write_all(report, out_dir)
        console.print(f"board: {paths['html']}  json: {paths['json']}  junit: {paths['junit']}")
        problems = _not_ready(report, stack, require_attestations=require_attestations)
        if problems:
            raise OperationFailed(f"NOT READY: {'; '.join(problems)}; evidence in {paths['html']}")

    _register_attest(gates_app)

    @gates_app.command("schema")
    def schema() -> None:
        """Export the JSON Schemas of the registry and attestation files into milestones/."""
        from idf_ops.gates.registry import export_schemas

        for path in export_schemas():
            typer.echo(f"wrote {path}")

    @gates_app.command("list")
    def list_checkpoints() -> None:
        """List the registry's checkpoints and their gates (validates the registry and attestations)."""
        from idf_ops.gates.registry import load_attestations, load_registry

        reg = load_registry()
        attested = load_attestations(reg)
        for checkpoint in reg.checkpoints:
            if checkpoint.gates:
                what = ", ".join(f"{g.id} ({g.timeout_s:g} s)" for g in checkpoint.gates)
            else:
                what = "manual" + (" (attested)" if checkpoint.id in attested else "")
            typer.echo(f"{checkpoint.id:26} {checkpoint.due_label:10}  {what}")


def _register_attest(gates_app: typer.Typer) -> None:
    """Add `idf gates attest`."""

    @gates_app.command("attest")
    def attest(
        checkpoint: Annotated[str, typer.Argument(help="Manual checkpoint id (L3-CE-0020, TL-...).")],
        *,
        by: Annotated[str, typer.Option(help="Who attests: name and role.")],
        evidence: Annotated[
            str | None, typer.Option(help="URL of the evidence (Jira issue, document, announcement).")
        ] = None,
        on: Annotated[
            str | None,
            typer.Option(help="Date it was met, YYYY-MM-DD (default today, UTC; not in the future)."),
        ] = None,
        note: Annotated[str | None, typer.Option(help="Optional remark.")] = None,
        attestations: Annotated[
            Path | None, typer.Option(help="Attestations YAML (default milestones/attestations.yaml).")
        ] = None,
        registry: Annotated[
            Path | None, typer.Option(help="Registry YAML (default milestones/registry.yaml).")
        ] = None,
    ) -> None:
        """Append a validated attestation (who, when, evidence URL, commit) of a manual checkpoint."""
        from idf_ops.gates import registry as registry_mod
        from idf_ops.gates.attest import attest as attest_checkpoint

        try:
            when = dt.date.fromisoformat(on) if on is not None else None
        except ValueError as exc:
            raise BadInput(f"--on {on!r}: not a date; give YYYY-MM-DD.") from exc
        path = attestations or registry_mod.ATTESTATIONS_PATH
        entry = attest_checkpoint(
            checkpoint,
            by=by,
            evidence_url=evidence,
            on=when,
            note=note,
            registry_path=registry or registry_mod.REGISTRY_PATH,
            attestations_path=path,
        )
        typer.echo(
            f"attested {entry.checkpoint} by {entry.attested_by} on {entry.attested_on} "
            f"(commit {entry.repository_commit[:12]}) in {path}"
        )
