"""Without Application Default Credentials every cloud check fails with the command that fixes it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from idf_clients.gcp import ADC_LOGIN_COMMAND
from idf_ops.gates.service import check_gates

from .conftest import cloud_outputs

CLOUD_CHECKS = (
    "compute-ready", "database-reachable", "storage-present", "butler-read", "butler-write-refused",
    "qserv-workers",
)  # fmt: skip


@pytest.mark.usefixtures("no_adc")
def test_every_cloud_gate_names_the_adc_command(state_dir: Path) -> None:
    outputs = cloud_outputs(stack="noadc")
    path = state_dir / "stacks" / "noadc" / "outputs.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(outputs.model_dump(mode="json")))
    report = check_gates("noadc", ["L2-DP-0010", "L3-MW-0030", "L3-MW-0010"], today=dt.date(2021, 1, 1))
    gates = {gate.check: gate for row in report.checkpoints for gate in row.gates}
    for check_id in CLOUD_CHECKS:
        gate = gates[check_id]
        assert gate.status == "fail", check_id
        assert gate.reason.startswith("no Google Application Default Credentials on this machine"), (
            check_id,
            gate.reason,
        )
        assert f"run `{ADC_LOGIN_COMMAND}`" in gate.reason, check_id
        assert "not reachable from this machine" not in gate.reason
