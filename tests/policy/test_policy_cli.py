"""`idf policy check`: exit 0 on a clean stack, 1 with the violations listed, 2 on bad input."""

from __future__ import annotations

from typing import Any

import pytest

from idf_ops.cli.main import main
from infra.policy import rules

pytestmark = pytest.mark.filterwarnings("ignore:.*has been deprecated in favor of:DeprecationWarning")


def test_clean_stack_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check", "dp01"]) == 0
    out = capsys.readouterr().out
    assert "dp01:" in out and "0 violation(s)" in out


def test_violation_exits_1_and_is_listed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def one_violation(resources: Any, *args: Any, **kwargs: Any) -> list[rules.Violation]:
        return [rules.Violation("gke-private-nodes", "urn:pulumi:dp01::idf::x::y", "nodes are public")]

    monkeypatch.setattr(rules, "evaluate_inventory", one_violation)
    assert main(["policy", "check", "dp01"]) == 1
    assert "[gke-private-nodes] urn:pulumi:dp01::idf::x::y: nodes are public" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv", [["policy", "check"], ["policy", "check", "no-such-stack"]], ids=["no-stack", "unknown-stack"]
)
def test_bad_input_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "idf: error:" in err and "Traceback" not in err


def test_list_names_every_policy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "list"]) == 0
    out = capsys.readouterr().out
    assert all(policy.name in out for policy in rules.POLICIES)
