"""Storage priced by default: bucket sizes from the seed, lifecycle classes, and the comparison of
GCS with an external S3 store for the lesser-used collections (`idf cost --storage-at s3-external`)."""

from __future__ import annotations

import json

import pytest

from idf_core.errors import BadInput
from idf_ops.cost.estimate import estimate_cost
from idf_ops.cost.external import compare_storage
from idf_ops.cost.inventory import class_days, inventory_from_stack
from idf_ops.cost.prices import load_price_table
from idf_ops.cost.volumes import APPENDIX_B_COUNTS, TYPICAL_FILE_MB, datastore_volume_gb, lesser_used_volume
from infra.config import StackConfig, load_stack_file, resolve_stack_file
from infra.config.models import BucketConfig
from support.cli import run_idf

PRICES = load_price_table()


def _dp01() -> StackConfig:
    return load_stack_file(resolve_stack_file("dp01"))


def test_datastore_default_is_appendix_b_times_sizes() -> None:
    # calexps alone: 3,651,777 x 4096^2 px x 12 B.
    calexp_gb = 3_651_777 * 4096 * 4096 * 12 / 1e9
    assert TYPICAL_FILE_MB["calexp"][0] == pytest.approx(4096 * 4096 * 12 / 1e6)
    assert datastore_volume_gb(frozenset({"calexp"})) == pytest.approx(calexp_gb)
    assert set(APPENDIX_B_COUNTS) <= set(TYPICAL_FILE_MB)
    total, lesser = datastore_volume_gb(), lesser_used_volume()[0]
    assert calexp_gb < total and 0 < lesser < total


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ({}, {"STANDARD": 365}),
        ({"nearline_after_days": 180}, {"STANDARD": 180, "NEARLINE": 185}),
        (
            {"nearline_after_days": 30, "coldline_after_days": 90},
            {"STANDARD": 30, "NEARLINE": 60, "COLDLINE": 275},
        ),
        ({"delete_after_days": 60}, {"STANDARD": 60}),
        ({"nearline_after_days": 30, "delete_after_days": 45}, {"STANDARD": 30, "NEARLINE": 15}),
        ({"coldline_after_days": 10}, {"STANDARD": 10, "COLDLINE": 355}),
    ],
)
def test_lifecycle_days(rules: dict[str, int], expected: dict[str, int]) -> None:
    assert class_days(BucketConfig(name="b", **rules)) == expected


def test_dp01_storage_is_priced_without_flags() -> None:
    estimate = estimate_cost(inventory_from_stack(_dp01()), PRICES)
    storage = [line for line in estimate.lines if line.category == "storage"]
    assert estimate.by_category_usd_per_month["storage"] > 0
    # butler_datastore: NEARLINE after 180 days, so both classes appear, each naming its source.
    datastore = [line for line in storage if line.resource == "butler_datastore"]
    assert {("STANDARD" in x.detail, "NEARLINE" in x.detail) for x in datastore} == {
        (True, False),
        (False, True),
    }
    assert all("Appendix B" in line.detail for line in datastore)
    volume = datastore_volume_gb()
    expected = volume * (180 * 0.020 + 185 * 0.010) / 365
    assert sum(line.usd_per_month for line in datastore) == pytest.approx(expected)


def test_expected_size_in_the_stack_wins_over_the_default() -> None:
    cfg = _dp01()
    bucket = cfg.buckets["qserv_ingest"].model_copy(update={"expected_size_gb": 1000.0})
    cfg = cfg.model_copy(update={"buckets": {**cfg.buckets, "qserv_ingest": bucket}})
    lines = [
        x for x in estimate_cost(inventory_from_stack(cfg), PRICES).lines if x.resource == "qserv_ingest"
    ]
    assert len(lines) == 1 and "stack config expected_size_gb" in lines[0].detail
    assert lines[0].usd_per_month == pytest.approx(1000 * 60 / 365 * 0.020)


def test_cli_shows_a_storage_line_with_its_source() -> None:
    done = run_idf("cost", "dp01")
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.strip().startswith("butler_datastore"))
    assert " storage " in line and "Appendix B" in line and " 0.00 " not in line


def test_external_comparison_break_even_is_where_both_cost_the_same() -> None:
    cfg = _dp01()
    total = estimate_cost(inventory_from_stack(cfg), PRICES).usd_per_month
    c = compare_storage(cfg, PRICES, total, access_share_per_month=0.1, profile_name="ncsa")
    assert c.break_even_share_per_month is not None
    at = compare_storage(
        cfg, PRICES, total, access_share_per_month=c.break_even_share_per_month, profile_name="ncsa"
    )
    assert at.gcs_usd_per_month == pytest.approx(at.external_usd_per_month)
    # Below break-even the cheaper side is the external store (cheap storage, dearer reads).
    assert c.cheaper_below_break_even == "external" and c.external_usd_per_month < c.gcs_usd_per_month
    assert c.stack_total_gcs_usd_per_month - c.stack_total_external_usd_per_month == pytest.approx(
        c.gcs_usd_per_month - c.external_usd_per_month
    )


def test_dearer_external_store_has_no_break_even() -> None:
    cfg = _dp01()
    c = compare_storage(cfg, PRICES, 0.0, access_share_per_month=0.1, profile_name="aws-s3-standard")
    assert c.break_even_share_per_month is None and c.cheaper_below_break_even == "gcs"


def test_comparison_refuses_a_stack_without_dp01_and_an_unknown_profile() -> None:
    with pytest.raises(BadInput, match=r"DP0\.1 only"):
        compare_storage(load_stack_file(resolve_stack_file("dev")), PRICES, 0.0, access_share_per_month=0.1)
    with pytest.raises(BadInput, match="--external-profile 'nope'"):
        compare_storage(_dp01(), PRICES, 0.0, access_share_per_month=0.1, profile_name="nope")


def test_cli_prints_both_totals_and_the_break_even() -> None:
    done = run_idf("cost", "dp01", "--storage-at", "s3-external")
    assert done.returncode == 0, done.stderr
    assert "in GCS" in done.stdout and "in S3 (ncsa" in done.stdout
    assert done.stdout.count("stack total $") == 2
    assert "break-even access rate:" in done.stdout
    as_json = json.loads(run_idf("cost", "dp01", "--storage-at", "s3-external", "--json").stdout)
    assert as_json["storage_at"]["break_even_share_per_month"] > 0
    assert run_idf("cost", "dp01", "--storage-at", "ncsa").returncode == 2
