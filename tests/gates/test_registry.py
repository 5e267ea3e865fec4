"""The milestone registry: complete against the seed's Tables 1 and 2, and strict about bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from idf_core.errors import BadInput
from idf_ops.gates.registry import (
    ATTESTATIONS_PATH,
    MILESTONES_DIR,
    REGISTRY_PATH,
    AttestationFile,
    Registry,
    load_attestations,
    load_registry,
)

# Table 1 of the seed, (Rubin ID, Jira ID, due date, level), in the seed's order.
TABLE_1 = [
    ("L3-CE-0020", "PREOPS-151", "2021-01-31", 3),
    ("L2-DP-0010", "PREOPS-140", "2021-01-31", 2),
    ("L3-MW-0030", "PREOPS-143", "2021-03-31", 3),
    ("L3-MW-0010", "PREOPS-142", "2021-03-31", 3),
    ("L3-PR-0010", "PREOPS-141", "2021-03-31", 3),
    ("L3-MW-0050", "PREOPS-154", "2021-03-31", 3),
    ("L3-MW-0020", "PREOPS-144", "2021-04-30", 3),
    ("L2-DP-0020", "PREOPS-146", "2021-05-03", 2),
    ("L3-MW-0070", "PREOPS-156", "2021-06-10", 3),
    ("L2-SP-0020", "PREOPS-150", "2021-06-30", 2),
    ("L3-CE-0010", "PREOPS-149", "2021-06-30", 3),
    ("L3-MW-0060", "PREOPS-155", "2021-06-30", 3),
    ("L3-PR-0040", "PREOPS-157", "2021-06-30", 3),
    ("L2-SP-0010", "PREOPS-148", "2021-06-30", 2),
    ("L3-AP-0010", "PREOPS-145", "2021-06-30", 3),
    ("L3-MW-0040", "PREOPS-153", "2021-07-31", 3),
    ("L3-EX-0010", "PREOPS-160", "2021-09-30", 3),
    ("L2-DP-0040", "PREOPS-159", "2021-09-30", 2),
    ("L2-DP-0030", "PREOPS-158", "2021-09-30", 3),
    ("L3-PR-0030", "PREOPS-152", "2021-09-30", 3),
    ("L3-PR-0020", "PREOPS-147", "2021-09-30", 3),
]
TABLE_2_MONTHS = [
    "2020-07", "2020-08", None, "2020-12", "2021-01", "2021-02", "2021-02",
    "2020-11", "2021-01", "2021-01", "2021-02", "2021-04", "2021-06",
]  # fmt: skip
# Milestones the issue requires to be machine-checked, with the checks each must include.
REQUIRED_CHECKS = {
    "L2-DP-0010": {"outputs-present", "compute-ready", "database-reachable", "storage-present"},
    "L3-MW-0030": {"butler-read", "butler-write-refused"},
    "L3-MW-0010": {"qserv-frontend", "qserv-workers"},
    "L3-MW-0020": {"table-loaded"},
    "L3-PR-0010": {"hub-api", "lab-spawn", "tap-availability", "tap-capabilities"},
    "L2-DP-0020": {"tap-query", "tap-schema-complete"},
    "TL-QSERV-SCALE-TEST": {"loadtest-summary"},
    "TL-TAP-SCALE-TEST": {"loadtest-summary"},
}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()


def test_table_1_has_all_21_rows_in_order(registry: Registry) -> None:
    rows = [(m.id, m.jira_id, m.due_date.isoformat(), m.level) for m in registry.milestones]
    assert rows == TABLE_1


def test_every_milestone_has_title_and_team(registry: Registry) -> None:
    for milestone in registry.milestones:
        assert len(milestone.title) > 10, milestone.id
        assert milestone.team, milestone.id


def test_wrapped_rows_are_joined(registry: Registry) -> None:
    early = registry.get("L2-DP-0040")
    desk = registry.get("L3-PR-0020")
    assert early is not None and desk is not None
    assert early.title == (
        "DP0.2 Early Access: Provide access to reprocessed images and visit level catalogs from the IDF"
    )
    assert desk.title == (
        "Deploy early instantiation of service desk providing second-tier technical support for community"
    )
    assert early.team == desk.team == "Science Platform and Reliability Engineering"


def test_hyphenation_is_undone(registry: Registry) -> None:
    release = registry.get("L2-SP-0010")
    assert release is not None and "released from the IDF" in release.title


def test_table_2_timeline_months(registry: Registry) -> None:
    # TL-IN2P3-CROSSCHECK is a checkpoint of seed §3.4.4, not a row of Table 2.
    table_2 = [entry for entry in registry.timeline if entry.id != "TL-IN2P3-CROSSCHECK"]
    assert [entry.month for entry in table_2] == TABLE_2_MONTHS
    undated = registry.get("TL-GEN3-SOFTWARE-FREEZE")
    assert undated is not None and undated.due is None and undated.due_label == "no date"
    scale = registry.get("TL-QSERV-SCALE-TEST")
    assert scale is not None and scale.due is not None and scale.due.isoformat() == "2021-02-28"


@pytest.mark.parametrize(("checkpoint_id", "checks"), sorted(REQUIRED_CHECKS.items()))
def test_required_gates_present(registry: Registry, checkpoint_id: str, checks: set[str]) -> None:
    checkpoint = registry.get(checkpoint_id)
    assert checkpoint is not None
    assert checks <= {gate.check for gate in checkpoint.gates}
    assert all(0 < gate.timeout_s <= 60 for gate in checkpoint.gates)


def test_table_gates_cover_all_five_tables(registry: Registry) -> None:
    for checkpoint_id, check in (("L3-MW-0020", "table-loaded"), ("L2-DP-0020", "tap-query")):
        checkpoint = registry.get(checkpoint_id)
        assert checkpoint is not None
        tables = {getattr(g, "table", None) for g in checkpoint.gates if g.check == check}
        assert tables == {"position", "reference", "forced_photometry", "object", "truth_match"}


def test_lookup_is_case_insensitive(registry: Registry) -> None:
    assert registry.get("l2-dp-0010") is registry.get("L2-DP-0010")


def test_committed_json_schemas_are_current() -> None:
    for model, name in ((Registry, "registry.schema.json"), (AttestationFile, "attestations.schema.json")):
        committed = json.loads((MILESTONES_DIR / name).read_text())
        assert committed == model.model_json_schema(), f"regenerate with `idf gates schema` ({name})"


def _mutated(tmp_path: Path, mutate: Callable[[dict[str, Any]], object]) -> Path:
    data = yaml.safe_load(REGISTRY_PATH.read_text())
    mutate(data)
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _set(data: dict[str, Any], key: str, value: object) -> None:
    data["milestones"][1][key] = value


MUTATIONS = {
    "duplicate id": (lambda d: d["milestones"][2].update(id="L2-DP-0010"), "duplicate checkpoint ids"),
    "bad Rubin id": (lambda d: _set(d, "id", "L9-XX-1"), "milestones.1.id"),
    "bad Jira id": (lambda d: _set(d, "jira_id", "JIRA-1"), "milestones.1.jira_id"),
    "unknown key": (lambda d: _set(d, "owner", "me"), "milestones.1.owner"),
    "bad level": (lambda d: _set(d, "level", 4), "milestones.1.level"),
    "gates and manual": (lambda d: _set(d, "manual_reason", "x"), "automated or manual"),
    "neither gates nor manual": (lambda d: d["milestones"][0].pop("manual_reason"), "lists no gates"),
    "unknown check": (lambda d: d["milestones"][1]["gates"][0].update(check="ping"), "milestones.1.gates.0"),
    "zero timeout": (lambda d: d["milestones"][1]["gates"][0].update(timeout_s=0), "timeout_s"),
    "bad month": (lambda d: d["timeline"][0].update(month="2020-13"), "timeline.0.month"),
    "dangling reference": (lambda d: d["timeline"][2].update(reference="L3-MW-9999"), "unknown milestone"),
    "duplicate gate id": (
        lambda d: d["milestones"][1]["gates"][1].update(id="outputs-present"),
        "duplicate gate ids",
    ),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_invalid_registry_is_bad_input(tmp_path: Path, name: str) -> None:
    mutate, expected = MUTATIONS[name]
    path = _mutated(tmp_path, mutate)
    with pytest.raises(BadInput) as info:
        load_registry(path)
    message = str(info.value)
    assert str(path) in message and expected in message


def test_yaml_syntax_error_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "registry.yaml"
    path.write_text("milestones: [\n")
    with pytest.raises(BadInput, match="not valid YAML"):
        load_registry(path)


def test_committed_attestations_load(registry: Registry) -> None:
    attested = load_attestations(registry, ATTESTATIONS_PATH)
    assert all(registry.get(cid) is not None for cid in attested)


ATTESTATION = {
    "checkpoint": "L3-CE-0020",
    "attested_by": "Release Manager (test)",
    "attested_on": "2021-02-01",
    "repository_commit": "0123456789abcdef0123456789abcdef01234567",
    "evidence_url": "https://jira.lsstcorp.org/browse/PREOPS-151",
}


def _attestations(tmp_path: Path, entry: dict[str, str]) -> Path:
    path = tmp_path / "attestations.yaml"
    path.write_text(yaml.safe_dump({"attestations": [entry]}))
    return path


def test_attestation_of_manual_milestone_loads(tmp_path: Path, registry: Registry) -> None:
    attested = load_attestations(registry, _attestations(tmp_path, ATTESTATION))
    assert attested["L3-CE-0020"].attested_by == "Release Manager (test)"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"checkpoint": "L2-DP-0010"}, "cannot be attested by hand"),
        ({"checkpoint": "L9-XX-0000"}, "unknown checkpoint"),
        ({"evidence_url": "not a link"}, "attestations.0.evidence_url"),
        ({"attested_on": "yesterday"}, "attestations.0.attested_on"),
    ],
)
def test_bad_attestation_is_bad_input(
    tmp_path: Path, registry: Registry, change: dict[str, str], expected: str
) -> None:
    with pytest.raises(BadInput, match=expected):
        load_attestations(registry, _attestations(tmp_path, {**ATTESTATION, **change}))
