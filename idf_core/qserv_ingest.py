"""The qserv-ingest configuration of a catalog, as code: one generator for the cloud and the stand-in.

Rubin's ingest workflow (lsst-dm/qserv-ingest) reads a small set of files: the workflow's own
``ingest.yaml`` (where the input lives, where Qserv's front end, ingest queue and replication
controller answer), and, under the input path, ``metadata.json`` (the database file, the table files
in load order, and per table the directories and chunk ids of its data), one database file (the
partitioning: stripes, sub-stripes, overlap) and one file per table (partitioned or not, its director
table and key, its position columns, and its columns with their MySQL types). This module holds our
own typed models of the fields of those files that we set (``extra="forbid"``; nothing of upstream is
copied), and builds them from our catalog facts:

- columns and MySQL types from the Felis schema (lsst-sdm-schemas ``archive/dp01_dc2.yaml`` through
  lsst-felis' SQLAlchemy metadata, compiled for the MySQL dialect), plus Qserv's ``chunkId`` /
  ``subChunkId`` on partitioned tables;
- director/child relations (:data:`DP01_PARTITIONING`): ``object`` directs ``forced_photometry``,
  ``position`` and ``reference`` (one row per object, same ``objectId``); ``truth_match`` is a
  director of its own (its unmatched truth entries have no object, ``match_objectId = -1``);
- Qserv's default ``(85, 12)`` chunking, and the chunk ids of a sky box from lsst.sphgeom;
- the staging URLs (a GCS bucket over HTTPS on the cloud, ``file://`` locally).

It lives in the neutral core because both sides use it: the Pulumi program renders it into the ingest
Job's ConfigMap (``infra/qserv_ingest.py``) and the local loader (``idf_ops.qserv_local.load``) writes,
re-reads and follows it for every load of the MariaDB stand-in, so the format is exercised on every
``idf local up``.

Known deviation: the stand-in reads Parquet (``formats: parquet``, whole-table ``files``) where the
upstream workflow reads the partitioner's CSV chunk files; generated scale-test data is CSV per chunk
(``chunk_<id>.csv``), the layout the upstream workflow reads.
"""

# felis and sqlalchemy load on first use (~1 s): the Pulumi program imports this module at start.
# ruff: noqa: PLC0415

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from idf_core.errors import BadInput
from idf_core.facts import SCALE_STACK_PREFIX, is_scale_stack

__all__ = [
    "CHUNK_COLUMNS",
    "DP01_DATABASE",
    "DP01_FELIS_RESOURCE",
    "DP01_PARTITIONING",
    "DP01_SEED_URI",
    "DP01_SKY_BOX_DEG",
    "DP01_STAGING_BUCKET",
    "FOOTPRINT_DEC_MAX_DEG",
    "FOOTPRINT_DEC_MIN_DEG",
    "INGEST_CONFIG_FILE",
    "METADATA_FILE",
    "NUM_STRIPES",
    "NUM_SUB_STRIPES",
    "REPLICATION_POD",
    "REPLICATION_PORT",
    "REPLICATION_SERVICE",
    "SCALE_STAGING_BUCKET_PREFIX",
    "SCALE_STAGING_DELETE_AFTER_DAYS",
    "SCALE_STAGING_FOLDER",
    "SCALE_STAGING_ROLE",
    "STAGING_MOUNT",
    "VCPUS_PER_GENERATOR",
    "WORKFLOW_VERSION",
    "Column",
    "DataLocation",
    "FormatOptions",
    "IngestDatabase",
    "IngestTable",
    "IngestWorkflow",
    "MetadataTable",
    "Partitioning",
    "QservIngestConfig",
    "QservUrls",
    "build_config",
    "chunk_data_locations",
    "chunks_in_box",
    "dp01_cloud_config",
    "dp01_felis_path",
    "felis_mysql_columns",
    "generator_parallelism",
    "operator_urls",
    "read_config",
    "scale_chunks",
    "scale_staging_bucket",
    "scale_staging_uri",
]

