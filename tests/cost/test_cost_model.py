"""The cost model against hand-computed stacks, the price table's guards, and DMTN-125."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from idf_core.errors import BadInput
from idf_ops.cost.dmtn125 import DMTN125_MEASURED_USD, compare_dmtn125
from idf_ops.cost.estimate import (
    BucketUsage,
    CloudSqlUsage,
    DiskUsage,
    EgressUsage,
    Inventory,
    NodePoolUsage,
    cloud_sql_tier_shape,
    estimate_cost,
)
from idf_ops.cost.inventory import inventory_from_stack
from idf_ops.cost.prices import DEFAULT_PRICE_FILE, load_price_table
from infra.config import load_stack_file, resolve_stack_file, validate_config_mapping

PRICES = load_price_table()


def test_machine_prices_by_hand() -> None:
    # N2: $0.031611 per vCPU-hour + $0.004237 per GB-hour (us-central1 list).
    assert PRICES.machine_usd_per_hour("n2-standard-4") == pytest.approx(4 * 0.031611 + 16 * 0.004237)
    assert PRICES.machine_usd_per_hour("n2-standard-4") == pytest.approx(0.194236)
    assert PRICES.machine_usd_per_hour("n2-standard-16") == pytest.approx(0.776944)
    assert PRICES.machine_usd_per_hour("n2-highmem-16") == pytest.approx(16 * 0.031611 + 128 * 0.004237)
    # N1 standard: 3.75 GB per vCPU; n1-standard-4 is the classic $0.19/h.
    assert PRICES.machine_usd_per_hour("n1-standard-4") == pytest.approx(0.19, abs=1e-5)


def test_hand_computed_stack() -> None:
    inventory = Inventory(
        stack="hand",
        gke_clusters=["c"],
        node_pools=[
            NodePoolUsage(
                name="workers",
                machine_type="n2-standard-8",
                node_count=2,
                local_ssd_count=2,
                boot_disk_size_gb=100,
                boot_disk_type="pd-balanced",
            )
        ],
        disks=[DiskUsage(name="czar", disk_type="pd-ssd", size_gb=1000)],
        cloud_sql=[CloudSqlUsage(name="db", vcpus=2, memory_gb=7.5, storage_gb=100, high_availability=True)],
        buckets=[BucketUsage(name="archive", storage_class="NEARLINE", stored_gb=1000)],
        egress=EgressUsage(internet_gb_per_month=50, inter_zone_gb_per_month=100),
    )
    e = estimate_cost(inventory, PRICES)
    month = {cat: round(usd, 4) for cat, usd in e.by_category_usd_per_month.items()}
    # cluster fee: 0.10 x 730 = 73.00
    assert month["cluster_fee"] == pytest.approx(73.0)
    # compute: 2 x 8 x 0.031611 x 730 = 369.2165; memory: 2 x 32 x 0.004237 x 730 = 197.9526
    assert month["compute"] == pytest.approx(2 * 8 * 0.031611 * 730)
    assert month["memory"] == pytest.approx(2 * 32 * 0.004237 * 730)
    # local SSD: 2 nodes x 2 x 375 GB = 1500 GB x 0.08 = 120.00
    assert month["local_ssd"] == pytest.approx(120.0)
    # disks: boot 200 GB x 0.10 = 20 + pd-ssd 1000 GB x 0.17 = 170 -> 190
    assert month["disk"] == pytest.approx(190.0)
    # Cloud SQL HA: (2 x 0.0413 + 7.5 x 0.007) x 730 x 2 = 197.224; storage 100 x 0.17 x 2 = 34 -> 231.224
    assert month["cloud_sql"] == pytest.approx((2 * 0.0413 + 7.5 * 0.007) * 730 * 2 + 34.0)
    # GCS NEARLINE 1000 GB x 0.010 = 10.00
    assert month["storage"] == pytest.approx(10.0)
    # egress 50 x 0.12 + 100 x 0.01 = 7.00
    assert month["egress"] == pytest.approx(7.0)
    assert e.usd_per_month == pytest.approx(sum(month.values()), rel=1e-6)
    assert e.usd_per_hour == pytest.approx(e.usd_per_month / 730)


def test_dp01_from_its_stack_file_by_hand() -> None:
    cfg = load_stack_file(resolve_stack_file("dp01"))
    e = estimate_cost(inventory_from_stack(cfg, nodes_at="min"), PRICES)
    lines = {(line.resource, line.category, line.detail.split(" ")[0]): line.usd_per_hour for line in e.lines}
    # Cloud SQL db-custom-4-26624 HA: (4 x 0.0413 + 26 x 0.007) x 2 = 0.6944 $/h
    sql = [line for line in e.lines if line.resource == "butler-registry-dp01" and "vCPU" in line.detail]
    assert sql[0].usd_per_hour == pytest.approx((4 * 0.0413 + 26 * 0.007) * 2)
    # Qserv worker volumes (worker_volume: persistent-disk): 5 x 10240 GB pd-ssd; the worker pool
    # carries no local SSD, so no local_ssd line at all
    vols = [line for line in e.lines if line.resource == "qserv-worker-volumes"]
    assert vols[0].usd_per_month == pytest.approx(5 * 10240 * 0.17)
    assert "local_ssd" not in e.by_category_usd_per_month
    # Workers at min_nodes (5) x n2-standard-16 compute: 5 x 16 x 0.031611 $/h
    assert lines[("qserv_worker", "compute", "5")] == pytest.approx(5 * 16 * 0.031611)


def test_nodes_at_max_costs_more() -> None:
    cfg = load_stack_file(resolve_stack_file("dp01"))
    low = estimate_cost(inventory_from_stack(cfg, nodes_at="min"), PRICES)
    high = estimate_cost(inventory_from_stack(cfg, nodes_at="max"), PRICES)
    assert high.usd_per_month > low.usd_per_month


def test_given_bucket_sizes_override_the_defaults() -> None:
    # dev serves no data preview: no default sizes, so only the given bucket is priced.
    cfg = load_stack_file(resolve_stack_file("dev"))
    unpriced = inventory_from_stack(cfg)
    assert unpriced.buckets == []
    assert any("butler_datastore: not priced" in a for a in unpriced.assumptions)
    priced = estimate_cost(inventory_from_stack(cfg, bucket_gb={"qserv_ingest": 50_000}), PRICES)
    # qserv_ingest on dev: deleted after 14 days, so 14/365 of the year's data-months, in STANDARD.
    assert priced.by_category_usd_per_month["storage"] == pytest.approx(50_000 * 14 / 365 * 0.020)
    with pytest.raises(BadInput, match="no bucket role 'nope'"):
        inventory_from_stack(cfg, bucket_gb={"nope": 1})


def test_local_ssd_over_the_machine_limit_is_refused() -> None:
    bad = Inventory(
        stack="x",
        node_pools=[NodePoolUsage(name="p", machine_type="e2-standard-4", node_count=1, local_ssd_count=1)],
    )
    with pytest.raises(BadInput, match="accepts at most 0"):
        estimate_cost(bad, PRICES)


def test_cloud_sql_tiers() -> None:
    assert cloud_sql_tier_shape("db-custom-4-26624") == (4, 26.0)
    assert cloud_sql_tier_shape("db-n1-standard-1") == (1, 3.75)
    with pytest.raises(BadInput, match="db-f1-micro"):
        cloud_sql_tier_shape("db-f1-micro")


def test_every_price_names_a_known_source(tmp_path: Path) -> None:
    raw = yaml.safe_load(DEFAULT_PRICE_FILE.read_text())
    assert PRICES.compiled_on.isoformat() == raw["compiled_on"]
    raw["disks_usd_per_gb_month"]["pd-ssd"]["source"] = "a-blog-somewhere"
    broken = tmp_path / "prices.yaml"
    broken.write_text(yaml.safe_dump(raw))
    with pytest.raises(BadInput, match="not a key of `sources`"):
        load_price_table(broken)


def test_price_table_rejects_unknown_keys(tmp_path: Path) -> None:
    raw = yaml.safe_load(DEFAULT_PRICE_FILE.read_text())
    raw["gpu_usd_per_hour"] = 1.0
    broken = tmp_path / "prices.yaml"
    broken.write_text(yaml.safe_dump(raw))
    with pytest.raises(BadInput, match="gpu_usd_per_hour"):
        load_price_table(broken)


def test_dmtn125_comparison_is_pinned() -> None:
    cmp = compare_dmtn125(PRICES)
    assert cmp.measured_usd == DMTN125_MEASURED_USD
    assert cmp.measured_total_usd == pytest.approx(103.55)
    # 10 x n1-standard-8 x 24 h: compute 80 x 24 x 0.031611 = 60.69 (-3.5%), memory 300 x 24 x 0.004237
    # = 30.51 (-3.5%); storage (1000 x 0.04 + 1000 x 0.17) / 730 x 24 = 6.90 (+0.6%); Cloud SQL
    # (1 x 0.0413 + 3.75 x 0.007) x 24 + 10 x 0.17 / 730 x 24 = 1.68 (+3.5%); egress 4 x 0.12 + 7 x 0.01.
    assert cmp.modelled_usd["compute"] == pytest.approx(80 * 24 * 0.031611)
    assert cmp.modelled_usd["memory"] == pytest.approx(300 * 24 * 0.004237)
    assert cmp.modelled_usd["storage"] == pytest.approx((1000 * 0.04 + 1000 * 0.17) / 730 * 24)
    assert cmp.modelled_usd["cloud_sql"] == pytest.approx((0.0413 + 3.75 * 0.007) * 24 + 10 * 0.17 / 730 * 24)
    assert cmp.difference_percent["compute"] == pytest.approx(-3.51, abs=0.01)
    assert cmp.difference_percent["memory"] == pytest.approx(-3.52, abs=0.01)
    assert cmp.total_difference_percent == pytest.approx(-3.11, abs=0.01)
    # The shape-independent check: memory/compute of N1 standard at list rates equals DMTN-125's.
    assert cmp.memory_to_compute_ratio_modelled == pytest.approx(
        cmp.memory_to_compute_ratio_measured, rel=1e-3
    )
    # ... and it would not with N2 shapes (4 GB per vCPU): the check can fail.
    n2_ratio = 4 * 0.004237 / 0.031611
    assert abs(n2_ratio - cmp.memory_to_compute_ratio_measured) / cmp.memory_to_compute_ratio_measured > 0.05


def test_only_the_unsourced_prices_an_estimate_used_are_flagged() -> None:
    cfg = load_stack_file(resolve_stack_file("dp01"))
    flagged = estimate_cost(inventory_from_stack(cfg), PRICES).unsourced_prices
    # dp01 has Cloud SQL (storage rate unsourced) and a GKE cluster, but no e2 machine.
    assert "cloud_sql.ssd_storage_usd_per_gb_month" in flagged
    assert "gke_cluster_usd_per_hour" in flagged
    assert not any(key.startswith("machine_families.e2") for key in flagged)
    assert any(key.startswith("machine_families.e2") for key in PRICES.unsourced_keys())


@pytest.mark.parametrize(("stack", "on_local_ssd"), [("dev", True), ("qserv-scale75", True), ("dp02", False)])
def test_worker_volumes_are_priced_where_the_program_puts_them(stack: str, on_local_ssd: bool) -> None:
    """Worker data follows idf:qserv.worker_volume: local SSD (already billed with the pool, no PD
    line) or persistent disk (a PD line), as infra/kubernetes.py deploys it."""
    cfg = load_stack_file(resolve_stack_file(stack))
    e = estimate_cost(inventory_from_stack(cfg), PRICES)
    pd_lines = [line for line in e.lines if line.resource == "qserv-worker-volumes"]
    worker_ssd = [
        line for line in e.lines if line.resource == "qserv_worker" and line.category == "local_ssd"
    ]
    assert (not pd_lines, bool(worker_ssd)) == (on_local_ssd, on_local_ssd)
    assert any("qserv-local-ssd" in a for a in e.assumptions) == on_local_ssd


def test_local_ssd_backend_is_never_priced_as_pd() -> None:
    """The price follows the backend, not a size comparison: the same stack switched to persistent
    disk (and its pool stripped of SSDs, as validation demands) gains a PD line."""
    doc = yaml.safe_load(resolve_stack_file("dev").read_text())
    doc["config"]["idf:qserv"]["worker_volume"] = "persistent-disk"
    doc["config"]["idf:node_pools"]["qserv_worker"].pop("local_nvme_ssd_count")
    cfg = validate_config_mapping(doc, "dev (switched)", "dev")
    e = estimate_cost(inventory_from_stack(cfg), PRICES)
    assert [line.usd_per_month for line in e.lines if line.resource == "qserv-worker-volumes"] == [
        pytest.approx(500 * 0.17)
    ]
