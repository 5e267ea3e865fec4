"""No stack file or Ansible file holds a plain-text password, secret or token."""

from __future__ import annotations

from pathlib import Path

import pytest

from security.plaintext import config_files, find_plain_secrets

REPO = Path(__file__).resolve().parents[2]


def test_config_files_hold_no_plain_secret() -> None:
    found = [s for path in config_files(REPO) for s in find_plain_secrets(path)]
    assert not found, (
        "plain-text secrets in config; use Ansible Vault (!vault), a lookup of a generated secret "
        "under /var/lib/idf/secrets or the environment, or `pulumi config set --secret`:\n"
        + "\n".join(map(str, found))
    )


def test_config_files_are_found() -> None:
    files = config_files(REPO)
    if (REPO / "stacks").is_dir() and any((REPO / "stacks").glob("Pulumi.*.yaml")):
        assert any(p.parent.name == "stacks" for p in files)
    if (REPO / "ansible").is_dir() and any((REPO / "ansible").rglob("*.yml")):
        assert any("ansible" in p.parts for p in files)


SAFE = {
    "empty": "db_password: ''\n",
    "null": "db_password:\n",
    "vault": "db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n",
    "pulumi-secure": "config:\n  idf:registryPassword:\n    secure: v1:AAAABBBB\n",
    "env-lookup": "hub_api_token: \"{{ lookup('ansible.builtin.env', 'IDF_HUB_TOKEN') }}\"\n",
    "generated-file": (
        "pg_password: \"{{ lookup('ansible.builtin.password', '/var/lib/idf/secrets/pg') }}\"\n"
    ),
    "variable": 'tap_db_password: "{{ __tap_db_password }}"\n',
    "reference-key": "hub_token_file: /var/lib/idf/secrets/hub-token\n",
    "setting-not-secret": "token_ttl: 3600\nsecret_rotation: true\n",
    "argument-spec": "options:\n  pg_password:\n    type: str\n    no_log: true\n",
}
LEAKS = {
    "literal": ("db_password: hunter2hunter2\n", "db_password"),
    "nested": (
        "postgres:\n  users:\n    - name: butler\n      password: butler123\n",
        "postgres.users[0].password",
    ),
    "pulumi-plain": ("config:\n  idf:registryPassword: s3cr3t-value\n", "config.idf:registryPassword"),
    "jinja-literal": ("api_key: \"{{ 'abcd1234' }}\"\n", "api_key"),
    "literal-default": ("hub_token: \"{{ lookup('env', 'T') | default('fallback-token') }}\"\n", "hub_token"),
    "unsafe-tag": ("client_secret: !unsafe 'x{{y'\n", "client_secret"),
    "second-document": ("a: 1\n---\nPGPASSWORD: pw\n", "PGPASSWORD"),
}


@pytest.mark.parametrize("text", SAFE.values(), ids=SAFE.keys())
def test_safe_forms_pass(tmp_path: Path, text: str) -> None:
    path = tmp_path / "vars.yml"
    path.write_text(text)
    assert find_plain_secrets(path) == []


@pytest.mark.parametrize(("text", "key_path"), LEAKS.values(), ids=LEAKS.keys())
def test_leaks_are_caught(tmp_path: Path, text: str, key_path: str) -> None:
    path = tmp_path / "vars.yml"
    path.write_text(text)
    assert [s.key_path for s in find_plain_secrets(path)] == [key_path]


def test_repository_config_leak_is_caught(tmp_path: Path) -> None:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "ansible" / "group_vars").mkdir(parents=True)
    (tmp_path / "stacks" / "Pulumi.dp01.yaml").write_text("config:\n  idf:owner: rubin\n")
    (tmp_path / "ansible" / "group_vars" / "all").write_text("pg_password: plain\n")
    found = [s for p in config_files(tmp_path) for s in find_plain_secrets(p)]
    assert [(s.path.name, s.key_path) for s in found] == [("all", "pg_password")]
