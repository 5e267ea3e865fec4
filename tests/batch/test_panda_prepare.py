"""`idf batch submit --wms panda` (issue 13 item 5), offline up to the point a server would be
contacted: the submission carries dp02's queue, iDDS server and OIDC settings and no secret; in the
batch environment BPS's prepare stage builds the iDDS workflow with one PanDA task per pipeline
task (plus BPS's init and final jobs), every task on the configured queue, each depending on the
task before it."""

from __future__ import annotations

import json

import pytest

from idf_core.errors import BadInput
from idf_ops.batch.panda import OFFLINE_PANDA_ENV, panda_config, panda_environment, submission
from idf_ops.batch.service import OUTPUT_DATASET_TYPES
from support.cli import run_idf


def test_submission_from_stack_config_has_queue_and_no_secret() -> None:
    _cfg, panda = panda_config("dp02")
    config = submission(panda, label="t1", stack="dp02")
    assert config["queue"] == config["computeSite"] == panda.queue
    assert config["iddsServer"] == panda.idds_server
    env = panda_environment(panda)
    assert env["PANDA_AUTH"] == "oidc" and env["PANDA_AUTH_VO"] == panda.auth_vo
    assert env["PANDA_URL_SSL"] == panda.server_url
    text = json.dumps([config, env]).lower()
    assert "token" not in text and "password" not in text
    assert all("127.0.0.1:9" in v for k, v in OFFLINE_PANDA_ENV.items() if k.endswith("_URL"))


def test_a_stack_without_panda_and_a_bad_label_are_refused() -> None:
    with pytest.raises(BadInput, match=r"idf:panda is not set"):
        panda_config("dev")
    _cfg, panda = panda_config("dp02")
    with pytest.raises(BadInput, match="--label"):
        submission(panda, label="Bad Label", stack="dp02")


@pytest.mark.local_stack
def test_prepared_workflow_has_the_pipeline_tasks_on_the_configured_queue() -> None:
    _cfg, panda = panda_config("dp02")
    done = run_idf("batch", "submit", "--wms", "panda", "--stack", "dp02", "--label", "panda-test")
    assert done.returncode == 0, done.stderr
    workflow = json.loads(done.stdout)["workflow"]
    labels = [t["label"] for t in workflow["tasks"]]
    assert sorted(labels) == sorted(["pipetaskInit", *OUTPUT_DATASET_TYPES, "finalJob"])
    assert {t["queue"] for t in workflow["tasks"]} == {panda.queue}
    by_label = {t["label"]: t for t in workflow["tasks"]}
    # The per-patch step waits for init; each later step depends on the one before it.
    for label, parent in (("measurePatch", "pipetaskInit"), ("mergeBands", "measurePatch"),
                          ("tractSummary", "mergeBands"), ("runSummary", "tractSummary")):  # fmt: skip
        (dependency,) = by_label[label]["dependency_tasks"]
        assert dependency == by_label[parent]["name"]
        assert by_label[label]["dependencies"] >= by_label[label]["jobs"] > 0
