"""Profiles: every shipped profile is valid and bounded; each kind of bad input is a clear exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from loadtest_helpers import run_idf, write_fake_stack, write_profile

from idf_core.errors import BadInput
from idf_ops.loadtest.profiles import PROFILES_DIR, list_profiles, load_profile

SHIPPED = ["smoke", "dp01-100-users", "qserv-kpm-75pct", "tap-scale", "science-platform-scale"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_profile_is_valid_and_bounded(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert profile.users <= 2000 and profile.run_time_s <= 24 * 3600 and profile.max_iterations_per_user >= 1
    assert profile.slos


def test_list_holds_every_shipped_profile() -> None:
    assert sorted(p.name for p in list_profiles()) == sorted(SHIPPED)


def test_qserv_kpm_profile_is_ldm552_75pct_step() -> None:
    profile = load_profile("qserv-kpm-75pct")
    counts = {e.user_class: e.fixed_count for e in profile.user_classes}
    assert counts == {"QservLowVolumeUser": 90, "QservHighVolumeUser": 40}
    slos = {s.kind: s for s in profile.slos}
    assert slos["qserv.lv.*"].p95_ms == 10_000
    assert slos["qserv.hv.scan.object"].max_ms == 3_600_000


def test_dp01_profile_stays_under_100_users_with_think_time() -> None:
    profile = load_profile("dp01-100-users")
    assert profile.users < 100
    assert profile.think_time.min_s > 0


def _mutated(tmp_path: Path, name: str, mutate) -> Path:  # type: ignore[no-untyped-def]
    document = yaml.safe_load((PROFILES_DIR / "smoke.yaml").read_text())
    document["name"] = name
    mutate(document)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(userz=3), "userz"),
        (lambda d: d.update(users=0), "users"),
        (lambda d: d["user_classes"].append({"class": "NoSuchUser", "weight": 1}), "user_classes.5.class"),
        (lambda d: d["user_classes"][0].pop("fixed_count"), "weight` or `fixed_count"),
        (lambda d: d.update(users=2), "more than users"),
        (lambda d: d.update(think_time={"min_s": 3, "max_s": 1}), "below min_s"),
        (lambda d: d["slos"][0].update(p95_ms=-1), "slos.0.p95_ms"),
        (lambda d: d["slos"][0].update(kind="tap lv"), "kind"),
        (lambda d: d.update(slos=[]), "slos"),
        (lambda d: d["user_classes"].append(d["user_classes"][0]), "listed twice"),
    ],
)
def test_bad_profile_is_rejected_with_file_and_key(tmp_path: Path, mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    path = _mutated(tmp_path, "bad", mutate)
    with pytest.raises(BadInput) as caught:
        load_profile(str(path))
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_the_unmutated_copy_is_accepted(tmp_path: Path) -> None:
    """The mutations above are what makes those profiles bad."""
    assert load_profile(str(_mutated(tmp_path, "good", lambda d: None))).name == "good"


def test_name_must_match_file(tmp_path: Path) -> None:
    path = _mutated(tmp_path, "one", lambda d: d.update(name="other"))
    with pytest.raises(BadInput, match="differs from the file name"):
        load_profile(str(path))


def test_invalid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\nusers: [1, 2\n")
    with pytest.raises(BadInput, match="invalid YAML"):
        load_profile(str(path))


def test_cli_unknown_profile_exits_2_without_traceback(tmp_path: Path) -> None:
    result = run_idf(tmp_path, "loadtest", "run", "no-such-profile", "--stack", "local")
    assert result.returncode == 2
    assert "unknown profile 'no-such-profile'" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_invalid_yaml_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\nusers: [1, 2\n")
    result = run_idf(tmp_path, "loadtest", "run", str(path), "--stack", "local")
    assert result.returncode == 2
    assert "invalid YAML" in result.stderr and "Traceback" not in result.stderr


def test_cli_unreachable_target_exits_2(tmp_path: Path) -> None:
    write_fake_stack(tmp_path, tap_port=9)  # nothing listens on the discard port
    profile = write_profile(tmp_path, "tiny")
    result = run_idf(tmp_path, "loadtest", "run", str(profile), "--stack", "fake")
    assert result.returncode == 2
    assert "tap target 127.0.0.1:9 is unreachable" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_refuses_non_loopback_targets_on_a_local_stack(tmp_path: Path) -> None:
    write_fake_stack(tmp_path)
    outputs = tmp_path / "stacks" / "fake" / "outputs.json"
    outputs.write_text(outputs.read_text().replace("http://127.0.0.1:9/tap", "http://192.0.2.1:80/tap"))
    result = run_idf(tmp_path, "loadtest", "run", str(write_profile(tmp_path, "tiny")), "--stack", "fake")
    assert result.returncode == 2
    assert "not on 127.0.0.1" in result.stderr


def test_cli_list(tmp_path: Path) -> None:
    result = run_idf(tmp_path, "loadtest", "list")
    assert result.returncode == 0
    for name in SHIPPED:
        assert name in result.stdout