#: Qserv's default partitioning (lsst.sphgeom ``Chunker(85, 12)``; FIELD-NOTES, docs/sizing.md).
NUM_STRIPES = 85
NUM_SUB_STRIPES = 12
#: Overlap (degrees) the partitioner adds around each chunk for near-neighbour queries: 1 arcmin,
#: Qserv's usual value for DC2 catalogs.
OVERLAP_DEG = 0.01667
CHUNK_COLUMNS = ("chunkId", "subChunkId")
#: The ``version`` of the workflow's ``ingest.yaml`` we generate (qserv-ingest 2022+ releases read 15).
WORKFLOW_VERSION = 15
#: The replication controller qserv-operator runs for a `Qserv` named ``qserv``: its StatefulSet's
#: first pod, its headless Service and the port of its REST API (ingest and table stats).
REPLICATION_SERVICE = "qserv-repl-ctl"
REPLICATION_POD = f"{REPLICATION_SERVICE}-0"
REPLICATION_PORT = 8080
INGEST_CONFIG_FILE = "ingest.yaml"
METADATA_FILE = "metadata.json"
DP01_DATABASE = "dp01_dc2_catalogs"
#: The installed Felis file of DP0.1 (lsst-sdm-schemas): package and resource path.
DP01_FELIS_RESOURCE = ("lsst.sdm.schemas", "archive/dp01_dc2.yaml")
#: dp01's ``qserv_ingest`` bucket. dp01's catalogs (Parquet) under ``seed/`` are the scale catalog's
#: seed, which a scale stack's generator may read and nothing more.
DP01_STAGING_BUCKET = "rubin-idf-dp01-qserv-ingest"
DP01_SEED_URI = f"gs://{DP01_STAGING_BUCKET}/seed/{DP01_DATABASE}/"
#: A scale stack's generated catalog goes to a scratch bucket of its own, in the scale-test project
#: (:func:`scale_staging_bucket`): destroyed with the stack, by `idf scale down` or the reaper, objects
#: and all, so neither the data nor its storage bill outlives the test, and the stack's identities
#: never write into a serving stack's bucket. The bucket's ``role`` label:
SCALE_STAGING_ROLE = "scale-staging"
#: Its folder that the generator writes and the ingest Job reads.
SCALE_STAGING_FOLDER = "catalog"
#: Age (days) at which the scratch bucket's lifecycle deletes an object: a safety net for a destroy
#: that failed, longer than any scale test; the policy pack refuses a scale stack's bucket without it.
SCALE_STAGING_DELETE_AFTER_DAYS = 7
#: What every scale stack's scratch bucket name starts with (the reaper's grant is limited to it).
SCALE_STAGING_BUCKET_PREFIX = f"rubin-idf-{SCALE_STACK_PREFIX}"
#: The survey footprint the sizing model counts chunks in (docs/sizing.md): the LSST wide-fast-deep sky
#: lies south of Dec +2 deg (LSST Science Book / LSE-30 footprint rounded to a box); all RA.
FOOTPRINT_DEC_MIN_DEG = -90.0
FOOTPRINT_DEC_MAX_DEG = 2.0
#: One single-core generator pod per this many worker vCPUs (the rest is left to MariaDB): the one
#: definition the sizing model (``idf scale plan``), the rendered stack file and the Indexed Job use.
VCPUS_PER_GENERATOR = 2
#: The DC2 footprint as an (ra_min, ra_max, dec_min, dec_max) box in degrees (FIELD-NOTES: ~104 chunks).
DP01_SKY_BOX_DEG = (50.0, 75.0, -45.0, -27.0)
#: Where the ingest Job mounts its staging bucket (GKE's Cloud Storage FUSE CSI driver, read-only): the
#: workflow reads ``file://`` input under it.
STAGING_MOUNT = "/staging"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


@dataclass(frozen=True)
class Partitioning:
    """How Qserv partitions one table: a director (own key and position) or a child of a director."""

    director: str | None  # None: the table is a director itself
    key: str  # the director key (a director's own key, or a child's reference to it)
    ra: str
    dec: str


