"""`idf policy`: run the guardrail policy pack (infra/policy) on stacks planned offline."""

# CONTRIBUTING: heavy imports live inside the commands (PLC0415); typer declares options as
# argument defaults (B008).
# ruff: noqa: PLC0415, B008

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the `policy` command group to `idf`."""
    policy_app = typer.Typer(help="Guardrail policies (infra/policy): no public data, private registry, ...")
    app.add_typer(policy_app, name="policy")

    @policy_app.command("list")
    def list_policies() -> None:
        """Print every policy with what it enforces."""
        from infra.policy.rules import POLICIES

        for policy in POLICIES:
            typer.echo(f"{policy.name}: {policy.description}")

    @policy_app.command("check")
    def check(
        stacks: list[str] = typer.Argument(None, help="Stack names (dp01 ...) or stack file paths."),
        all_stacks: bool = typer.Option(False, "--all", help="Check every stacks/Pulumi.<stack>.yaml."),
    ) -> int:
        """Plan each stack under the mock engine and evaluate every policy; exit 1 on a violation."""
        from idf_core.errors import BadInput
        from idf_core.paths import STACKS_DIR
        from idf_ops.plan import run_offline
        from infra.policy.rules import POLICIES, evaluate_inventory

        names = list(stacks or [])
        if all_stacks:
            names += sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in STACKS_DIR.glob("Pulumi.*.yaml"))
        if not names:
            raise BadInput(
                "idf policy check: name at least one stack (e.g. `idf policy check dp01`) or pass --all"
            )
        total = 0
        for name in names:
            plan = run_offline(name)
            custom = [r for r in plan.resources if r.custom]
            violations = evaluate_inventory(custom)
            total += len(violations)
            typer.echo(
                f"{plan.stack}: {len(custom)} resources, {len(POLICIES)} policies, "
                f"{len(violations)} violation(s)"
            )
            for violation in violations:
                typer.echo(f"  {violation}")
        return 1 if total else 0
