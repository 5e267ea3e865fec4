"""`idf config validate` reports every problem of a file and every file named, not only the first.

Schema errors and cross-field problems of one file come together (a check runs when the sections it
reads parsed); several files are all validated; and the check registry is what the loader relies
on: each check reads only the sections it declares, and stays small.
"""

from __future__ import annotations

import inspect
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from idf_core.paths import REPO_ROOT, STACKS_DIR
from idf_ops.cli.main import main
from infra.config import CHECKS, StackConfig, StackConfigError, config_problems, load_stack_file

IDF = str(REPO_ROOT / ".venv" / "bin" / "idf")
STACK_FILES = sorted(STACKS_DIR.glob("Pulumi.*.yaml"))
MAX_CHECK_LINES = 40


def _dp01() -> dict[str, Any]:
    return yaml.safe_load((STACKS_DIR / "Pulumi.dp01.yaml").read_text())


def _three_mistakes(doc: dict[str, Any]) -> dict[str, Any]:
    config = doc["config"]
    config["idf:gke"]["release_channel"] = "BETA"  # schema error
    config["idf:network"]["pods_cidr"] = "10.128.0.0/14"  # cross-field: overlaps subnet_cidr
    config["idf:buckets"]["backups"]["name"] = "Rubin_Backups"  # cross-field: not a GCS name
    return doc


THREE_MISTAKES = [
    ("config.idf:gke.release_channel", "RAPID"),
    ("config.idf:network.pods_cidr", "overlaps subnet_cidr"),
    ("config.idf:buckets.backups.name", "invalid GCS bucket name"),
]


def _write(tmp_path: Path, name: str, doc: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return path


def test_three_independent_mistakes_are_all_printed(tmp_path: Path) -> None:
    path = _write(tmp_path, "Pulumi.dp01.yaml", _three_mistakes(_dp01()))
    result = subprocess.run(
        [IDF, "config", "validate", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == len(THREE_MISTAKES), result.stderr
    for line, (key, words) in zip(lines, THREE_MISTAKES, strict=True):
        assert line.startswith(f"idf: error: {path}: {key}: "), line
        assert words in line, line
    assert result.stdout == ""


def test_all_schema_errors_come_together(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _dp01()
    doc["config"]["idf:node_pools"]["core"]["max_nodse"] = 3
    doc["config"]["idf:node_pools"]["qserv_czar"]["min_nodes"] = "one"
    doc["config"]["idf:cloudsql"]["max_connections"] = 5
    path = _write(tmp_path, "Pulumi.dp01.yaml", doc)
    assert main(["config", "validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 3, err
    for key in (
        "config.idf:node_pools.core.max_nodse",
        "config.idf:node_pools.qserv_czar.min_nodes",
        "config.idf:cloudsql.max_connections",
    ):
        assert f"{path}: {key}: " in err, err


def test_checks_skip_a_section_that_failed_but_run_on_the_others() -> None:
    doc = _dp01()
    # node_pools fails the schema: the Qserv pool references must not echo it as "no node pool" ...
    doc["config"]["idf:node_pools"]["qserv_worker"]["max_nodse"] = 9
    # ... while the checks that do not read node_pools still run.
    doc["config"]["idf:kubernetes"]["namespaces"].pop("qserv")
    doc["config"]["idf:network"]["master_cidr"] = "172.16.0.0/24"
    cfg, problems = config_problems(doc, "dp01")
    assert cfg is None
    assert [p.key for p in problems] == [
        "config.idf:node_pools.qserv_worker.max_nodse",
        "config.idf:network.master_cidr",
        "config.idf:kubernetes.namespaces",
    ]


def test_unnamespaced_keys_are_problems_next_to_the_rest() -> None:
    doc = _dp01()
    doc["config"]["region"] = "us-central1"
    doc["config"]["network"] = doc["config"]["idf:network"]  # a python field name, not a stack key
    doc["config"]["idf:meta"]["environment"] = "dp02"
    _, problems = config_problems(doc, "dp01")
    keys = [p.key for p in problems]
    assert keys == ["config.region", "config.network", "config.idf:meta.environment"], problems
    assert "namespace the key" in problems[0].message


def test_every_file_named_is_validated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a").mkdir()
    first = _write(tmp_path / "a", "Pulumi.dp01.yaml", _three_mistakes(_dp01()))
    second_doc = _dp01()
    second_doc["config"]["idf:gke"]["node_zones"] = ["us-east1-b"]
    second = _write(tmp_path, "Pulumi.dp01.yaml", second_doc)
    code = main(["config", "validate", str(first), "dev", "dp03", str(second), "dp01"])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    err = captured.err.splitlines()
    assert sum(line.startswith(f"idf: error: {first}: ") for line in err) == 3, captured.err
    assert f"idf: error: {second}: config.idf:gke.node_zones[0]: " in captured.err
    assert "no stack 'dp03'" in captured.err
    assert err[-1] == f"idf: error: 3 of 5 stack files are invalid: {first}, dp03, {second}"
    valid = captured.out.splitlines()
    assert len(valid) == 2, captured.out
    assert "Pulumi.dev.yaml: valid (stack dev" in valid[0]
    assert "Pulumi.dp01.yaml: valid (stack dp01" in valid[1]
    assert "Traceback" not in captured.err


def test_several_valid_files_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "validate", *map(str, STACK_FILES)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert len(captured.out.splitlines()) == len(STACK_FILES)


def test_the_error_lists_every_problem_for_other_readers(tmp_path: Path) -> None:
    path = _write(tmp_path, "Pulumi.dp01.yaml", _three_mistakes(_dp01()))
    with pytest.raises(StackConfigError) as caught:
        load_stack_file(path)
    assert [p.key for p in caught.value.problems] == [key for key, _ in THREE_MISTAKES]
    assert str(caught.value).splitlines() == caught.value.lines()
    assert caught.value.exit_code == 2


# --------------------------------------------------------------------------------------------
# the check registry
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("check", CHECKS, ids=[c.name for c in CHECKS])
def test_check_is_small(check: Any) -> None:
    lines, _ = inspect.getsourcelines(check.run)
    assert len(lines) <= MAX_CHECK_LINES, f"{check.name} has {len(lines)} lines; split it by concern"


@pytest.mark.parametrize("check", CHECKS, ids=[c.name for c in CHECKS])
@pytest.mark.parametrize("path", STACK_FILES, ids=[p.name for p in STACK_FILES])
def test_check_reads_only_what_it_declares(check: Any, path: Path) -> None:
    full = load_stack_file(path)
    assert check.reads <= set(StackConfig.model_fields), check.reads
    partial = StackConfig.model_construct(**{name: getattr(full, name) for name in check.reads})
    for name in set(StackConfig.model_fields) - check.reads:
        partial.__dict__.pop(name, None)  # defaults too: reading an undeclared field must fail
    assert list(check.run(partial)) == []  # the committed stacks are valid
