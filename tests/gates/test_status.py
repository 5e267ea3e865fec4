"""Status rules: machines decide automated rows, people manual rows, today's date adds overdue."""

from __future__ import annotations

import datetime as dt

import pytest

from idf_ops.gates.registry import Attestation, load_registry
from idf_ops.gates.report import GateResult, checkpoint_result

REGISTRY = load_registry()
BEFORE_DUE = dt.date(2021, 1, 15)
AFTER_DUE = dt.date(2021, 2, 15)


def _gate(status: str, required: bool = True) -> GateResult:
    return GateResult(
        id="g", check="outputs-present", title="a gate", required=required, status=status,  # type: ignore[arg-type]
        reason="r", duration_s=0.1, timeout_s=1,
    )  # fmt: skip


ATTESTATION = Attestation(
    checkpoint="L3-CE-0020",
    attested_by="Release Manager (test)",
    attested_on=dt.date(2021, 2, 1),
    repository_commit="0123456789abcdef0123456789abcdef01234567",
    evidence_url="https://jira.lsstcorp.org/browse/PREOPS-151",  # type: ignore[arg-type]
)


@pytest.mark.parametrize(
    ("gates", "today", "status", "overdue"),
    [
        (["pass", "pass"], AFTER_DUE, "pass", False),
        (["pass", "fail"], BEFORE_DUE, "fail", False),
        (["pass", "fail"], AFTER_DUE, "fail", True),
        (["pass", "offline"], BEFORE_DUE, "fail", False),
    ],
)
def test_automated_status(gates: list[str], today: dt.date, status: str, overdue: bool) -> None:
    milestone = REGISTRY.get("L2-DP-0010")  # due 2021-01-31
    assert milestone is not None
    row = checkpoint_result(milestone, [_gate(g) for g in gates], None, today)
    assert (row.status, row.overdue) == (status, overdue)


def test_optional_gate_failure_does_not_fail_the_row() -> None:
    milestone = REGISTRY.get("L2-DP-0010")
    assert milestone is not None
    row = checkpoint_result(milestone, [_gate("pass"), _gate("fail", required=False)], None, BEFORE_DUE)
    assert row.status == "pass"


@pytest.mark.parametrize(
    ("attestation", "today", "status", "overdue"),
    [
        (None, BEFORE_DUE, "unattested", False),
        # Overdue is a due-date flag beside the status, not a status of its own.
        (None, AFTER_DUE, "unattested", True),
        (ATTESTATION, AFTER_DUE, "attested", False),
    ],
)
def test_manual_status(attestation: Attestation | None, today: dt.date, status: str, overdue: bool) -> None:
    milestone = REGISTRY.get("L3-CE-0020")  # manual, due 2021-01-31
    assert milestone is not None
    row = checkpoint_result(milestone, [], attestation, today)
    assert (row.status, row.overdue) == (status, overdue)
    assert row.ready == (attestation is not None)
    assert row.status != "pass"  # a manual row never shows as passed by a machine


def test_undated_timeline_entry_is_never_overdue() -> None:
    entry = REGISTRY.get("TL-GEN3-SOFTWARE-FREEZE")
    assert entry is not None
    assert checkpoint_result(entry, [], None, dt.date(2030, 1, 1)).status == "unattested"
