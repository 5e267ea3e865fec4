"""GKE manifests of distributed runs: rendered for a cloud stack and validated with kubernetes-validate."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from loadtest_helpers import run_idf, write_fake_stack

from idf_core.errors import OperationFailed
from idf_ops.loadtest.manifests import (
    EXIT_CODE_FILE,
    REPORTS_DIR,
    REPORTS_KEPT_S,
    render_manifests,
    validate_manifests,
)
from idf_ops.loadtest.profiles import load_profile
from loadtests.runconfig import FINAL_STATS_ENV, QservTarget, RunConfig


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
    assert "no SLO was judged" in result.stdout
    steps = result.stdout.splitlines()
    copy = next(i for i, line in enumerate(steps) if "kubectl -n idf-loadtest cp" in line)
    assert steps[copy].endswith(f'cp "$POD":{REPORTS_DIR} {out / "gke-reports"}')
    assert steps[copy + 1].strip() == (
        f"idf loadtest collect tap-scale --stack cloudy --from {out / 'gke-reports'}"
    )
    documents = list(yaml.safe_load_all((out / "locust-gke.yaml").read_text()))
    validate_manifests(documents)
    assert not (out / "summary.json").exists()  # no run was pretended


def _master_container(documents: list[dict[str, Any]]) -> dict[str, Any]:
    master = next(d for d in documents if d["kind"] == "Job")
    container: dict[str, Any] = master["spec"]["template"]["spec"]["containers"][0]
    return container


def test_master_writes_final_stats_and_outlives_locust_by_the_kept_time() -> None:
    documents = _documents()
    container = _master_container(documents)
    env = {variable["name"]: variable["value"] for variable in container["env"]}
    assert env[FINAL_STATS_ENV] == f"{REPORTS_DIR}/final-stats.json"
    assert {"mountPath": REPORTS_DIR, "name": "reports"} in container["volumeMounts"]
    command = container["command"]
    assert command[:2] == ["sh", "-c"]
    assert command[command.index("--csv") + 1] == f"{REPORTS_DIR}/locust"
    profile = load_profile("qserv-kpm-75pct")
    master = next(d for d in documents if d["kind"] == "Job")
    # The deadline must not cut the kept time short: run + stop + kept, and slack beyond.
    assert (
        master["spec"]["activeDeadlineSeconds"] > profile.run_time_s + profile.stop_timeout_s + REPORTS_KEPT_S
    )
    assert f"sleep {REPORTS_KEPT_S}" in command[2]


@pytest.mark.parametrize("locust_exit", [0, 3])
def test_master_wrapper_keeps_reports_and_records_the_exit_code(tmp_path: Path, locust_exit: int) -> None:
    """Run the master's own shell wrapper here, with its folders moved under tmp_path and a short keep."""
    container = _master_container(_documents())
    shell, flag, script, name = container["command"][:4]
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "run-config.json").write_text('{"stack": "qserv-scale75"}')
    reports = tmp_path / "reports"
    reports.mkdir()
    local_script = (
        script.replace("/etc/idf-loadtest", str(config_dir))
        .replace(REPORTS_DIR, str(reports))
        .replace(f"sleep {REPORTS_KEPT_S}", "sleep 0")
    )
    assert local_script != script
    fake_locust = f"echo statistics > {reports}/locust_stats.csv; exit {locust_exit}"
    result = subprocess.run(
        [shell, flag, local_script, name, "sh", "-c", fake_locust],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == locust_exit, result.stderr  # the Job reports Locust's outcome
    assert (reports / EXIT_CODE_FILE).read_text() == f"{locust_exit}\n"
    assert (reports / "run-config.json").read_text() == '{"stack": "qserv-scale75"}'
    assert (reports / "locust_stats.csv").read_text() == "statistics\n"
    assert f"kept {REPORTS_KEPT_S} s for kubectl cp" in result.stdout
