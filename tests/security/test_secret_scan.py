"""The whole repository holds no secret that a reviewer has not cleared (detect-secrets)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from security.secret_scan import BASELINE_NAME, repository_files, unreviewed_findings

REPO = Path(__file__).resolve().parents[2]
# Built at run time so this file does not itself hold a key-shaped string.
FAKE_AWS_KEY = "AKIA" + "Q3EGRXBWZ7" + "HKL2MPDN"
FAKE_PASSWORD = "'Xk9#qL2" + "$vB7!mZ4p'"
FAKE_PRIVATE_KEY = "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEow\n-----END RSA " + "PRIVATE KEY-----\n"


def test_repository_has_no_unreviewed_secret() -> None:
    findings = unreviewed_findings(REPO)
    assert not findings, (
        "detect-secrets found possible secrets; remove them (use Ansible Vault, Pulumi secrets or "
        "the environment) or, if a false positive, audit the baseline (runbooks/security.md):\n"
        + "\n".join(map(str, findings))
    )


def test_scan_covers_the_whole_repository() -> None:
    files = repository_files(REPO)
    assert "pyproject.toml" in files
    assert not any(f.startswith((".venv/", "var/")) for f in files)


@pytest.fixture
def scratch_repo(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("ignored/\n")
    (tmp_path / "clean.py").write_text("PORT = 8080\n")
    return tmp_path


@pytest.mark.parametrize(
    "planted",
    [
        ("untracked.env", f"AWS_ACCESS_KEY_ID={FAKE_AWS_KEY}\n"),
        ("stacks/Pulumi.dp01.yaml", "config:\n  idf:db" + "Password: " + FAKE_PASSWORD + "\n"),
        ("ansible/id_rsa", FAKE_PRIVATE_KEY),
    ],
    ids=["aws-key-untracked-file", "password-in-stack-file", "private-key"],
)
def test_planted_secret_is_found(scratch_repo: Path, planted: tuple[str, str]) -> None:
    name, text = planted
    (scratch_repo / name).parent.mkdir(parents=True, exist_ok=True)
    (scratch_repo / name).write_text(text)
    findings = unreviewed_findings(scratch_repo)
    assert [f.filename for f in findings] == [name], findings


def test_ignored_files_are_not_scanned_and_reviewed_findings_pass(scratch_repo: Path) -> None:
    (scratch_repo / "ignored").mkdir()
    (scratch_repo / "ignored" / "key.env").write_text(f"AWS_ACCESS_KEY_ID={FAKE_AWS_KEY}\n")
    assert unreviewed_findings(scratch_repo) == []

    (scratch_repo / "doc.md").write_text(f"example key: {FAKE_AWS_KEY}\n")
    subprocess.run(["git", "-C", str(scratch_repo), "add", "doc.md"], check=True)
    assert len(unreviewed_findings(scratch_repo)) == 1
    baseline = subprocess.run(
        [str(REPO / ".venv/bin/detect-secrets"), "scan", "doc.md"],
        cwd=scratch_repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    data = json.loads(baseline)
    (scratch_repo / BASELINE_NAME).write_text(json.dumps(data))
    assert len(unreviewed_findings(scratch_repo)) == 1, "an unaudited baseline entry must still fail"
    for items in data["results"].values():
        for item in items:
            item["is_secret"] = False
    (scratch_repo / BASELINE_NAME).write_text(json.dumps(data))
    assert unreviewed_findings(scratch_repo) == []
