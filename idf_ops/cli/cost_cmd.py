"""`idf cost`: a stack's monthly estimate by resource, and the DMTN-125 reproduction."""

# Services are imported inside the command: `idf --help` stays fast (CONTRIBUTING).
# ruff: noqa: PLC0415

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from idf_core.errors import BadInput

if TYPE_CHECKING:
    from idf_ops.cost.external import StorageComparison

__all__ = ["register"]


def _bucket_sizes(values: list[str]) -> dict[str, float]:
    sizes: dict[str, float] = {}
    for value in values:
        role, sep, gb = value.partition("=")
        try:
            sizes[role] = float(gb)
        except ValueError:
            sep = ""
        if not sep or not role or sizes.get(role, -1) < 0:
            raise BadInput(
                f"--bucket-gb {value!r}: write ROLE=GB with GB >= 0, e.g. --bucket-gb butler_datastore=50000"
            )
    return sizes


def _print_comparison(c: StorageComparison) -> None:
    """The --storage-at s3-external block: both options, both stack totals, the break-even rate."""
    typer.echo(
        f"lesser-used collections: {c.lesser_used_gb:,.0f} GB in {c.lesser_used_files:,} files, "
        f"{100 * c.access_share_per_month:g} % read per month"
    )
    typer.echo(
        f"  in GCS            : ${c.gcs_usd_per_month:11,.2f}/month  stack total "
        f"${c.stack_total_gcs_usd_per_month:11,.2f}/month"
    )
    typer.echo(
        f"  in S3 ({c.profile:<11}): ${c.external_usd_per_month:11,.2f}/month  stack total "
        f"${c.stack_total_external_usd_per_month:11,.2f}/month"
    )
    if c.break_even_share_per_month is None:
        typer.echo(f"  break-even: none, {c.cheaper_below_break_even} is cheaper at every access rate")
    else:
        other = "gcs" if c.cheaper_below_break_even == "external" else "external"
        typer.echo(
            f"  break-even access rate: {100 * c.break_even_share_per_month:.1f} % of the volume "
            f"read per month ({c.cheaper_below_break_even} cheaper below, {other} above)"
        )
    for note in c.notes:
        typer.echo(f"  {note}")


