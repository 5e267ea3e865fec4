"""GKE manifests of distributed runs: rendered for a cloud stack and validated with kubernetes-validate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from loadtest_helpers import run_idf, write_fake_stack

from idf_ops.errors import OperationFailed
from idf_ops.loadtest.manifests import render_manifests, validate_manifests
from idf_ops.loadtest.profiles import load_profile
from loadtests.runconfig import QservTarget, RunConfig


def _documents(workers: int = 4) -> list[dict[str, Any]]:
    config = RunConfig(
        stack="qserv-scale75",
        profile=load_profile("qserv-kpm-75pct"),
        tap_url="https://example.invalid/api/tap",
        hub_url="https://example.invalid",
        qserv=QservTarget(
            host="qserv-czar", port=4040, database="dp01_dc2_catalogs", dialect="qserv", user="qsmaster"
        ),
    )
    return render_manifests(config, workers=workers, image="idf-loadtest:0.1.0")


def test_rendered_manifests_are_valid_and_named() -> None:
    documents = _documents(workers=6)
    validate_manifests(documents)
    kinds = {(d["kind"], d["metadata"]["name"]) for d in documents}
    assert kinds == {
        ("Namespace", "idf-loadtest"),
        ("ConfigMap", "locust-run-config"),
        ("Job", "locust-master"),
        ("Service", "locust-master"),
        ("Deployment", "locust-worker"),
    }
    worker = next(d for d in documents if d["kind"] == "Deployment")
    assert worker["spec"]["replicas"] == 6
    master = next(d for d in documents if d["kind"] == "Job")
    command = master["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[command.index("--expect-workers") + 1] == "6"
    config_map = next(d for d in documents if d["kind"] == "ConfigMap")
    assert (
        "qserv-password" in config_map["data"]["run-config.json"]
    )  # a path to a mounted secret, not a secret


@pytest.mark.parametrize(
    "mutate",
    [
        lambda docs: docs[4]["spec"].update(replicas="six"),
        lambda docs: docs[3]["spec"]["ports"][0].update(prot="TCP"),
        lambda docs: (
            docs[2]["spec"]["template"]["spec"]["containers"][0].pop("image")
            and docs[2]["spec"]["template"]["spec"]["containers"][0].pop("name")
        ),
        lambda docs: docs[1]["metadata"].pop("name"),
    ],
)
def test_broken_manifest_is_caught(mutate) -> None:  # type: ignore[no-untyped-def]
    documents = _documents()
    mutate(documents)
    with pytest.raises(OperationFailed):
        validate_manifests(documents)


def test_cli_on_a_cloud_stack_renders_validates_and_prints_kubectl(tmp_path: Path) -> None:
    write_fake_stack(tmp_path, kind="gcp", stack="cloudy")
    out = tmp_path / "gke"
    result = run_idf(
        tmp_path, "loadtest", "run", "tap-scale", "--stack", "cloudy", "--workers", "3", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert "nothing was deployed" in result.stdout
    assert f"kubectl apply -f {out / 'locust-gke.yaml'}" in result.stdout
    documents = list(yaml.safe_load_all((out / "locust-gke.yaml").read_text()))
    validate_manifests(documents)
    assert not (out / "summary.json").exists()  # no run was pretended
