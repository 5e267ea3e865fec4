"""Renderers of a gates report: terminal table (rich), `gates.json`, JUnit XML, static HTML board.

Every renderer reads only the :class:`~idf_ops.gates.report.Report`; none runs a check. The board
is one self-contained HTML file (inline CSS, no script, no network) that a release manager opens
from disk or a CI artifact.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from rich.console import Console
from rich.table import Table

from idf_ops.gates.report import Report

__all__ = [
    "STATUS_LABELS",
    "print_table",
    "render_html",
    "render_junit",
    "summary_line",
    "verdict_lines",
    "write_all",
]

TEMPLATE_DIR = Path(__file__).parent / "templates"

STATUS_LABELS = {
    "pass": "PASS",
    "fail": "FAIL",
    "attested": "ATTESTED",
    "unattested": "NOT ATTESTED",
    "overdue": "OVERDUE",
    "offline": "OFFLINE PLAN",
}
_RICH_STYLES = {
    "pass": "bold green",
    "fail": "bold red",
    "attested": "bold blue",
    "unattested": "dim",
    "overdue": "bold yellow",
    "offline": "bold magenta",
}


def _status_text(status: str, overdue: bool = False) -> str:
    label = f"[{_RICH_STYLES[status]}]{STATUS_LABELS[status]}[/]"
    return label + (" [yellow](overdue)[/]" if overdue else "")


def print_table(report: Report, console: Console) -> None:
    """The terminal view: one row per checkpoint, one indented line per gate."""
    title = f"Readiness gates — stack {report.stack}"
    if report.offline_plan:
        title += " (offline plan: nothing live was checked)"
    table = Table(title=title, show_lines=True, expand=True)
    table.add_column("Checkpoint", min_width=24, max_width=40, ratio=2)
    table.add_column("Due", no_wrap=True, min_width=10)
    table.add_column("Team", max_width=18, ratio=1)
    table.add_column("Status", no_wrap=True, min_width=12)
    table.add_column("Evidence", ratio=5)
    for row in report.checkpoints:
        if row.gates:
            lines = [
                f"{_status_text(g.status)} {g.id} [dim]({g.duration_s:.1f}/{g.timeout_s:g} s)[/] {g.reason}"
                for g in row.gates
            ]
            evidence = "\n".join(lines)
        elif row.attestation is not None:
            a = row.attestation
            evidence = f"attested by {a.attested_by} on {a.attested_on} — {a.evidence_url}"
        else:
            evidence = f"[dim]manual: {row.manual_reason}[/]"
        table.add_row(
            f"[bold]{row.id}[/]\n[dim]{row.title}[/]",
            row.due,
            row.team,
            _status_text(row.status, row.overdue),
            evidence,
        )
    console.print(table)
    console.print(summary_line(report) + f"; as of {report.today}; {report.wall_time_s:.1f} s")
    for line in verdict_lines(report):
        console.print(line, markup=False)
    for what, labels in (("stand-ins", report.stand_ins), ("synthetic data", report.synthetic_data)):
        if labels:
            listed = "; ".join(f"{k} → {v}" for k, v in sorted(labels.items()))
            console.print(f"[dim]{what}: {listed}[/]")


def summary_line(report: Report) -> str:
    """Counts by status (they add up to the rows), then the overdue flag beside them."""
    summary = report.summary
    counts = ", ".join(f"{n} {STATUS_LABELS[s].lower()}" for s, n in summary.checkpoints.items() if n)
    return (
        f"{summary.gates_passed}/{summary.gates_total} gates passed; checkpoints by status: {counts} "
        f"(of {summary.checkpoints_total}); due-date flag: {summary.overdue} overdue"
    )


def verdict_lines(report: Report) -> list[str]:
    """The two verdicts: automated gates, then readiness (gates and attestations)."""
    gates = (
        "automated gates: GREEN (every required gate passed)"
        if report.ok
        else f"automated gates: NOT GREEN ({report.summary.required_gates_failed} required not passing)"
    )
    if report.ready:
        ready = "milestones: READY (gates green, every manual checkpoint attested)"
    else:
        missing = ", ".join(report.missing_attestations) or "none"
        ready = f"milestones: NOT READY (missing attestations: {missing})"
    return [gates, ready]


def render_junit(report: Report) -> str:
    """JUnit XML: one testsuite per checkpoint, one testcase per gate; manual rows are skipped cases."""
    suites = ET.Element(
        "testsuites",
        name=f"idf gates {report.stack}",
        tests=str(report.summary.gates_total),
        failures=str(report.summary.required_gates_failed),
        time=f"{report.wall_time_s:.3f}",
    )
    for row in report.checkpoints:
        failures = sum(g.status != "pass" for g in row.gates)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"{row.id} {row.title}",
            tests=str(max(1, len(row.gates))),
            failures=str(failures),
            skipped="0" if row.gates else "1",
            timestamp=report.generated_at.isoformat(),
        )
        for gate in row.gates:
            case = ET.SubElement(
                suite, "testcase", classname=f"gates.{report.stack}.{row.id}", name=gate.id,
                time=f"{gate.duration_s:.3f}",
            )  # fmt: skip
            if gate.status != "pass":
                failure = ET.SubElement(case, "failure", message=gate.reason, type=gate.status)
                failure.text = "\n".join(gate.evidence)
            else:
                ET.SubElement(case, "system-out").text = "\n".join([gate.reason, *gate.evidence])
        if not row.gates:
            case = ET.SubElement(suite, "testcase", classname=f"gates.{report.stack}.{row.id}", name="manual")
            if row.attestation is not None:
                a = row.attestation
                message = f"manual: attested by {a.attested_by} on {a.attested_on}"
            else:
                message = f"manual, not attested: {row.manual_reason}"
            ET.SubElement(case, "skipped", message=message)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def render_html(report: Report) -> str:
    """The static status board."""
    import jinja2  # noqa: PLC0415 (only the board needs it)

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("board.html.j2").render(report=report, labels=STATUS_LABELS)


def write_all(report: Report, out_dir: Path) -> dict[str, Path]:
    """Write gates.json, junit.xml and index.html into `out_dir`; return kind -> path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out_dir / "gates.json",
        "junit": out_dir / "junit.xml",
        "html": out_dir / "index.html",
    }
    contents = {
        "json": report.model_dump_json(indent=2) + "\n",
        "junit": render_junit(report),
        "html": render_html(report),
    }
    for kind, path in paths.items():
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(contents[kind])
        tmp.replace(path)
    return paths
