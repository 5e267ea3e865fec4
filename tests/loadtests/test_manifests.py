"""GKE manifests of distributed runs: rendered for a cloud stack and validated with kubernetes-validate."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from loadtest_helpers import run_idf, write_fake_stack

from idf_core.errors import OperationFailed
from idf_ops.loadtest.manifests import (
    EXIT_CODE_FILE,
    REPORTS_DIR,
    REPORTS_URI_ENV,
    render_manifests,
    validate_manifests,
)
from idf_ops.loadtest.profiles import load_profile
from loadtests.runconfig import FINAL_STATS_ENV, QservTarget, RunConfig

REPORTS_URI = "gs://rubin-idf-scale-backups/loadtests/qserv-scale75/qserv-kpm-75pct/20260101T000000Z"


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
    return render_manifests(
        config,
        workers=workers,
        image="idf-loadtest:0.1.0",
        reports_uri=REPORTS_URI,
        gcp_service_account="loadtest-qserv-scale75@rubin-idf-scale-test.iam.gserviceaccount.com",
    )


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
        ("ServiceAccount", "locust"),
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
        lambda docs: docs[5]["spec"].update(replicas="six"),
        lambda docs: docs[4]["spec"]["ports"][0].update(prot="TCP"),
        lambda docs: (
            docs[3]["spec"]["template"]["spec"]["containers"][0].pop("image")
            and docs[3]["spec"]["template"]["spec"]["containers"][0].pop("name")
        ),
        lambda docs: docs[2]["metadata"].pop("name"),
        lambda docs: docs[1]["metadata"].update(annotations={"iam.gke.io/gcp-service-account": 7}),
    ],
)
def test_broken_manifest_is_caught(mutate) -> None:  # type: ignore[no-untyped-def]
    documents = _documents()
    mutate(documents)
    with pytest.raises(OperationFailed):
        validate_manifests(documents)


def test_cli_on_a_cloud_stack_without_a_reports_bucket_is_bad_input(tmp_path: Path) -> None:
    write_fake_stack(tmp_path, kind="gcp", stack="cloudy")
    out = tmp_path / "gke"
    result = run_idf(
        tmp_path, "loadtest", "run", "tap-scale", "--stack", "cloudy", "--workers", "3", "--out", str(out)
    )
    assert result.returncode == 2, result.stderr
    assert "its outputs name no loadtest_reports or backups bucket" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (out / "summary.json").exists()  # no run was pretended


def _master_container(documents: list[dict[str, Any]]) -> dict[str, Any]:
    master = next(d for d in documents if d["kind"] == "Job")
    container: dict[str, Any] = master["spec"]["template"]["spec"]["containers"][0]
    return container


def test_master_writes_final_stats_and_uploads_its_reports() -> None:
    documents = _documents()
    container = _master_container(documents)
    env = {variable["name"]: variable["value"] for variable in container["env"]}
    assert env[FINAL_STATS_ENV] == f"{REPORTS_DIR}/final-stats.json"
    assert env[REPORTS_URI_ENV] == REPORTS_URI
    assert {"mountPath": REPORTS_DIR, "name": "reports"} in container["volumeMounts"]
    command = container["command"]
    assert command[:2] == ["sh", "-c"]
    assert command[command.index("--csv") + 1] == f"{REPORTS_DIR}/locust"
    assert "sleep" not in command[2]  # no waiting for a person's kubectl cp
    assert (
        f'python -m idf_clients.gcp upload {REPORTS_DIR} "${REPORTS_URI_ENV}" --last {EXIT_CODE_FILE}'
        in command[2]
    )
    master = next(d for d in documents if d["kind"] == "Job")
    assert master["spec"]["template"]["spec"]["serviceAccountName"] == "locust"
    account = next(d for d in documents if d["kind"] == "ServiceAccount")
    assert account["metadata"]["annotations"]["iam.gke.io/gcp-service-account"].startswith(
        "loadtest-qserv-scale75@"
    )


@pytest.mark.parametrize("locust_exit", [0, 3])
def test_master_wrapper_uploads_reports_and_keeps_the_exit_code(tmp_path: Path, locust_exit: int) -> None:
    """Run the master's own shell wrapper here, folders under tmp_path, `python` a recording stub."""
    container = _master_container(_documents())
    shell, flag, script, name = container["command"][:4]
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "run-config.json").write_text('{"stack": "qserv-scale75"}')
    reports = tmp_path / "reports"
    reports.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # The image's `python -m idf_clients.gcp upload`, recorded: which folder, where, what last.
    stub = bin_dir / "python"
    stub.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/upload-args\nls {reports} > {tmp_path}/uploaded\n')
    stub.chmod(0o755)
    local_script = script.replace("/etc/idf-loadtest", str(config_dir)).replace(REPORTS_DIR, str(reports))
    assert local_script != script
    fake_locust = f"echo statistics > {reports}/locust_stats.csv; exit {locust_exit}"
    result = subprocess.run(
        [shell, flag, local_script, name, "sh", "-c", fake_locust],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", REPORTS_URI_ENV: REPORTS_URI},
    )
    assert result.returncode == locust_exit, result.stderr  # the Job reports Locust's outcome
    assert (reports / EXIT_CODE_FILE).read_text() == f"{locust_exit}\n"
    assert (reports / "run-config.json").read_text() == '{"stack": "qserv-scale75"}'
    args = (tmp_path / "upload-args").read_text().split()
    assert args == ["-m", "idf_clients.gcp", "upload", str(reports), REPORTS_URI, "--last", EXIT_CODE_FILE]
    assert set((tmp_path / "uploaded").read_text().split()) == {
        "locust_stats.csv",
        "run-config.json",
        EXIT_CODE_FILE,
    }
    assert f"reports uploaded to {REPORTS_URI}" in result.stdout


def test_master_fails_when_its_upload_fails(tmp_path: Path) -> None:
    container = _master_container(_documents())
    shell, flag, script, name = container["command"][:4]
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "run-config.json").write_text("{}")
    (tmp_path / "reports").mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").write_text("#!/bin/sh\nexit 1\n")
    (bin_dir / "python").chmod(0o755)
    local_script = script.replace("/etc/idf-loadtest", str(tmp_path / "config")).replace(
        REPORTS_DIR, str(tmp_path / "reports")
    )
    result = subprocess.run(
        [shell, flag, local_script, name, "true"], capture_output=True, text=True, timeout=30, check=False,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", REPORTS_URI_ENV: REPORTS_URI},
    )  # fmt: skip
    assert result.returncode == 70
    assert "its reports were not uploaded" in result.stdout
