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
def rd_cmd(  # noqa: PLR0917 - one parameter per option
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
    spelling_sql: Annotated[
        Path | None,
        typer.Option(help="Also write the SQL that gives TAP_SCHEMA.columns the Felis spelling."),
    ] = None,
) -> None:
    """Generate the DaCHS resource descriptor of the DP0.1 catalogs from their Felis YAML.

    Prints `OUTPUT: written` or `OUTPUT: unchanged` (the `tap` role reads it).
    """
    from idf_ops.tap import rd

    renames = rd.parse_served_names(served_names)
    felis_path = felis or rd.default_felis_path()
    schema = rd.load_felis_schema(felis_path)
    changed = rd.write_if_changed(output, rd.generate_rd(schema, felis_path, title, creator, renames))
    if spelling_sql is not None:
        rd.write_if_changed(spelling_sql, rd.spelling_sql(schema, renames))
    typer.echo(f"{output}: {'written' if changed else 'unchanged'}")


@tap_app.command("tableset")
def tableset_cmd(
    url: Annotated[str, typer.Option(help="VOSI tables endpoint of one DaCHS instance.")],
    output: Annotated[Path, typer.Option(help="Where to write the tableset the balancer serves.")],
    served_names: Annotated[
        str | None, typer.Option(help="JSON object: Felis table -> served name (as for `idf tap rd`).")
    ] = None,
) -> None:
    """Write DaCHS' VOSI tableset with the Felis spelling of the column names (DaCHS lower-cases them).

    Prints `OUTPUT: written` or `OUTPUT: unchanged`.
    """
    from idf_clients.tap import TapClient
    from idf_core.errors import OperationFailed
    from idf_ops.tap import rd

    schema = rd.load_felis_schema(rd.default_felis_path())
    response = TapClient(url.removesuffix("/tables"), timeout_s=60).get("tables")
    if response.status_code != 200:
        raise OperationFailed(f"{url}: HTTP {response.status_code}; is the DaCHS instance up?")
    document = response.text
    text = rd.respell_tableset(document, schema, rd.parse_served_names(served_names))
    changed = rd.write_if_changed(output, text)
    typer.echo(f"{output}: {'written' if changed else 'unchanged'}")


@tap_app.command("heal")
def heal_cmd() -> None:
    """Restart (through supervisord) DaCHS instances failing ADQL, and abort async jobs orphaned by
    dead workers (sync jobs of a live instance are never aborted)."""
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


@tap_app.command("bench")
def bench_cmd(  # noqa: PLR0917 - one parameter per option
    url: Annotated[
        list[str] | None,
        typer.Option(help="TAP base URL to measure (repeatable; loopback only). Default: 8091 then 8080."),
    ] = None,
    clients: Annotated[int, typer.Option(help="Concurrent closed-loop clients (1-64).")] = 4,
    duration_s: Annotated[float, typer.Option(help="Seconds per URL (at most 300).")] = 10.0,
    radius_deg: Annotated[float, typer.Option(help="Cone radius in degrees.")] = 0.05,
    json_output: Annotated[bool, typer.Option("--json", help="Print the figures as JSON lines.")] = False,
    baseline: Annotated[
        Path | None,
        typer.Option(help="Figures of an earlier run (its --json output): print before/after and ratios."),
    ] = None,
) -> None:
    """Measure cone-search queries/s of one DaCHS instance and of the balancer in front of all.

    With two or more URLs it also prints the last URL's rate over the first's (balancer/instance).
    """
    from idf_ops.tap.bench import BenchSettings, compare_runs, load_baseline, run_benchmark, throughput_ratio

    before = load_baseline(baseline) if baseline is not None else None
    results = []
    for target in url or _DEFAULT_BENCH_URLS:
        settings = BenchSettings(url=target, clients=clients, duration_s=duration_s, radius_deg=radius_deg)
        result = run_benchmark(settings)
        results.append(result)
        if json_output:
            typer.echo(result.model_dump_json())
            continue
        typer.echo(
            f"{result.url}: {result.queries_per_s} cone searches/s with {result.clients} clients "
            f"({result.queries_ok} ok, {result.queries_failed} failed in {result.duration_s} s; "
            f"p50 {result.latency_p50_ms} ms, p95 {result.latency_p95_ms} ms; "
            f"{result.rows_returned} rows)"
        )
    if json_output:
        return
    ratio = throughput_ratio(results)
    if ratio is not None:
        typer.echo(f"balancer/instance ratio (last URL / first, this run): {ratio}")
    if before is not None:
        for line in compare_runs(before, results):
            typer.echo(line)


def register(app: typer.Typer) -> None:
    """Add the `tap` command group to `idf`."""
    app.add_typer(tap_app, name="tap")
