"""The TAP service of the running local stack: DaCHS instances behind the balancer, cones from indexes.

Needs `idf local up` (marker ``local_stack``). One case per item: per port, per table.
"""

from __future__ import annotations

import math
import os
import subprocess

import pytest
import pyvo

from idf_ops.catalogs.schema import POSITION_COLUMNS
from idf_ops.local.settings import TAP_URL
from idf_ops.tap import rd
from idf_ops.tap.health import adql_ok, instance_urls
from idf_ops.tap.instances import restart_unhealthy
from local.helpers import psql_as_postgres

pytestmark = pytest.mark.local_stack

# The tap role's defaults: one DaCHS instance per CPU from 8091, the balancer on 8080.
INSTANCE_PORTS = [8091 + i for i in range(os.cpu_count() or 1)]
BALANCER_PORT = 8080
SERVED = {table: rd.DEFAULT_TABLE_RENAMES.get(table, table) for table in POSITION_COLUMNS}
RADIUS_DEG = 0.05


@pytest.fixture(scope="module", autouse=True)
def healthy_instances() -> None:
    """Instances whose database connections died with an earlier PostgreSQL restart are restarted first."""
    restart_unhealthy()


@pytest.fixture(scope="module")
def tap() -> pyvo.dal.TAPService:
    return pyvo.dal.TAPService(TAP_URL)


@pytest.mark.parametrize("port", [*INSTANCE_PORTS, BALANCER_PORT])
def test_listens_on_loopback_only(host, port: int) -> None:  # type: ignore[no-untyped-def]
    assert host.socket(f"tcp://127.0.0.1:{port}").is_listening
    assert not host.socket(f"tcp://0.0.0.0:{port}").is_listening


@pytest.mark.parametrize("port", INSTANCE_PORTS)
def test_each_instance_answers_adql(port: int) -> None:
    ok, detail = adql_ok(f"http://127.0.0.1:{port}/tap")
    assert ok, detail


def test_configured_instances_are_the_expected_ones() -> None:
    assert instance_urls() == [f"http://127.0.0.1:{port}/tap" for port in INSTANCE_PORTS]


def test_dachs_processes_run_as_gavo(host) -> None:  # type: ignore[no-untyped-def]
    # Server processes only (an operator's `dachs imp` run by root is not a server).
    processes = [p for p in host.process.filter(comm="dachs") if "dachs serve" in p.args]
    assert len(processes) == len(INSTANCE_PORTS)
    assert {p.user for p in processes} == {"gavo"}


def test_balancer_workers_run_as_www_data(host) -> None:  # type: ignore[no-untyped-def]
    processes = host.process.filter(comm="nginx")
    assert {p.user for p in processes} == {"root", "www-data"}
    assert [p.user for p in processes if "master" not in p.args] == ["www-data"] * (len(processes) - 1)


def test_bad_adql_is_reported_not_ok() -> None:
    ok, detail = adql_ok(TAP_URL, "SELECT nonexistent FROM dp01_dc2_catalogs.object")
    assert not ok and "QUERY_STATUS" in detail


def _separation_deg(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    r1, d1, r2, d2 = map(math.radians, (ra1, dec1, ra2, dec2))
    hav = math.sin((d2 - d1) / 2) ** 2 + math.cos(d1) * math.cos(d2) * math.sin((r2 - r1) / 2) ** 2
    return math.degrees(2 * math.asin(min(1.0, math.sqrt(hav))))


def _cone(table: str, ra_deg: float, dec_deg: float) -> str:
    ra, dec = POSITION_COLUMNS[table]
    return (
        f"SELECT {ra}, {dec} FROM dp01_dc2_catalogs.{SERVED[table]} "  # noqa: S608 - ADQL from the schema
        f"WHERE CONTAINS(POINT('ICRS', {ra}, {dec}), CIRCLE('ICRS', {ra_deg}, {dec_deg}, {RADIUS_DEG}))=1"
    )


def _centre(tap: pyvo.dal.TAPService, table: str) -> tuple[float, float]:
    ra, dec = POSITION_COLUMNS[table]
    query = f"SELECT TOP 1 {ra}, {dec} FROM dp01_dc2_catalogs.{SERVED[table]}"  # noqa: S608 - names from the schema
    row = tap.search(query).to_table()[0]
    return float(row[0]), float(row[1])


@pytest.mark.parametrize("table", sorted(POSITION_COLUMNS))
def test_sync_cone_search(tap: pyvo.dal.TAPService, table: str) -> None:
    ra_deg, dec_deg = _centre(tap, table)
    result = tap.search(_cone(table, ra_deg, dec_deg)).to_table()
    assert len(result) >= 1
    for row in result:
        assert _separation_deg(ra_deg, dec_deg, float(row[0]), float(row[1])) <= RADIUS_DEG + 1e-9


def test_async_cone_search_on_object(tap: pyvo.dal.TAPService) -> None:
    ra_deg, dec_deg = _centre(tap, "object")
    result = tap.run_async(_cone("object", ra_deg, dec_deg), timeout=120).to_table()
    assert len(result) >= 1
    assert all(
        _separation_deg(ra_deg, dec_deg, float(r[0]), float(r[1])) <= RADIUS_DEG + 1e-9 for r in result
    )


@pytest.mark.parametrize("table", sorted(POSITION_COLUMNS))
def test_cone_search_is_answered_from_the_q3c_index(table: str) -> None:
    """DaCHS' own ADQL translator turns CONTAINS into q3c_join; PostgreSQL plans it on the q3c index."""
    adql = _cone(table, 62.0, -37.0)
    translate = (
        "import sys\nfrom gavo import api\nfrom gavo.protocols import adqlglue\n"
        "print(adqlglue.morphADQL(sys.argv[1])[0])"
    )
    morph = subprocess.run(
        ["/usr/bin/python3", "-c", translate, adql], capture_output=True, text=True, check=False, timeout=120
    )
    assert morph.returncode == 0, morph.stderr[-2000:]
    sql = morph.stdout.strip().splitlines()[-1]
    assert "q3c_join(" in sql, sql
    plan = psql_as_postgres(f"EXPLAIN {sql}", database="gavo")
    assert "Index Scan" in plan and "q3c_ang2ipix" in plan, plan
    assert "Seq Scan" not in plan, plan


@pytest.mark.parametrize("table", sorted(POSITION_COLUMNS))
def test_tap_schema_columns_equal_felis(tap: pyvo.dal.TAPService, table: str) -> None:
    felis_table = next(t for t in rd.load_felis_schema(rd.default_felis_path()).tables if t.name == table)
    served = tap.tables[f"dp01_dc2_catalogs.{SERVED[table]}"]
    assert [c.name.strip('"') for c in served.columns] == [c.name for c in felis_table.columns]