#: Load order = this order (directors before their children).
DP01_PARTITIONING: dict[str, Partitioning] = {
    "object": Partitioning(None, "objectId", "ra", "dec"),
    "truth_match": Partitioning(None, "id", "ra", "dec"),
    "forced_photometry": Partitioning("object", "objectId", "coord_ra", "coord_dec"),
    "position": Partitioning("object", "objectId", "coord_ra", "coord_dec"),
    "reference": Partitioning("object", "objectId", "coord_ra", "coord_dec"),
}


class Column(_Model):
    """One column of a table file."""

    name: str = Field(title="Name", description="Column name, as Felis spells it.")
    type: str = Field(title="Type", description="MySQL column type with its NULL constraint.")


class IngestTable(_Model):
    """A table file: what the replication controller's table registration needs."""

    database: str = Field(title="Database", description="Catalog database.")
    table: str = Field(title="Table", description="Table name.")
    is_partitioned: Literal[0, 1] = Field(title="Partitioned", description="1: chunked by position.")
    director_table: str = Field(
        title="Director table", description="The director of a child table; empty for a director."
    )
    director_key: str = Field(title="Director key", description="Director's key column (or the reference).")
    latitude_key: str = Field(title="Latitude column", description="Declination column (degrees).")
    longitude_key: str = Field(title="Longitude column", description="Right ascension column (degrees).")
    chunk_id_key: str = Field(default="chunkId", title="Chunk column", description="Qserv chunk id column.")
    sub_chunk_id_key: str = Field(
        default="subChunkId", title="Sub-chunk column", description="Qserv sub-chunk id column."
    )
    columns: list[Column] = Field(
        alias="schema", title="Schema", description="Columns in file order (Felis order + chunk columns)."
    )


class IngestDatabase(_Model):
    """The database file: the partitioning every partitioned table of the database shares."""

    database: str = Field(title="Database", description="Catalog database.")
    num_stripes: int = Field(default=NUM_STRIPES, title="Stripes", description="Chunker stripes.")
    num_sub_stripes: int = Field(
        default=NUM_SUB_STRIPES, title="Sub-stripes", description="Chunker sub-stripes per stripe."
    )
    overlap: float = Field(default=OVERLAP_DEG, title="Overlap (deg)", description="Chunk overlap width.")
    auto_build_secondary_index: Literal[0, 1] = Field(
        default=1,
        title="Build director index",
        description="Build the director (secondary) index at publish.",
    )


class DataLocation(_Model):
    """Where one batch of a table's input lives, relative to the input path."""

    directory: str = Field(title="Directory", description="Directory under the input path.")
    chunks: list[int] = Field(
        default_factory=list, title="Chunks", description="Chunk ids with a `chunk_<id>.<ext>` file here."
    )
    files: list[str] = Field(
        default_factory=list, title="Files", description="Whole-table files (non-chunked input)."
    )


class MetadataTable(_Model):
    """One table entry of ``metadata.json``."""

    table_file: str = Field(alias="schema", title="Table file", description="The table's JSON file.")
    indexes: list[str] = Field(default_factory=list, title="Indexes", description="Index files.")
    data: list[DataLocation] = Field(title="Data", description="Where the table's input lives.")


class FormatOptions(_Model):
    """How input files of one extension are read."""

    fields_terminated_by: str = Field(default=",", title="Separator", description="Field separator.")


class IngestMetadata(_Model):
    """``metadata.json``: the database file and the tables, in load order."""

    database_file: str = Field(alias="database", title="Database file", description="The database JSON file.")
    formats: dict[str, FormatOptions] = Field(title="Formats", description="Extension -> how it is read.")
    tables: list[MetadataTable] = Field(title="Tables", description="In load order (directors first).")


class _WorkflowMetadata(_Model):
    url: str = Field(title="Metadata URL", description="Where metadata.json and the JSON files are read.")


class _WorkflowInput(_Model):
    servers: list[str] = Field(min_length=1, title="Servers", description="Servers holding the input.")
    path: str = Field(title="Path", description="Input path on every server.")


