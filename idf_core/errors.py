"""Errors a person can act on.

Every command turns a :class:`BadInput` into one message on stderr and exit code 2, and an
:class:`OperationFailed` into exit code 1: never a traceback for a problem the operator can fix.
"""

from __future__ import annotations

__all__ = ["BadInput", "IdfError", "OperationFailed"]


class IdfError(Exception):
    """Base class: ``str(error)`` is the whole message shown to the operator."""

    exit_code = 1


class BadInput(IdfError):
    """The operator's input (a file, a key, an argument) is wrong: say where, what and what to do."""

    exit_code = 2


class OperationFailed(IdfError):
    """The input was fine but the operation failed (a service down, a check failed)."""

    exit_code = 1
