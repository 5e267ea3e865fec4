"""`idf phalanx render` (values files from the outputs) and `idf outputs pull` (Automation API):
both run as an operator's shell would, against outputs of the real program (the offline plan's
exports stand for a live stack's `pulumi stack output --json`)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from idf_core.contract import ProgramOutputs
from idf_ops.phalanx.values import EnvironmentValues, NubladoValues
from support.cli import run_idf

FAKE_PULUMI = """#!/bin/sh
# A stand-in for the Pulumi CLI: logs its arguments and answers what the Automation API asks.
if [ "$1" = "--non-interactive" ]; then shift; fi
echo "$*" >> "$FAKE_PULUMI_LOG"
case "$1 $2" in
  "version "*) echo "v3.272.0" ;;
  "stack select") exit 0 ;;
  "stack output")
    case "$*" in
      *--show-secrets*) cat "$FAKE_PULUMI_OUTPUTS" ;;
      *) cat "$FAKE_PULUMI_MASKED" ;;
    esac ;;
  *) echo "fake pulumi: unexpected: $*" >&2; exit 1 ;;
esac
"""


def _live_exports(plans: Any, stack: str) -> dict[str, Any]:
    """What `pulumi stack output --json --show-secrets` prints for the stack: the program's exports."""
    return ProgramOutputs.model_validate(plans[stack].outputs).exports()


def _path_without_pulumi() -> str:
    return os.pathsep.join(
        p for p in os.environ["PATH"].split(os.pathsep) if not (Path(p) / "pulumi").exists()
    )


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "var"


def _fake_cli(
    tmp_path: Path, exports: dict[str, Any], masked: dict[str, Any] | None = None
) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(FAKE_PULUMI)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "outputs.json").write_text(json.dumps(exports))
    (tmp_path / "masked.json").write_text(json.dumps(masked if masked is not None else exports))
    return {
        "PATH": f"{bin_dir}{os.pathsep}{_path_without_pulumi()}",
        "FAKE_PULUMI_LOG": str(tmp_path / "pulumi.log"),
        "FAKE_PULUMI_OUTPUTS": str(tmp_path / "outputs.json"),
        "FAKE_PULUMI_MASKED": str(tmp_path / "masked.json"),
    }


def test_pull_through_the_automation_api(plans: Any, tmp_path: Path, state: Path) -> None:
    exports = _live_exports(plans, "dp01")
    env = {**_fake_cli(tmp_path, exports), "IDF_STATE_DIR": str(state)}
    done = run_idf("outputs", "pull", "dp01", env=env)
    assert done.returncode == 0, done.stderr
    assert "data.lsst.cloud" in done.stdout
    written = json.loads((state / "stacks" / "dp01" / "outputs.json").read_text())
    assert written == exports and "offline_plan" not in written
    calls = (tmp_path / "pulumi.log").read_text().splitlines()
    assert "stack select --stack dp01" in calls
    assert any(c.startswith("stack output --json --show-secrets") and "dp01" in c for c in calls), calls
    # The pulled file is what the tools read: render works on it without --allow-offline.
    rendered = run_idf("phalanx", "render", "dp01", env=env)
    assert rendered.returncode == 0, rendered.stderr


def test_pull_refuses_outputs_off_contract_and_keeps_the_old_file(
    plans: Any, tmp_path: Path, state: Path
) -> None:
    exports = _live_exports(plans, "dp01")
    broken = {**exports, "qserv": {**exports["qserv"], "port": "not-a-port"}}
    env = {**_fake_cli(tmp_path, broken), "IDF_STATE_DIR": str(state)}
    previous = state / "stacks" / "dp01" / "outputs.json"
    previous.parent.mkdir(parents=True)
    previous.write_text('{"kept": true}\n')
    done = run_idf("outputs", "pull", "dp01", env=env)
    assert done.returncode == 1, done.stderr
    assert "qserv.port" in done.stderr and "Nothing was written" in done.stderr
    assert previous.read_text() == '{"kept": true}\n'
    assert [p.name for p in previous.parent.iterdir()] == ["outputs.json"], "no temporary file left"


