"""`idf scale plan --percent 75`: generation and ingest time from measured rates, the whole test's cost."""

from __future__ import annotations

import json

import pytest

from idf_ops.scale.plan import reaper_of_permanent_stack
from idf_ops.scale.sizing import GENERATION_OBJECTS_PER_S_PER_CORE
from support.cli import run_idf


def test_plan_prints_generation_ingest_and_the_whole_cost() -> None:
    done = run_idf("scale", "plan", "--percent", "75")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"measured {GENERATION_OBJECTS_PER_S_PER_CORE:,.0f} objects/s per core" in out
    assert "Ingest: 152 loaders at measured rows/s per core -> 6.6 h" in out
    assert "Generation: 304 single-core pods" in out and "-> 2.5 h" in out
    assert "reaper     $0.1" in out and "dev's idf:reaper: 2920 runs x 90 s" in out
    assert "TOTAL       17.0 h" in out

    plan = json.loads(run_idf("scale", "plan", "--percent", "75", "--json").stdout)
    cost = plan["test_cost"]
    rate = plan["cost"]["usd_per_hour"]
    hours = cost["generation_hours"] + cost["ingest_hours"] + cost["test_hours"]
    assert cost["generation_hours"] == pytest.approx(plan["sizing"]["generation_hours"])
    staging = cost["staging_gb"] * 0.020 * hours / 730  # STANDARD us-central1, per GB-month
    assert cost["staging_usd"] == pytest.approx(staging) and cost["staging_gb"] > 1000
    # The reaper's share is its own cost model's (idf_ops.cost.reaper, the price file), not a constant.
    reaper = reaper_of_permanent_stack().usd_per_hour * hours
    assert cost["reaper_usd"] == pytest.approx(reaper)
    assert cost["total_usd"] == pytest.approx(rate * hours + staging + reaper)
    assert cost["reaper_usd"] > 0
