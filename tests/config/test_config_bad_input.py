"""`idf config validate` on bad stack files: exit 2, one line per problem with the file and the key
path, what is wrong and what to do, never a traceback. Each case mutates the valid dp01 file once;
a mutation that breaks several rules at once is reported once per broken rule (PROBLEMS_OF)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from idf_core.paths import STACKS_DIR
from idf_ops.cli.main import main

Doc = dict[str, Any]


def _cfg(doc: Doc) -> Doc:
    return doc["config"]


def _pool(doc: Doc, key: str) -> Doc:
    return doc["config"]["idf:node_pools"][key]


CASES: list[tuple[str, Callable[[Doc], None], str, str]] = [
    # id, mutation, key path in the message, words in the message
    (
        "misspelt pool key",
        lambda d: _pool(d, "core").update(max_nodse=3),
        "config.idf:node_pools.core.max_nodse",
        "did you mean 'max_nodes'",
    ),
    (
        "misspelt section",
        lambda d: _cfg(d).update({"idf:budgett": _cfg(d).pop("idf:budget")}),
        "config.idf:budgett",
        "did you mean 'idf:budget'",
    ),
    (
        "un-namespaced key",
        lambda d: _cfg(d).update(region="us-central1"),
        "config.region",
        "namespace the key",
    ),
    (
        "missing required key",
        lambda d: _cfg(d)["idf:gke"].pop("cluster_name"),
        "config.idf:gke.cluster_name",
        "required key is missing",
    ),
    (
        "wrong type",
        lambda d: _pool(d, "core").update(min_nodes="three"),
        "config.idf:node_pools.core.min_nodes",
        "valid integer",
    ),
    (
        "min above max",
        lambda d: _pool(d, "qserv_worker").update(min_nodes=9),
        "config.idf:node_pools.qserv_worker.max_nodes",
        "below min_nodes",
    ),
    (
        "negative disk",
        lambda d: _pool(d, "core").update(disk_size_gb=0),
        "config.idf:node_pools.core.disk_size_gb",
        "greater than 0",
    ),
    (
        "zone outside region",
        lambda d: _pool(d, "qserv_czar").update(zones=["europe-west1-b"]),
        "config.idf:node_pools.qserv_czar.zones[0]",
        "not in region",
    ),
    (
        "cluster zone outside region",
        lambda d: _cfg(d)["idf:gke"].update(node_zones=["us-east1-b"]),
        "config.idf:gke.node_zones[0]",
        "not in region",
    ),
    (
        "overlapping pods and subnet",
        lambda d: _cfg(d)["idf:network"].update(pods_cidr="10.128.0.0/14"),
        "config.idf:network.pods_cidr",
        "overlaps subnet_cidr",
    ),
    (
        "master cidr not /28",
        lambda d: _cfg(d)["idf:network"].update(master_cidr="172.16.0.0/24"),
        "config.idf:network.master_cidr",
        "/28",
    ),
    (
        "invalid cidr",
        lambda d: _cfg(d)["idf:network"].update(services_cidr="10.136.0.0/33"),
        "config.idf:network.services_cidr",
        "not a valid CIDR",
    ),
    (
        "public authorized network",
        lambda d: _cfg(d)["idf:gke"]["master_authorized_networks"][0].update(cidr="0.0.0.0/0"),
        "config.idf:gke.master_authorized_networks[0].cidr",
        "too broad",
    ),
    (
        "qserv port open to the world",
        lambda d: _cfg(d)["idf:network"]["firewall_rules"][0].update(source_ranges=["0.0.0.0/0"]),
        "config.idf:network.firewall_rules[0].source_ranges[0]",
        "Qserv front end",
    ),
    (
        "invalid bucket name",
        lambda d: _cfg(d)["idf:buckets"]["backups"].update(name="Rubin_Backups"),
        "config.idf:buckets.backups.name",
        "invalid GCS bucket name",
    ),
    (
        "bucket name with google",
        lambda d: _cfg(d)["idf:buckets"]["backups"].update(name="google-idf-backups"),
        "config.idf:buckets.backups.name",
        "google",
    ),
    (
        "duplicate bucket name",
        lambda d: _cfg(d)["idf:buckets"]["backups"].update(name="rubin-idf-dp01-qserv-ingest"),
        "config.idf:buckets.backups.name",
        "used twice",
    ),
    (
        "coldline before nearline",
        lambda d: _cfg(d)["idf:buckets"]["backups"].update(coldline_after_days=10),
        "config.idf:buckets.backups.coldline_after_days",
        "later than nearline",
    ),
    (
        "temporary pool without expiry",
        lambda d: _pool(d, "core").update(temporary=True),
        "config.idf:node_pools.core.expires_at",
        "needs expires_at",
    ),
    (
        "untainted qserv worker",
        lambda d: _pool(d, "qserv_worker").update(taints=[]),
        "config.idf:node_pools.qserv_worker.taints",
        "tainted",
    ),
    (
        "qserv worker without local ssd",
        lambda d: _cfg(d)["idf:qserv"].pop("worker_volume"),  # back to the local-nvme-ssd default
        "config.idf:node_pools.qserv_worker.local_nvme_ssd_count",
        "local NVMe",
    ),
    (
        "unknown worker volume backend",
        lambda d: _cfg(d)["idf:qserv"].update(worker_volume="local-ssd"),
        "config.idf:qserv.worker_volume",
        "'local-nvme-ssd' or 'persistent-disk'",
    ),
    (
        "worker volume larger than the local ssd raid",
        lambda d: (
            _cfg(d)["idf:qserv"].pop("worker_volume"),
            _pool(d, "qserv_worker").update(local_nvme_ssd_count=4),
        ),
        "config.idf:qserv.worker_storage_gb",
        "10240 GiB per worker does not fit the RAID-0 of the 4 local SSDs of pool 'qserv_worker' "
        "(4 x 375 GB = 1355 GiB after the 3% ext4 margin); lower worker_storage_gb to 1355",
    ),
    (
        "worker volume one GiB over the raid",
        lambda d: (
            _cfg(d)["idf:qserv"].pop("worker_volume"),
            _cfg(d)["idf:qserv"].update(worker_storage_gb=8131),
            _pool(d, "qserv_worker").update(local_nvme_ssd_count=24),
        ),
        "config.idf:qserv.worker_storage_gb",
        "8131 GiB per worker does not fit",
    ),
    (
        "unused local ssd on a persistent-disk worker pool",
        lambda d: _pool(d, "qserv_worker").update(local_nvme_ssd_count=4),
        "config.idf:node_pools.qserv_worker.local_nvme_ssd_count",
        "would be billed and never used",
    ),
    (
        "qserv pool misspelt",
        lambda d: _cfg(d)["idf:qserv"].update(worker_pool="qserv_workr"),
        "config.idf:qserv.worker_pool",
        "did you mean 'qserv_worker'",
    ),
    (
        "more workers than nodes",
        lambda d: _cfg(d)["idf:qserv"].update(worker_replicas=9),
        "config.idf:qserv.worker_replicas",
        "do not fit",
    ),
    (
        "stack name too long",
        lambda d: _cfg(d)["idf:meta"].update(environment="dp01-a-very-long-name"),
        "config.idf:meta.environment",
        "too long",
    ),
    (
        "environment mismatch",
        lambda d: _cfg(d)["idf:meta"].update(environment="dp02"),
        "config.idf:meta.environment",
        "make them equal",
    ),
    (
        "bad sql tier",
        lambda d: _cfg(d)["idf:cloudsql"].update(tier="n2-standard-4"),
        "config.idf:cloudsql.tier",
        "pattern",
    ),
    (
        "bad enum",
        lambda d: _cfg(d)["idf:gke"].update(release_channel="BETA"),
        "config.idf:gke.release_channel",
        "RAPID",
    ),
    (
        "bad pool key",
        lambda d: _cfg(d)["idf:node_pools"].update({"Qserv-Worker": _pool(d, "qserv_worker")}),
        "config.idf:node_pools.Qserv-Worker",
        "invalid key",
    ),
    (
        "batch pool not spot",
        lambda d: _cfg(d)["idf:node_pools"].update(
            batch={
                "role": "batch",
                "machine_type": "n2-standard-8",
                "min_nodes": 0,
                "max_nodes": 4,
                "taints": [{"key": "b", "value": "x", "effect": "NO_SCHEDULE"}],
            }
        ),
        "config.idf:node_pools.batch.spot",
        "spot",
    ),
    (
        "temporary stack with cloud sql",
        lambda d: _cfg(d)["idf:meta"].update(temporary=True),
        "config.idf:node_pools.core.temporary",
        "temporary stack",
    ),
]


# Cases whose one mutation breaks more than one rule, with the number of problems reported; every
# other case reports exactly one.
PROBLEMS_OF = {
    "duplicate bucket name": 2,  # both buckets that share the name
    "stack name too long": 2,  # too long for service account ids, and no longer the file's stack
    "temporary stack with cloud sql": 7,  # five non-temporary pools, Cloud SQL, buckets
}


def test_problem_counts_name_real_cases() -> None:
    assert set(PROBLEMS_OF) <= {c[0] for c in CASES}


def _dp01() -> Doc:
    return yaml.safe_load((STACKS_DIR / "Pulumi.dp01.yaml").read_text())


def _run(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["config", "validate", str(path)])
    captured = capsys.readouterr()
    return code, captured.err


def test_valid_file_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "Pulumi.dp01.yaml"
    path.write_text(yaml.safe_dump(_dp01()))
    assert main(["config", "validate", str(path)]) == 0
    assert "valid (stack dp01" in capsys.readouterr().out


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: tuple[str, Callable[[Doc], None], str, str],
) -> None:
    case_id, mutate, key_path, words = case
    problems = PROBLEMS_OF.get(case_id, 1)
    doc = _dp01()
    mutate(doc)
    path = tmp_path / "Pulumi.dp01.yaml"
    path.write_text(yaml.safe_dump(doc))
    code, err = _run(path, capsys)
    assert code == 2, err
    assert str(path) in err, err
    assert f"{key_path}:" in err, err
    assert words in err, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == problems, err
    assert all(line.startswith(f"idf: error: {path}: config.") for line in lines), "one problem per line"


def test_yaml_syntax_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "Pulumi.dp01.yaml"
    path.write_text("config:\n  gcp:project: [unclosed\n")
    code, err = _run(path, capsys)
    assert code == 2 and str(path) in err and "not valid YAML" in err and "line" in err


def test_not_a_mapping(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "Pulumi.dp01.yaml"
    path.write_text("- just\n- a list\n")
    code, err = _run(path, capsys)
    assert code == 2 and "top-level `config:`" in err


def test_unknown_stack_name(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["config", "validate", "dp03"])
    err = capsys.readouterr().err
    assert code == 2 and "no stack 'dp03'" in err and "Traceback" not in err