def test_pull_refuses_secret_outputs(plans: Any, tmp_path: Path, state: Path) -> None:
    exports = _live_exports(plans, "dp01")
    masked = {**exports, "cluster_name": "[secret]"}
    env = {**_fake_cli(tmp_path, exports, masked), "IDF_STATE_DIR": str(state)}
    done = run_idf("outputs", "pull", "dp01", env=env)
    assert done.returncode == 1 and "cluster_name are secrets" in done.stderr, done.stderr
    assert not (state / "stacks" / "dp01" / "outputs.json").exists()


def test_pull_without_a_cli_names_what_to_install(state: Path) -> None:
    done = run_idf(
        "outputs", "pull", "dp01", env={"PATH": _path_without_pulumi(), "IDF_STATE_DIR": str(state)}
    )
    assert done.returncode == 2
    assert "the Pulumi CLI is not installed" in done.stderr and "https://get.pulumi.com" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (state / "stacks" / "dp01").exists()


def _write_outputs(state: Path, stack: str, exports: dict[str, Any]) -> None:
    path = state / "stacks" / stack / "outputs.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(exports))


def test_render_writes_the_environment_from_the_outputs(plans: Any, state: Path) -> None:
    exports = _live_exports(plans, "dp01")
    _write_outputs(state, "dp01", exports)
    done = run_idf("phalanx", "render", "dp01", env={"IDF_STATE_DIR": str(state)})
    assert done.returncode == 0, done.stderr
    root = state / "stacks" / "dp01" / "phalanx"
    env = yaml.safe_load((root / "environments" / "values-idf-dp01.yaml").read_text())
    EnvironmentValues.model_validate(env)
    assert env["name"] == "idf-dp01" and env["fqdn"] == "data.lsst.cloud"
    assert env["appOfAppsName"] == "science-platform"
    assert env["applications"] == {
        "gafaelfawr": True,
        "nublado": True,
        "tap": True,
        "portal": True,
        "datalinker": True,
        "cert-manager": False,
    }
    assert env["butlerServerRepositories"] == {"dp01": exports["butler"]["readonly_config"]}
    assert env["gcp"] == {"projectId": "rubin-idf-dp01", "region": "us-central1", "clusterName": "idf-dp01"}
    assert env["vaultPathPrefix"] == "secret/phalanx/idf-dp01"
    gafaelfawr = yaml.safe_load((root / "applications" / "gafaelfawr" / "values-idf-dp01.yaml").read_text())
    assert gafaelfawr["config"]["github"] == {"clientId": exports["science_platform"]["github_client_id"]}
    team = {"github": {"organization": "lsst", "team": "idf-dp01-users"}}
    assert gafaelfawr["config"]["groupMapping"]["exec:notebook"] == [team]
    assert "secret" not in json.dumps(gafaelfawr).lower(), "the client secret is never in a values file"
    tap = yaml.safe_load((root / "applications" / "tap" / "values-idf-dp01.yaml").read_text())
    assert tap == {"cadc-tap": {"config": {"qserv": {"host": f"{exports['qserv']['host']}:4040"}}}}
    nginx = yaml.safe_load((root / "applications" / "ingress-nginx" / "values-idf-dp01.yaml").read_text())
    assert nginx["ingress-nginx"]["controller"]["service"]["annotations"]["cloud.google.com/neg"]
    nublado = yaml.safe_load((root / "applications" / "nublado" / "values-idf-dp01.yaml").read_text())
    NubladoValues.model_validate(nublado)
    config = nublado["controller"]["config"]
    assert json.loads(config["lab"]["env"]["DAF_BUTLER_REPOSITORIES"]) == {
        "dp01": exports["butler"]["readonly_config"]
    }
    assert config["images"]["source"] == {
        "type": "docker",
        "registry": "docker.io",
        "repository": "lsstsqre/sciplat-lab",
    }
    assert [s["size"] for s in config["lab"]["sizes"]] == ["small", "medium", "large"]
    assert config["fileserver"] == {"enabled": False}, "no access besides the notebooks"


def test_render_refuses_offline_outputs_unless_asked(plans: Any, state: Path) -> None:
    _write_outputs(state, "dp01", {**_live_exports(plans, "dp01"), "offline_plan": True})
    done = run_idf("phalanx", "render", "dp01", env={"IDF_STATE_DIR": str(state)})
    assert done.returncode == 2 and "idf outputs pull dp01" in done.stderr
    assert not (state / "stacks" / "dp01" / "phalanx").exists()
    done = run_idf("phalanx", "render", "dp01", "--allow-offline", env={"IDF_STATE_DIR": str(state)})
    assert done.returncode == 0, done.stderr