def register(app: typer.Typer) -> None:
    """Add the `cost` command to `idf`."""

    @app.command("cost")
    def cost(  # noqa: PLR0912, PLR0917 -- typer maps each parameter to an option; one flow per mode
        stack: Annotated[
            str | None, typer.Argument(help="Stack name (dev, dp01, dp02, qserv-scale75) or stack file path.")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the estimate as JSON.")] = False,
        nodes_at: Annotated[
            str, typer.Option("--nodes-at", help="Bill node pools at their min or max node count.")
        ] = "min",
        bucket_gb: Annotated[
            list[str] | None,
            typer.Option("--bucket-gb", help="Data held by a bucket role, ROLE=GB (repeatable)."),
        ] = None,
        egress_gb: Annotated[
            float, typer.Option("--egress-gb", min=0, help="Internet egress, GB per month.")
        ] = 0.0,
        storage_at: Annotated[
            str,
            typer.Option(
                "--storage-at",
                help="gcs (default), or s3-external: also compare keeping the lesser-used collections "
                "in an external S3 store (seed 2.3) with GCS.",
            ),
        ] = "gcs",
        access_percent: Annotated[
            float,
            typer.Option(min=0, max=1000, help="With --storage-at s3-external: % of them read per month."),
        ] = 10.0,
        external_profile: Annotated[
            str | None,
            typer.Option(help="Price profile of the external store (data/prices/s3-external.yaml)."),
        ] = None,
        reproduce_dmtn125: Annotated[
            bool,
            typer.Option("--reproduce-dmtn125", help="Compare the model with DMTN-125's measured LSP test."),
        ] = False,
    ) -> None:
        """Monthly cost estimate of a stack at list prices (data/prices/), broken down by resource."""
        from idf_ops.cost.prices import load_price_table

        prices = load_price_table()
        if reproduce_dmtn125:
            from idf_ops.cost.dmtn125 import compare_dmtn125

            cmp = compare_dmtn125(prices)
            if as_json:
                typer.echo(cmp.model_dump_json(indent=2))
                return
            typer.echo("DMTN-125 LSP test (31 users, 2 h; charges for the day) vs the cost model:")
            for key, measured in cmp.measured_usd.items():
                typer.echo(
                    f"  {key:<10} measured ${measured:7.2f}  model ${cmp.modelled_usd[key]:7.2f}  "
                    f"{cmp.difference_percent[key]:+6.1f}%"
                )
            typer.echo(
                f"  {'total':<10} measured ${cmp.measured_total_usd:7.2f}  "
                f"model ${cmp.modelled_total_usd:7.2f}  "
                f"{cmp.total_difference_percent:+6.1f}%"
            )
            typer.echo(
                f"  memory/compute ratio: measured {cmp.memory_to_compute_ratio_measured:.4f}, "
                f"list rates {cmp.memory_to_compute_ratio_modelled:.4f}"
            )
            typer.echo("  assumed shape: " + "; ".join(cmp.assumptions))
            return
        if stack is None:
            raise BadInput("STACK is required (e.g. `idf cost dp01`), or pass --reproduce-dmtn125")
        if storage_at not in ("gcs", "s3-external"):
            raise BadInput(f"--storage-at {storage_at!r}: use gcs or s3-external")
        if nodes_at not in ("min", "max"):
            raise BadInput(f"--nodes-at {nodes_at!r}: use min or max")
        at: Literal["min", "max"] = "min" if nodes_at == "min" else "max"

        from idf_ops.cost.estimate import estimate_cost
        from idf_ops.cost.inventory import inventory_from_stack
        from infra.config import load_stack_file, resolve_stack_file

        cfg = load_stack_file(resolve_stack_file(stack))
        inventory = inventory_from_stack(
            cfg, nodes_at=at, bucket_gb=_bucket_sizes(bucket_gb or []), internet_egress_gb_per_month=egress_gb
        )
        estimate = estimate_cost(inventory, prices)
        comparison = None
        if storage_at == "s3-external":
            from idf_ops.cost.external import compare_storage

            comparison = compare_storage(
                cfg,
                prices,
                estimate.usd_per_month,
                access_share_per_month=access_percent / 100,
                profile_name=external_profile,
            )
        if as_json:
            if comparison is None:
                typer.echo(estimate.model_dump_json(indent=2))
            else:
                typer.echo(
                    json.dumps(
                        {
                            "estimate": estimate.model_dump(mode="json"),
                            "storage_at": comparison.model_dump(mode="json"),
                        },
                        indent=2,
                    )
                )
            return
        typer.echo(f"{estimate.stack}: {estimate.price_table}")
        typer.echo(f"  {'resource':<22} {'category':<11} {'$/month':>11} {'$/hour':>9}  detail")
        for line in estimate.lines:
            typer.echo(
                f"  {line.resource:<22} {line.category:<11} {line.usd_per_month:11,.2f} "
                f"{line.usd_per_hour:9.3f}  {line.detail}"
            )
        typer.echo(f"  {'TOTAL':<34} {estimate.usd_per_month:11,.2f} {estimate.usd_per_hour:9.3f}")
        for category, usd in sorted(estimate.by_category_usd_per_month.items(), key=lambda kv: -kv[1]):
            typer.echo(f"    {category:<12} ${usd:,.2f}/month")
        for assumption in estimate.assumptions:
            typer.echo(f"  assumed: {assumption}")
        if estimate.unsourced_prices:
            typer.echo(f"  prices to re-check (unsourced): {', '.join(estimate.unsourced_prices)}")
        if comparison is not None:
            _print_comparison(comparison)
