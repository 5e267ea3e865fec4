"""Problems of a stack file, and how a person reads them.

A :class:`Problem` is one mistake: the key path (``config.idf:node_pools.core.max_nodes``) and a
message that says what is wrong and what to do. A :class:`StackConfigError` carries every problem of
one file; its text is one line per problem (``<file>: <key path>: <message>``), so a file with three
mistakes reads as three lines, and it is a :class:`idf_core.errors.BadInput` (exit 2).

:func:`schema_problems` turns a pydantic ``ValidationError`` into problems with the same wording
as the cross-field checks: the key path as written in the file, a suggestion for a misspelt key.
"""

from __future__ import annotations

import difflib
import json
import types
import typing
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, ValidationError

from idf_core.errors import BadInput
from infra.config.models import StackFile

__all__ = ["Problem", "StackConfigError", "key_path", "schema_problems"]

SCHEMA_HINT = "see stacks/stack.schema.json"


class Problem(NamedTuple):
    """One mistake in a stack file."""

    key: str
    """Key path inside the file, e.g. ``config.idf:network.pods_cidr``."""
    message: str
    """What is wrong, then what to do (``...; raise it``)."""


class StackConfigError(BadInput):
    """Every problem of one stack file (or of one `pulumi.Config` read); exit 2."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """One line per problem: ``<source>: <key path>: <message>``."""
        return [f"{self.source}: {p.key}: {p.message}" for p in self.problems]


def key_path(loc: tuple[Any, ...]) -> str:
    """A pydantic location as written in the file: ``config.idf:gke.node_zones[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def schema_problems(exc: ValidationError) -> list[Problem]:
    """Every error pydantic found (it does not stop at the first), one problem each."""
    return [_problem_for(error) for error in exc.errors()]


def _unwrap(annotation: Any) -> Any:
    """Strip Optional/Annotated down to the model class a key path walks into."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else annotation
    return annotation


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed at the parent of `loc` (for a misspelt-key suggestion)."""
    current: Any = StackFile
    for part in loc[:-1]:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next(
                (f for n, f in current.model_fields.items() if part in (n, f.alias)),
                None,
            )
            if field is None:
                return []
            current = field.annotation
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        elif typing.get_origin(current) is list:
            current = typing.get_args(current)[0]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _unknown_key_message(loc: tuple[Any, ...]) -> str:
    bad = str(loc[-1])
    allowed = _allowed_keys(loc)
    close = difflib.get_close_matches(bad, allowed, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}?" if close else f"allowed keys: {', '.join(allowed)}"
    return f"unknown key {bad!r}; {hint}"


def _problem_for(error: Any) -> Problem:
    # dict keys validated against a pattern report loc (..., key, "[key]")
    loc = tuple(p for p in error["loc"] if p != "[key]")
    path = key_path(loc)
    etype = error["type"]
    if etype == "extra_forbidden":
        return Problem(path, _unknown_key_message(loc))
    if etype == "missing":
        return Problem(path, f"required key is missing; add it ({SCHEMA_HINT})")
    if "[key]" in error["loc"]:
        return Problem(
            path, f"invalid key {loc[-1]!r}: {error['msg']}; use lower-case letters, digits and '_'"
        )
    value = error.get("input")
    shown = json.dumps(value, default=str) if not isinstance(value, dict | list) else type(value).__name__
    return Problem(path, f"invalid value {shown}: {error['msg']}; fix the value ({SCHEMA_HINT})")
