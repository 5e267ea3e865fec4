"""`idf tap`: the TAP service of the local stack (resource descriptor, throughput benchmark)."""

# Services are imported inside the commands: `idf --help` stays fast (CONTRIBUTING).
# ruff: noqa: PLC0415

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]

_DEFAULT_BENCH_URLS = ["http://127.0.0.1:8091/tap", "http://127.0.0.1:8080/tap"]


tap_app = typer.Typer(help="TAP service (GAVO DaCHS) of the local stack: generate the RD, benchmark cones.")


@tap_app.command("rd")
def rd_cmd(
    output: Annotated[Path, typer.Option(help="Where to write the DaCHS resource descriptor (q.rd).")],
    felis: Annotated[Path | None, typer.Option(help="Felis YAML (default: lsst-sdm-schemas DP0.1).")] = None,
    title: Annotated[str, typer.Option(help="Resource title.")] = "Rubin Data Preview 0.1 (DC2) catalogs",
    creator: Annotated[str, typer.Option(help="Resource creator.")] = "Rubin Observatory LSST",
    served_names: Annotated[
        str | None,
        typer.Option(
            help='JSON object: Felis table -> name DaCHS serves it under (default {"position": "position_"}).'
        ),
    ] = None,
) -> None:
    """Generate the DaCHS resource descriptor of the DP0.1 catalogs from their Felis YAML.

    Prints `OUTPUT: written` or `OUTPUT: unchanged` (the `tap` role reads it).
    """
    from idf_ops.tap.rd import (
        default_felis_path,
        generate_rd,
        load_felis_schema,
        parse_served_names,
        write_if_changed,
    )

    renames = parse_served_names(served_names)
    felis_path = felis or default_felis_path()
    schema = load_felis_schema(felis_path)
    changed = write_if_changed(output, generate_rd(schema, felis_path, title, creator, renames))
    typer.echo(f"{output}: {'written' if changed else 'unchanged'}")


@tap_app.command("heal")
def heal_cmd() -> None:
    """Restart DaCHS instances failing ADQL and abort async jobs orphaned by dead workers."""
    from idf_ops.tap.instances import abort_orphaned_jobs, restart_unhealthy

    restarted = restart_unhealthy()
    typer.echo(f"restarted: {', '.join(restarted)}" if restarted else "every DaCHS instance answers ADQL")
    aborted = abort_orphaned_jobs()
    typer.echo(f"aborted {len(aborted)} orphaned async job(s)" if aborted else "no orphaned async job")


@tap_app.command("probe")
def probe_cmd(
    url: Annotated[str, typer.Argument(help="TAP base URL (…/tap).")],
    query: Annotated[str | None, typer.Option(help="ADQL to run (default: the health query).")] = None,
    timeout_s: Annotated[float, typer.Option(help="Seconds to wait for the answer.")] = 10.0,
) -> None:
    """Run one sync ADQL query; exit 0 when the parsed VOTable says OK, 1 otherwise (the roles'
    health check: an HTTP 200 with QUERY_STATUS=ERROR, or an ERROR after a partial table, fails)."""
    from idf_clients.probes import TAP_HEALTH_QUERY, probe_tap

    result = probe_tap(url, query or TAP_HEALTH_QUERY, timeout_s=timeout_s)
    typer.echo(result.detail)
    if not result.ok:
        raise typer.Exit(1)


@tap_app.command("watchdog")
def watchdog_cmd(
    action: Annotated[
        str, typer.Argument(help="start (detach a run process), stop, status, or run (foreground).")
    ],
    interval_s: Annotated[float, typer.Option(help="Seconds between rounds.")] = 10.0,
) -> None:
    """The TAP watchdog: restarts DaCHS instances that fail ADQL once PostgreSQL answers, and aborts
    orphaned async jobs (log /var/log/idf-tap-watchdog.log). `status` exits 1 when it is not running."""
    from idf_ops.tap.watchdog import watchdog_action

    code = watchdog_action(action, interval_s)
    if code:
        raise typer.Exit(code)


@tap_app.command("bench")
def bench_cmd(
    url: Annotated[
        list[str] | None,
        typer.Option(help="TAP base URL to measure (repeatable; loopback only). Default: 8091 then 8080."),
    ] = None,
    clients: Annotated[int, typer.Option(help="Concurrent closed-loop clients (1-64).")] = 4,
    duration_s: Annotated[float, typer.Option(help="Seconds per URL (at most 300).")] = 10.0,
    radius_deg: Annotated[float, typer.Option(help="Cone radius in degrees.")] = 0.05,
    json_output: Annotated[bool, typer.Option("--json", help="Print the figures as JSON lines.")] = False,
) -> None:
    """Measure cone-search queries/s of one DaCHS instance and of the balancer in front of all."""
    from idf_ops.tap.bench import BenchSettings, run_benchmark

    for target in url or _DEFAULT_BENCH_URLS:
        settings = BenchSettings(url=target, clients=clients, duration_s=duration_s, radius_deg=radius_deg)
        result = run_benchmark(settings)
        if json_output:
            typer.echo(result.model_dump_json())
            continue
        typer.echo(
            f"{result.url}: {result.queries_per_s} cone searches/s with {result.clients} clients "
            f"({result.queries_ok} ok, {result.queries_failed} failed in {result.duration_s} s; "
            f"p50 {result.latency_p50_ms} ms, p95 {result.latency_p95_ms} ms; "
            f"{result.rows_returned} rows)"
        )


def register(app: typer.Typer) -> None:
    """Add the `tap` command group to `idf`."""
    app.add_typer(tap_app, name="tap")
