"""Find plain-text secrets in configuration files (Pulumi stack files, Ansible variables).

A key that names a secret (password, secret, token, API/private key, credential) may hold only:
nothing (null or empty), an Ansible Vault value (``!vault``), a Pulumi encrypted value
(``{secure: ...}``), a number or boolean (settings about a secret, not the secret), or a Jinja
expression that fetches the value (a variable or ``lookup(...)``) without a literal fallback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["PlainSecret", "config_files", "find_plain_secrets", "is_secret_key"]

SECRET_KEY = re.compile(r"pass(word|wd)|secret|token|api[_-]?key|private[_-]?key|credential", re.IGNORECASE)
# Keys that name *where* a secret is or how it is shaped, not the secret itself.
REFERENCE_SUFFIX = re.compile(r"(_|-)(file|path|dir|env|name|length|chars|mode)$", re.IGNORECASE)
JINJA_EXPRESSION = re.compile(r"^\s*\{\{(?P<body>.*)\}\}\s*$", re.DOTALL)
STRING_LITERAL = re.compile(r"""^\s*(['"]).*\1\s*$""", re.DOTALL)
LITERAL_DEFAULT = re.compile(r"""default\(\s*(['"])(?!\1)""")


@dataclass(frozen=True)
class Tagged:
    """A YAML value with an explicit tag (``!vault``, ``!unsafe``, ...)."""

    tag: str
    value: Any


@dataclass(frozen=True)
class PlainSecret:
    """A secret-named key holding a literal value."""

    path: Path
    key_path: str

    def __str__(self) -> str:
        return f"{self.path}: {self.key_path} holds a plain-text value"


class _Loader(yaml.SafeLoader):
    pass


def _tagged(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Tagged:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node)
    else:
        value = loader.construct_mapping(node)  # type: ignore[arg-type]
    return Tagged("!" + tag_suffix, value)


_Loader.add_multi_constructor("!", _tagged)


def is_secret_key(key: str) -> bool:
    """Whether a key names a secret value."""
    return bool(SECRET_KEY.search(key)) and not REFERENCE_SUFFIX.search(key)


def _is_safe_value(value: Any) -> bool:
    if value is None or value == "" or isinstance(value, bool | int | float):
        return True
    if isinstance(value, Tagged):
        return value.tag == "!vault"
    if isinstance(value, dict):
        return set(value) == {"secure"}
    if isinstance(value, str):
        match = JINJA_EXPRESSION.match(value)
        if match is None:
            return False
        body = match.group("body")
        return not STRING_LITERAL.match(body) and not LITERAL_DEFAULT.search(body)
    return False


def _walk(node: Any, key_path: str) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{key_path}.{key}" if key_path else str(key)
            if is_secret_key(str(key)) and not isinstance(value, dict | list):
                if not _is_safe_value(value):
                    yield child
            elif is_secret_key(str(key)) and isinstance(value, dict) and _is_safe_value(value):
                continue
            else:
                yield from _walk(value, child)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, f"{key_path}[{index}]")


def find_plain_secrets(path: Path) -> list[PlainSecret]:
    """Secret-named keys in one YAML file that hold a literal value."""
    found: list[PlainSecret] = []
    for document in yaml.load_all(path.read_text(), Loader=_Loader):  # a SafeLoader subclass
        found += [PlainSecret(path, key_path) for key_path in _walk(document, "")]
    return found


def config_files(repo: Path) -> list[Path]:
    """Every stack file and every YAML file of the Ansible tree (variables, inventories, plays)."""
    files = sorted((repo / "stacks").glob("Pulumi.*.yaml"))
    ansible = repo / "ansible"
    if ansible.is_dir():
        files += sorted(p for p in ansible.rglob("*") if p.suffix in {".yml", ".yaml"} and p.is_file())
        files += sorted(
            p
            for p in ansible.rglob("*")
            if p.is_file() and p.suffix == "" and ("group_vars" in p.parts or "host_vars" in p.parts)
        )
    return files
