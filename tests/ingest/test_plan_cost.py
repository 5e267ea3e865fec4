"""`idf scale plan --percent 75`: generation and ingest time from measured rates, the whole test's cost."""

from __future__ import annotations

import json

import pytest

from idf_ops.scale.plan import REAPER_USD_PER_HOUR
from idf_ops.scale.sizing import GENERATION_OBJECTS_PER_S_PER_CORE
from support.cli import run_idf


def test_plan_prints_generation_ingest_and_the_whole_cost() -> None:
    done = run_idf("scale", "plan", "--percent", "75")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"measured {GENERATION_OBJECTS_PER_S_PER_CORE:,.0f} objects/s per core" in out
    assert "Ingest: 152 loaders at measured rows/s per core -> 6.6 h" in out
    assert "Generation: 304 single-core pods" in out and "-> 2.5 h" in out
    assert "reaper" in out and "REAPER_USD_PER_HOUR" in out
    assert "TOTAL       17.0 h" in out

    plan = json.loads(run_idf("scale", "plan", "--percent", "75", "--json").stdout)
    cost = plan["test_cost"]
    rate = plan["cost"]["usd_per_hour"]
    hours = cost["generation_hours"] + cost["ingest_hours"] + cost["test_hours"]
    assert cost["generation_hours"] == pytest.approx(plan["sizing"]["generation_hours"])
    staging = cost["staging_gb"] * 0.020 * hours / 730  # STANDARD us-central1, per GB-month
    assert cost["staging_usd"] == pytest.approx(staging) and cost["staging_gb"] > 1000
    assert cost["total_usd"] == pytest.approx(rate * hours + staging + REAPER_USD_PER_HOUR * hours)
    assert cost["reaper_usd"] > 0
