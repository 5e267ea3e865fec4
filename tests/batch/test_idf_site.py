"""The BPS site config of the IDF HTCondor pool, from dp02's offline outputs and stack file: the
compute site, per-job CPUs/memory from the batch pool's machine type, >= 3 retries for spot
preemption, the Butler of the outputs; a stack without a batch pool or a too-small retry count is
refused with a one-line error."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from idf_core.contract import contract_of
from idf_core.errors import BadInput
from idf_ops.batch.site import COMPUTE_SITE, MIN_SPOT_RETRIES, idf_site_config, render_site_config
from infra.config import load_stack_file, resolve_stack_file
from support.cli import run_idf
from support.plans import OfflinePlans


def test_dp02_site_config_from_outputs(plans: OfflinePlans) -> None:
    cfg = load_stack_file(resolve_stack_file("dp02"))
    outputs = contract_of(plans["dp02"].outputs)
    site = yaml.safe_load(render_site_config(cfg, outputs))
    assert site["computeSite"] == COMPUTE_SITE and COMPUTE_SITE in site["site"]
    assert site["wmsServiceClass"] == "lsst.ctrl.bps.htcondor.HTCondorService"
    # n2-standard-8: 32 GB over 8 vCPUs, 80 % of a vCPU's 4 GB per single-core job.
    assert (site["requestCpus"], site["requestMemory"]) == (1, 3200)
    assert site["finalJob"] == {"requestCpus": 1, "requestMemory": 3200}
    assert site["numberOfRetries"] >= MIN_SPOT_RETRIES == 3
    assert outputs.butler is not None
    assert site["payload"]["butlerConfig"] == outputs.butler.repo_uri
    assert site["environment"]["IDF_BUTLER_REGISTRY_HOST"] == outputs.butler.registry_host
    assert 'IDF_POOL == "batch"' in site["site"][COMPUTE_SITE]["profile"]["condor"]["requirements"]


def test_spot_pool_refuses_too_few_retries(plans: OfflinePlans) -> None:
    cfg = load_stack_file(resolve_stack_file("dp02"))
    outputs = contract_of(plans["dp02"].outputs)
    with pytest.raises(BadInput, match=r"numberOfRetries >= 3"):
        idf_site_config(cfg, outputs, retries=2)


def test_stack_without_batch_pool_is_refused(plans: OfflinePlans) -> None:
    cfg = load_stack_file(resolve_stack_file("dp01"))
    with pytest.raises(BadInput, match="no pool with role batch"):
        idf_site_config(cfg, contract_of(plans["dp01"].outputs))


def _write_outputs(state: Path, plans: OfflinePlans, stack: str) -> None:
    path = state / "stacks" / stack / "outputs.json"
    path.parent.mkdir(parents=True)
    outputs = contract_of(plans[stack].outputs).model_copy(update={"offline_plan": True})
    path.write_text(outputs.model_dump_json())


def test_idf_batch_site_writes_the_config_from_the_outputs_file(plans: OfflinePlans, tmp_path: Path) -> None:
    _write_outputs(tmp_path, plans, "dp02")
    out = tmp_path / "site" / "site-idf.yaml"
    result = run_idf(
        "batch", "site", "--stack", "dp02", "--out", str(out), env={"IDF_STATE_DIR": str(tmp_path)}
    )
    assert result.returncode == 0, result.stderr
    assert "offline plan's" in result.stderr and f"wrote {out}" in result.stderr
    site = yaml.safe_load(out.read_text())
    assert site["computeSite"] == COMPUTE_SITE and site["numberOfRetries"] == MIN_SPOT_RETRIES
    printed = run_idf(
        "batch", "site", "--stack", "dp02", "--retries", "5", env={"IDF_STATE_DIR": str(tmp_path)}
    )
    assert printed.returncode == 0 and yaml.safe_load(printed.stdout)["numberOfRetries"] == 5


@pytest.mark.parametrize(
    ("stack", "with_outputs", "message"),
    [("dev", True, "batch"), ("dp02", False, "no outputs for stack 'dp02'")],
    ids=["no-batch-pool", "no-outputs"],
)
def test_idf_batch_site_bad_input_writes_nothing(
    plans: OfflinePlans, tmp_path: Path, stack: str, with_outputs: bool, message: str
) -> None:
    if with_outputs:
        _write_outputs(tmp_path, plans, stack)
    out = tmp_path / "site-idf.yaml"
    result = run_idf(
        "batch", "site", "--stack", stack, "--out", str(out), env={"IDF_STATE_DIR": str(tmp_path)}
    )
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()
