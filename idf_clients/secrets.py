"""Where secrets are, and reading one: the only place that locates or parses a secret file.

Paths come from the stack outputs contract's ``secrets_dir`` and the file names in
:mod:`idf_core.facts`; an environment variable may name a file elsewhere. Functions that return a
path are what outputs and run configurations may carry; a secret's value is only ever returned to
the caller that authenticates with it, and never appears in a message.
"""

from __future__ import annotations

import os
from pathlib import Path

from idf_core.errors import BadInput
from idf_core.facts import (
    HUB_TOKEN_ENV,
    HUB_TOKEN_SECRET,
    HUB_TOKEN_SECRET_GLOBS,
    PG_PASSWORD_SECRET,
    QSERV_PASSWORD_ENV,
    QSERV_PASSWORD_SECRET,
)

__all__ = [
    "hub_token_file",
    "parse_secret",
    "pg_password_file",
    "qserv_password_file",
    "read_hub_token",
    "read_secret",
]


def parse_secret(text: str) -> str:
    """The secret in a file's text: its first line, without Ansible's ``password`` lookup suffix
    (``<value> salt=<salt>``) and surrounding blanks."""
    lines = text.splitlines()
    return lines[0].split(" salt=")[0].strip() if lines else ""


def read_secret(path: Path, what: str) -> str:
    """The secret in ``path``; BadInput naming the file (never its content) when unreadable."""
    try:
        return parse_secret(path.read_text())
    except OSError as exc:
        raise BadInput(
            f"{path}: cannot read the {what} ({exc.strerror}); run `idf local up` as root, or point "
            "the stack's secrets_dir at the directory holding it."
        ) from exc


def _from_env(env_var: str) -> Path | None:
    explicit = os.environ.get(env_var)
    if not explicit:
        return None
    if not Path(explicit).is_file():
        # The variable's content is not echoed: someone may have put the secret itself there.
        raise BadInput(f"${env_var} names no existing file; point it at the file holding the secret.")
    return Path(explicit)


def hub_token_file(secrets_dir: str | None) -> Path | None:
    """The file holding the JupyterHub admin API token: ``$IDF_HUB_TOKEN_FILE``, else the role's
    ``jupyterhub_api_token`` (or another hub admin token) in ``secrets_dir``; None when absent."""
    explicit = _from_env(HUB_TOKEN_ENV)
    if explicit is not None:
        return explicit
    if not secrets_dir or not Path(secrets_dir).is_dir():
        return None
    directory = Path(secrets_dir)
    if (directory / HUB_TOKEN_SECRET).is_file():
        return directory / HUB_TOKEN_SECRET
    for pattern in HUB_TOKEN_SECRET_GLOBS:
        found = sorted(p for p in directory.glob(pattern) if p.is_file())
        if found:
            return found[0]
    return None


def read_hub_token(secrets_dir: str | None) -> str:
    """The JupyterHub admin API token (see :func:`hub_token_file`), or BadInput saying how to get one."""
    path = hub_token_file(secrets_dir)
    if path is None:
        raise BadInput(
            f"no JupyterHub admin token in secrets_dir {secrets_dir!r}; run `idf local up` as root, "
            f"or set ${HUB_TOKEN_ENV} to the file holding it."
        )
    return read_secret(path, "JupyterHub admin API token")


def qserv_password_file(secrets_dir: str | None, user: str) -> Path | None:
    """The file holding the Qserv front end password of ``user``: ``$IDF_QSERV_PASSWORD_FILE``, else
    ``mariadb_<user>.password`` in ``secrets_dir`` (the local stand-in's); None when absent."""
    explicit = _from_env(QSERV_PASSWORD_ENV)
    if explicit is not None:
        return explicit
    if not secrets_dir:
        return None
    path = Path(secrets_dir) / QSERV_PASSWORD_SECRET.format(user=user)
    return path if path.is_file() else None


def pg_password_file(secrets_dir: str | Path, role: str) -> Path:
    """The file holding the PostgreSQL password of login role ``role`` in ``secrets_dir``."""
    return Path(secrets_dir) / PG_PASSWORD_SECRET.format(role=role)