class QservUrls(_Model):
    """Where the workflow reaches Qserv."""

    query_url: str = Field(title="Query URL", description="The czar's MySQL-protocol front end.")
    queue_url: str = Field(title="Queue URL", description="The ingest workflow's queue database.")
    replication_url: str = Field(
        title="Replication URL", description="The replication controller's REST API."
    )


class _WorkflowIngest(_Model):
    metadata: _WorkflowMetadata
    input: _WorkflowInput
    qserv: QservUrls


class IngestWorkflow(_Model):
    """``ingest.yaml``: what the workflow's pods are configured with."""

    version: int = Field(default=WORKFLOW_VERSION, title="Version", description="Config format version.")
    ingest: _WorkflowIngest = Field(title="Ingest", description="Input and Qserv endpoints.")


class QservIngestConfig(_Model):
    """Every file of one database's ingest configuration, validated together."""

    workflow: IngestWorkflow = Field(title="ingest.yaml", description="The workflow's configuration.")
    metadata: IngestMetadata = Field(title="metadata.json", description="Tables in load order.")
    database: IngestDatabase = Field(title="Database file", description="Partitioning.")
    tables: dict[str, IngestTable] = Field(title="Table files", description="Table name -> table file.")

    def table_order(self) -> list[str]:
        """Table names in load order (the order of metadata.json)."""
        by_file = {f"{name}.json": name for name in self.tables}
        return [by_file[entry.table_file] for entry in self.metadata.tables]

    def data_of(self, table: str) -> list[DataLocation]:
        """Where ``table``'s input lives."""
        return next(e.data for e in self.metadata.tables if e.table_file == f"{table}.json")

    def chunk_ids(self) -> list[int]:
        """Every chunk any table's input lists, in order."""
        return sorted({c for table in self.table_order() for loc in self.data_of(table) for c in loc.chunks})

    def input_root(self) -> str:
        """``<first server>/<path>``: the base URL of every data directory and metadata file."""
        return _join(self.workflow.ingest.input.servers[0], self.workflow.ingest.input.path)

    def files(self) -> dict[str, str]:
        """File name -> text, as the workflow reads them (JSON with its field names, YAML workflow)."""
        out = {
            INGEST_CONFIG_FILE: yaml.safe_dump(self.workflow.model_dump(by_alias=True), sort_keys=False),
            METADATA_FILE: _json(self.metadata.model_dump(by_alias=True)),
            self.metadata.database_file: _json(self.database.model_dump(by_alias=True)),
        }
        for name, table in self.tables.items():
            out[f"{name}.json"] = _json(table.model_dump(by_alias=True))
        return out

    def write(self, directory: Path) -> list[Path]:
        """Write :meth:`files` into ``directory`` (only files whose text changed); return the paths."""
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in self.files().items():
            path = directory / name
            if not path.exists() or path.read_text() != text:
                tmp = path.with_name(name + ".tmp")
                tmp.write_text(text)
                tmp.replace(path)
            written.append(path)
        return written


def _join(server: str, path: str) -> str:
    """``server`` + ``path``; a bare scheme (``file://``) keeps the path absolute (``file:///var/...``)."""
    base = server + "/" if server.endswith("://") else server.rstrip("/") + "/"
    return base + path.strip("/")


def _json(data: Any) -> str:
    return json.dumps(data, indent=2) + "\n"


def read_config(directory: Path) -> QservIngestConfig:
    """Parse and validate the files :meth:`QservIngestConfig.write` wrote; BadInput naming the file."""

    def load(name: str) -> Any:
        path = directory / name
        try:
            text = path.read_text()
            return yaml.safe_load(text) if name.endswith(".yaml") else json.loads(text)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise BadInput(f"{path}: unreadable ingest configuration file ({exc}); regenerate it.") from exc

    def valid(model: type[BaseModel], name: str, data: Any) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(top)"
            raise BadInput(
                f"{directory / name}: {where}: {first['msg']}; regenerate the configuration."
            ) from None

    workflow = valid(IngestWorkflow, INGEST_CONFIG_FILE, load(INGEST_CONFIG_FILE))
    metadata: IngestMetadata = valid(IngestMetadata, METADATA_FILE, load(METADATA_FILE))
    database = valid(IngestDatabase, metadata.database_file, load(metadata.database_file))
    tables = {}
    for entry in metadata.tables:
        table: IngestTable = valid(IngestTable, entry.table_file, load(entry.table_file))
        tables[table.table] = table
    return QservIngestConfig(workflow=workflow, metadata=metadata, database=database, tables=tables)


