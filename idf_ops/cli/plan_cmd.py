"""`idf plan`: plan stacks offline under Pulumi's mock engine (no CLI, no credentials)."""

# CONTRIBUTING: heavy imports live inside the commands (PLC0415); typer declares options as
# argument defaults (B008).
# ruff: noqa: PLC0415, B008

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the `plan` command to `idf`."""

    @app.command("plan")
    def plan(
        stacks: list[str] = typer.Argument(None, help="Stack names (dp01 ...) or stack file paths."),
        all_stacks: bool = typer.Option(False, "--all", help="Plan every stacks/Pulumi.<stack>.yaml."),
        json_file: Path | None = typer.Option(
            None,
            "--json",
            metavar="[FILE]",
            help=(
                "Also write the plan JSON (one stack): to FILE, or to stdout when no FILE or '-' is "
                "given. An object whose `resources` lists every resource with type, name and inputs."
            ),
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No inventory table, one line per stack."),
    ) -> None:
        """Run the Pulumi program under the mock engine; write plan.json, manifests.yaml and the
        stack outputs (offline_plan: true) under var/stacks/<stack>/, validate Kubernetes manifests."""
        from rich.console import Console

        from idf_core.errors import BadInput, OperationFailed
        from idf_core.paths import STACKS_DIR, state_dir
        from idf_ops.plan.engine import collector_paused, run_offline
        from idf_ops.plan.manifests import BackgroundValidator, manifests_of, write_manifests
        from idf_ops.plan.outputs import write_plan_outputs
        from idf_ops.plan.report import inventory_table

        names = list(stacks or [])
        if all_stacks:
            names += sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in STACKS_DIR.glob("Pulumi.*.yaml"))
        if not names:
            raise BadInput("idf plan: name at least one stack (e.g. `idf plan dp01`) or pass --all")
        if json_file is not None and len(names) > 1:
            raise BadInput(
                "idf plan: --json takes one stack; "
                "plans of several stacks are in var/stacks/<stack>/plan.json"
            )
        console = Console(stderr=json_file is not None and str(json_file) == "-")
        started = time.perf_counter()
        failures: list[str] = []
        with collector_paused(then_freeze=True), BackgroundValidator() as validator:
            pending = []
            for name in names:
                result = run_offline(name)
                document = result.to_json()
                out_dir = state_dir("stacks", result.stack)
                text = json.dumps(document, indent=2, sort_keys=True) + "\n"
                (out_dir / "plan.json").write_text(text)
                manifests = manifests_of(result)
                write_manifests(manifests, out_dir / "manifests.yaml")
                outputs_file = write_plan_outputs(result)
                if json_file is not None:
                    if str(json_file) == "-":
                        typer.echo(text, nl=False)
                    else:
                        json_file.write_text(text)
                if not quiet:
                    console.print(inventory_table(result))
                for warning in result.warnings:
                    console.print(f"warning: {warning}", markup=False, highlight=False)
                custom = sum(1 for r in result.resources if r.custom)
                console.print(
                    f"{result.stack}: {custom} resources, {len(manifests)} Kubernetes objects; "
                    f"{out_dir}/plan.json, manifests.yaml, {outputs_file.name} ({result.seconds:.2f} s)"
                )
                if outputs_file.name != "outputs.json":
                    console.print(
                        f"{result.stack}: outputs.json holds a live stack's outputs and was kept; "
                        f"the plan's mock outputs are in {outputs_file.name}"
                    )
                pending.append((result.stack, len(manifests), validator.submit(manifests)))
            for stack, count, future in pending:
                problems = future.result()
                status = "valid" if not problems else f"{len(problems)} problem(s)"
                console.print(
                    f"{stack}: {count} Kubernetes objects {status} "
                    "(kubernetes-validate strict; Qserv CR by its schema + pod fragments; "
                    "Argo CD and GKE custom resources by our typed models)"
                )
                failures += [f"{stack}: {p}" for p in problems]
        console.print(f"planned {len(names)} stack(s) in {time.perf_counter() - started:.2f} s")
        if failures:
            raise OperationFailed("invalid Kubernetes manifests:\n  " + "\n  ".join(failures))