def test_render_refuses_a_stack_without_a_platform(plans: Any, state: Path) -> None:
    _write_outputs(state, "qserv-scale75", _live_exports(plans, "qserv-scale75"))
    done = run_idf("phalanx", "render", "qserv-scale75", env={"IDF_STATE_DIR": str(state)})
    assert done.returncode == 2 and "idf:phalanx" in done.stderr
    missing = run_idf("phalanx", "render", "dp02", env={"IDF_STATE_DIR": str(state)})
    assert missing.returncode == 2 and "no outputs" in missing.stderr


def test_values_model_refuses_unknown_keys() -> None:
    good = {
        "name": "idf-dp01",
        "fqdn": "data.lsst.cloud",
        "appOfAppsName": "science-platform",
        "butlerServerRepositories": {},
        "gcp": {"projectId": "p", "region": "r", "clusterName": "c"},
        "vaultUrl": "https://vault.lsst.cloud/",
        "vaultPathPrefix": "secret/phalanx/idf-dp01",
        "applications": {"gafaelfawr": True},
    }
    EnvironmentValues.model_validate(good)
    with pytest.raises(ValueError, match="butlerRepositoryIndx"):
        EnvironmentValues.model_validate({**good, "butlerRepositoryIndx": "x"})


@pytest.mark.parametrize("command", [["phalanx", "render"], ["outputs", "pull"]], ids=["render", "pull"])
def test_a_bad_stack_name_is_refused_before_anything_runs(command: list[str], state: Path) -> None:
    done = run_idf(*command, "../etc", env={"IDF_STATE_DIR": str(state)})
    assert done.returncode == 2 and "not a stack name" in done.stderr and "Traceback" not in done.stderr
    assert not state.exists()


def _nublado_values() -> dict[str, Any]:
    size = {"limits": {"cpu": 1.0, "memory": "4Gi"}, "requests": {"cpu": 0.25, "memory": "1Gi"}}
    return {
        "controller": {
            "config": {
                "images": {
                    "source": {
                        "type": "docker",
                        "registry": "docker.io",
                        "repository": "lsstsqre/sciplat-lab",
                    },
                    "recommendedTag": "recommended",
                    "numReleases": 1,
                    "numWeeklies": 2,
                    "numDailies": 3,
                },
                "lab": {
                    "env": {"DAF_BUTLER_REPOSITORIES": '{"dp01": "gs://b/repo/butler-readonly.yaml"}'},
                    "sizes": [{"size": "small", "resources": size}, {"size": "large", "resources": size}],
                },
                "fileserver": {"enabled": False},
            }
        }
    }


def _set(values: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    node = values
    *parents, leaf = path.split(".")
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[leaf] = value
    return values


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("controller.config.fileserver.enabled", True, "fileserver.enabled"),
        ("controller.config.lab.env.DAF_BUTLER_REPOSITORIES", '{"dp01": "/local/repo"}', "is not a gs://"),
        ("controller.config.lab.env.DAF_BUTLER_REPOSITORIES", "dp01=gs://b", "is not JSON"),
        ("controller.config.lab.env.DAF_BUTLER_REPOSITORY", "x", "DAF_BUTLER_REPOSITORY"),
        ("controller.config.lab.sizes", [{"size": "huge", "resources": {}}], "resources"),
        ("controller.config.images.source.type", "google", "source.type"),
        ("controller.config.images.numWeekly", 2, "numWeekly"),
    ],
    ids=[
        "fileserver-on",
        "local-butler-uri",
        "index-not-json",
        "misspelt-env",
        "size-no-resources",
        "other-source",
        "misspelt-images-key",
    ],
)
def test_nublado_model_refuses_a_wrong_field(path: str, value: Any, message: str) -> None:
    NubladoValues.model_validate(_nublado_values())
    with pytest.raises(ValueError, match=message):
        NubladoValues.model_validate(_set(_nublado_values(), path, value))


def test_nublado_sizes_follow_nublado_order() -> None:
    values = _nublado_values()
    sizes = values["controller"]["config"]["lab"]["sizes"]
    sizes.reverse()
    with pytest.raises(ValueError, match="in Nublado's order"):
        NubladoValues.model_validate(values)