def dp01_felis_path() -> Path:
    """The installed ``archive/dp01_dc2.yaml`` (lsst-sdm-schemas)."""
    package, resource = DP01_FELIS_RESOURCE
    return Path(str(files(package).joinpath(resource)))


@cache
def felis_mysql_columns(felis_path: Path) -> dict[str, list[Column]]:
    """Table -> columns with MySQL types, from the Felis file through lsst-felis' SQLAlchemy metadata
    (felis' own type mapping, so the types are those `felis create` gives the stand-in)."""
    from felis.datamodel import Schema
    from felis.metadata import MetaDataBuilder
    from sqlalchemy.dialects import mysql

    schema: Any = Schema.model_validate(yaml.safe_load(felis_path.read_text()))
    metadata = MetaDataBuilder(schema, apply_schema_to_metadata=False).build()
    dialect = mysql.dialect()
    return {
        table.name: [
            Column(
                name=column.name,
                type=f"{column.type.compile(dialect=dialect)}{'' if column.nullable else ' NOT NULL'}",
            )
            for column in table.columns
        ]
        for table in metadata.sorted_tables
    }


def chunks_in_box(ra_min: float, ra_max: float, dec_min: float, dec_max: float) -> list[int]:
    """Chunk ids of ``Chunker(85, 12)`` that intersect a sky box (degrees), sorted (lsst.sphgeom)."""
    from lsst import sphgeom

    chunker = sphgeom.Chunker(NUM_STRIPES, NUM_SUB_STRIPES)
    box = sphgeom.Box.fromDegrees(ra_min, dec_min, ra_max, dec_max)
    return sorted(int(c) for c in chunker.getChunksIntersecting(box))


def scale_chunks(percent: float) -> list[int]:
    """Chunks of ``Chunker(85, 12)`` covering ``percent`` % of the survey footprint (Dec -90..+2 deg):
    the band from the south pole up to the declination that encloses that fraction of the box's area,
    all RA (lsst.sphgeom ``getChunksIntersecting``). One completion of the generator's Indexed Job each."""
    from lsst import sphgeom

    if not 0 < percent <= 100:
        raise BadInput(f"--percent {percent:g}: must be in (0, 100].")
    lo, hi = math.sin(math.radians(FOOTPRINT_DEC_MIN_DEG)), math.sin(math.radians(FOOTPRINT_DEC_MAX_DEG))
    top = math.degrees(math.asin(lo + percent / 100.0 * (hi - lo)))
    chunker = sphgeom.Chunker(NUM_STRIPES, NUM_SUB_STRIPES)
    box = sphgeom.Box.fromDegrees(0.0, FOOTPRINT_DEC_MIN_DEG, 360.0, top)
    return sorted(int(c) for c in chunker.getChunksIntersecting(box))


def chunk_data_locations(chunks: Iterable[int]) -> dict[str, list[DataLocation]]:
    """The ingest configuration's data entries of generated chunks (one directory per dp01 table)."""
    ids = sorted(chunks)
    return {table: [DataLocation(directory=table, chunks=ids)] for table in DP01_PARTITIONING}


