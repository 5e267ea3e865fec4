"""Query sets: the ADQL/SQL templates of ``loadtests/data/`` and how their parameters are drawn.

Like mobu's TAP query sets, a template is text with named placeholders filled per request:
``{ra}``/``{dec}`` (a random point of the DC2 area), ``{radius_deg}`` (uniform in the template's
``radius_deg`` range), ``{ra_min}``..``{dec_max}`` (a box of side ``box_side_deg`` around the point),
``{object_id}`` and ``{object_ids}`` (ids sampled once per process from the service itself). A
template also says which row counts are right, so responses are checked, not only their status.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from idf_core.facts import TAP_SCHEMA, TAP_SERVED_RENAMES, served_table

__all__ = [
    "DATA_DIR",
    "Area",
    "CellSet",
    "NotebookCell",
    "QuerySet",
    "QueryTemplate",
    "RenderedQuery",
    "adapt_adql",
    "load_cell_set",
    "load_query_set",
    "render",
]

# How a TAP service spells the DP0.1 identifiers. `rubin`: Rubin's TAP (the table `"position"`);
# `dachs`: the local DaCHS stack, which serves `position` as `position_` (DaCHS 2.7 refuses ADQL
# reserved words as table names; ansible/roles/tap/README.md). Column names are case-blind on both.
TapDialect = Literal["rubin", "dachs"]
DACHS_TABLE_RENAMES = {
    f'{TAP_SCHEMA}."{table}"': served_table(table, dachs=True) for table in TAP_SERVED_RENAMES
}


def adapt_adql(text: str, dialect: TapDialect) -> str:
    """Spell a portable ADQL query the way the target TAP service needs it."""
    if dialect == "rubin":
        return text
    for portable, served in DACHS_TABLE_RENAMES.items():
        text = text.replace(portable, served)
    return text


DATA_DIR = Path(__file__).resolve().parent / "data"

Dialect = Literal["adql", "qserv", "mariadb-standin"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Area(_Model):
    """The sky area positions are drawn from (DC2: RA 50-75 deg, Dec -45 to -27 deg)."""

    ra_min_deg: float = Field(ge=0, le=360, title="RA min (deg)", description="Lower RA bound.")
    ra_max_deg: float = Field(ge=0, le=360, title="RA max (deg)", description="Upper RA bound.")
    dec_min_deg: float = Field(ge=-90, le=90, title="Dec min (deg)", description="Lower Dec bound.")
    dec_max_deg: float = Field(ge=-90, le=90, title="Dec max (deg)", description="Upper Dec bound.")

    @model_validator(mode="after")
    def _ordered(self) -> Area:
        if self.ra_max_deg <= self.ra_min_deg or self.dec_max_deg <= self.dec_min_deg:
            raise ValueError("area bounds must satisfy min < max")
        return self


class QueryTemplate(_Model):
    """One kind of query: its Locust name, weight, text per dialect and expected row counts."""

    kind: str = Field(pattern=r"^[a-z0-9_.-]+$", title="Kind", description="Stable Locust request name.")
    weight: int = Field(default=1, ge=1, title="Weight", description="Relative frequency within its set.")
    text: dict[Dialect, str] = Field(
        min_length=1,
        title="Query text",
        description="Template per dialect (adql for TAP; qserv/mariadb-standin for SQL).",
    )
    radius_deg: tuple[float, float] | None = Field(
        default=None, title="Radius range (deg)", description="Cone radius drawn uniformly from [min, max]."
    )
    box_side_deg: float | None = Field(
        default=None, gt=0, title="Box side (deg)", description="Side of the box around the random point."
    )
    object_id_count: int | None = Field(
        default=None,
        ge=1,
        title="Object ids per query",
        description="How many sampled ids fill {object_ids}.",
    )
    rows_exact: int | Literal["object_id_count"] | None = Field(
        default=None, title="Exact rows", description="Rows a correct answer has (or one per id)."
    )
    rows_min: int | None = Field(default=None, ge=0, title="Min rows", description="Fewest rows accepted.")
    rows_max: int | None = Field(default=None, ge=0, title="Max rows", description="Most rows accepted.")


class QuerySet(_Model):
    """A file of ``loadtests/data/``: the area and the templates of one service."""

    description: str = Field(title="Description", description="What the set exercises.")
    area: Area = Field(title="Area", description="Where random positions fall.")
    object_id_sample_size: int = Field(
        default=500, ge=1, title="Id sample size", description="Object ids sampled once per process."
    )
    object_id_sample: dict[Dialect, str] = Field(
        title="Id sample query", description="Query returning objectId values (first column) per dialect."
    )
    low_volume: list[QueryTemplate] = Field(title="Low-volume queries", description="Interactive queries.")
    high_volume: list[QueryTemplate] = Field(title="High-volume queries", description="Full-table scans.")


class RenderedQuery(_Model):
    """A template with its parameters filled in, ready to send."""

    kind: str = Field(title="Kind", description="Stable Locust request name.")
    text: str = Field(title="Query", description="The query text.")
    rows_exact: int | None = Field(default=None, title="Exact rows", description="Expected rows.")
    rows_min: int | None = Field(default=None, title="Min rows", description="Fewest rows accepted.")
    rows_max: int | None = Field(default=None, title="Max rows", description="Most rows accepted.")

    def check_rows(self, rows: int) -> str | None:
        """None when ``rows`` is right, else what is wrong."""
        if self.rows_exact is not None and rows != self.rows_exact:
            return f"{rows} rows, expected exactly {self.rows_exact}"
        if self.rows_min is not None and rows < self.rows_min:
            return f"{rows} rows, expected at least {self.rows_min}"
        if self.rows_max is not None and rows > self.rows_max:
            return f"{rows} rows, expected at most {self.rows_max}"
        return None


def render(
    template: QueryTemplate, dialect: Dialect, area: Area, object_ids: list[int], rng: random.Random
) -> RenderedQuery:
    """Fill a template for one request."""
    ra = rng.uniform(area.ra_min_deg, area.ra_max_deg)
    dec = rng.uniform(area.dec_min_deg, area.dec_max_deg)
    params: dict[str, str] = {"ra": f"{ra:.6f}", "dec": f"{dec:.6f}"}
    if template.radius_deg is not None:
        params["radius_deg"] = f"{rng.uniform(*template.radius_deg):.5f}"
    if template.box_side_deg is not None:
        half = template.box_side_deg / 2
        params |= {
            "ra_min": f"{ra - half:.6f}",
            "ra_max": f"{ra + half:.6f}",
            "dec_min": f"{dec - half:.6f}",
            "dec_max": f"{dec + half:.6f}",
        }
    count = template.object_id_count or 1
    if object_ids:
        chosen = rng.sample(object_ids, min(count, len(object_ids)))
        params["object_id"] = str(chosen[0])
        params["object_ids"] = ", ".join(str(i) for i in chosen)
        count = len(chosen)
    rows_exact = count if template.rows_exact == "object_id_count" else template.rows_exact
    return RenderedQuery(
        kind=template.kind,
        text=" ".join(template.text[dialect].split()).format(**params),
        rows_exact=rows_exact if isinstance(rows_exact, int) else None,
        rows_min=template.rows_min,
        rows_max=template.rows_max,
    )


def load_query_set(name: str) -> QuerySet:
    """Read ``loadtests/data/<name>.yaml``; ValueError with the file and key when it is wrong."""
    path = DATA_DIR / f"{name}.yaml"
    try:
        return QuerySet.model_validate(yaml.safe_load(path.read_text()))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ValueError(f"{path}: invalid query set: {exc}") from exc


class NotebookCell(_Model):
    """A cell a Science Platform user runs, and the output that proves it ran."""

    name: str = Field(
        pattern=r"^[a-z0-9_]+$", title="Name", description="Suffix of the request kind lab.execute.<name>."
    )
    code: str = Field(title="Code", description="Python source run in the kernel.")
    expect_output: str = Field(
        title="Expected output", description="Text the cell's stdout or result must contain."
    )


class CellSet(_Model):
    """``loadtests/data/notebook.yaml``: what notebook users execute."""

    description: str = Field(title="Description", description="What the cells exercise.")
    cells: list[NotebookCell] = Field(min_length=1, title="Cells", description="Run in turn.")


def load_cell_set() -> CellSet:
    """Read ``loadtests/data/notebook.yaml``."""
    path = DATA_DIR / "notebook.yaml"
    try:
        return CellSet.model_validate(yaml.safe_load(path.read_text()))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ValueError(f"{path}: invalid cell set: {exc}") from exc
