"""runbooks/security.md points only at policies and tests that exist, and covers every policy."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from infra.policy.rules import POLICIES

REPO = Path(__file__).resolve().parents[2]
RUNBOOK = REPO / "runbooks" / "security.md"
POLICY_REF = re.compile(r"`policy:([a-z0-9-]+)`")
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
THREAT_ROW = re.compile(r"^\| (T\d+) \|.*\|(?P<enforced>[^|]*)\|\s*$", re.MULTILINE)


def defined_tests(path: Path) -> set[str]:
    """Names of the test functions defined at the top level of a test module."""
    tree = ast.parse(path.read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def referenced(text: str) -> tuple[set[str], set[tuple[str, str]]]:
    return set(POLICY_REF.findall(text)), set(TEST_REF.findall(text))


def missing_references(text: str, repo: Path) -> list[str]:
    """References in ``text`` to policies or tests that do not exist under ``repo``."""
    policies, tests = referenced(text)
    known = {p.name for p in POLICIES}
    missing = [f"policy:{name}" for name in sorted(policies - known)]
    for file, name in sorted(tests):
        path = repo / file
        if not path.is_file() or name not in defined_tests(path):
            missing.append(f"{file}::{name}")
    return missing


def test_every_reference_exists() -> None:
    assert missing_references(RUNBOOK.read_text(), REPO) == []


def test_every_policy_is_mapped_to_a_threat() -> None:
    policies, _ = referenced(RUNBOOK.read_text())
    assert {p.name for p in POLICIES} - policies == set()


def test_every_threat_names_its_enforcement() -> None:
    rows = THREAT_ROW.findall(RUNBOOK.read_text())
    assert len(rows) >= 10
    for match in THREAT_ROW.finditer(RUNBOOK.read_text()):
        enforced = match.group("enforced")
        assert POLICY_REF.search(enforced) or TEST_REF.search(enforced), match.group(1)


@pytest.mark.parametrize(
    "bad",
    [
        "`policy:no-such-policy`",
        "`tests/security/test_secret_scan.py::test_that_was_renamed`",
        "`tests/nowhere/test_gone.py::test_x`",
    ],
    ids=["unknown-policy", "renamed-test", "missing-file"],
)
def test_dangling_reference_is_caught(bad: str) -> None:
    assert missing_references(f"| T99 | x | y | {bad} |", REPO) == [bad.strip("`")]