def generator_parallelism(workers: int, vcpus_per_worker: int) -> int:
    """Generator pods at once: one single-core pod per :data:`VCPUS_PER_GENERATOR` worker vCPUs."""
    return max(1, workers * vcpus_per_worker // VCPUS_PER_GENERATOR)


def scale_staging_bucket(stack: str) -> str:
    """The scratch bucket of scale stack ``stack`` (a GCS name: at most 63 characters)."""
    if not is_scale_stack(stack):
        raise BadInput(
            f"stack {stack!r} is not a scale-test stack ({SCALE_STACK_PREFIX}*): it has no scratch bucket"
        )
    name = f"rubin-idf-{stack}-staging"
    if len(name) > 63:
        raise BadInput(
            f"stack {stack!r}: its staging bucket name {name!r} is over 63 characters; "
            "use a shorter stack name"
        )
    return name


def scale_staging_uri(stack: str) -> str:
    """``gs://<scratch bucket>/catalog/``: where the scale stack's generator writes its chunks."""
    return f"gs://{scale_staging_bucket(stack)}/{SCALE_STAGING_FOLDER}/"


def build_config(
    *,
    database: str,
    data: Mapping[str, list[DataLocation]],
    servers: list[str],
    path: str,
    qserv: QservUrls,
    felis_path: Path | None = None,
    partitioning: Mapping[str, Partitioning] = DP01_PARTITIONING,
    data_format: str = "csv",
) -> QservIngestConfig:
    """The configuration of ``database`` whose tables' input lives at ``data`` (table -> locations),
    on ``servers`` under ``path``, loaded into the Qserv reached at ``qserv``."""
    felis = felis_path or dp01_felis_path()
    columns = felis_mysql_columns(felis)
    unknown = sorted(set(data) - set(partitioning))
    if unknown:
        raise BadInput(
            f"{felis}: tables {unknown} have no Qserv partitioning; add them to DP01_PARTITIONING."
        )
    tables: dict[str, IngestTable] = {}
    entries: list[MetadataTable] = []
    for name, part in partitioning.items():
        if name not in data:
            continue
        if name not in columns:
            raise BadInput(f"{felis}: tables.{name}: not in the Felis schema; fix DP01_PARTITIONING.")
        names = {c.name for c in columns[name]}
        for column in (part.key, part.ra, part.dec):
            if column not in names:
                raise BadInput(
                    f"{felis}: tables.{name}.columns: no column {column!r} named by its partitioning."
                )
        tables[name] = IngestTable(
            database=database,
            table=name,
            is_partitioned=1,
            director_table=part.director or "",
            director_key=part.key,
            latitude_key=part.dec,
            longitude_key=part.ra,
            columns=[*columns[name], *(Column(name=c, type="INT NOT NULL") for c in CHUNK_COLUMNS)],
        )
        entries.append(MetadataTable(table_file=f"{name}.json", data=list(data[name])))
    database_file = f"{database}.json"
    root = _join(servers[0], path) + "/"
    return QservIngestConfig(
        workflow=IngestWorkflow(
            ingest=_WorkflowIngest(
                metadata=_WorkflowMetadata(url=root),
                input=_WorkflowInput(servers=servers, path=path),
                qserv=qserv,
            )
        ),
        metadata=IngestMetadata(
            database_file=database_file, formats={data_format: FormatOptions()}, tables=entries
        ),
        database=IngestDatabase(database=database),
        tables=tables,
    )


def dp01_cloud_config(
    bucket: str, prefix: str, namespace: str, database: str, chunks: list[int] | None = None
) -> QservIngestConfig:
    """dp01's ingest configuration: every table chunked over the DC2 box (or over ``chunks``, the
    generated scale catalog's), input in the staging bucket."""
    data = (
        chunk_data_locations(chunks)
        if chunks is not None
        else {
            table: [DataLocation(directory=table, chunks=chunks_in_box(*DP01_SKY_BOX_DEG))]
            for table in DP01_PARTITIONING
        }
    )
    return build_config(
        database=database,
        data=data,
        servers=["file://"],
        path=f"{STAGING_MOUNT}/{prefix.strip('/')}",
        qserv=operator_urls(namespace),
    )


def operator_urls(namespace: str) -> QservUrls:
    """The services qserv-operator creates for a `Qserv` named ``qserv`` in ``namespace``."""
    return QservUrls(
        query_url=f"mysql://qsmaster:@qserv-czar.{namespace}:4040",
        queue_url=f"mysql://qsingest:@qserv-ingest-db-0.qserv-ingest-db.{namespace}/qservIngest",
        replication_url=f"http://{REPLICATION_POD}.{REPLICATION_SERVICE}.{namespace}:{REPLICATION_PORT}",
    )
