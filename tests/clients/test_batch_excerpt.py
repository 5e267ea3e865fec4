"""A failed command in the batch environment is reported by what its log says first went wrong.

pipetask logs a failing task's exception (``ERROR ... Execution of task ... failed``) long before
its closing traceback, which only says "One or more tasks failed"; the error keeps both.
"""

from __future__ import annotations

from idf_clients.batch import failure_excerpt

CAUSE = (
    "ERROR 2026-12-03T13:05:43.101+00:00 lsst.pipe.base.single_quantum_executor () - Execution of task "
    "'measure' on quantum {tract: 0, patch: 3, band: 'r'} failed. Exception OperationalError: "
    "too many connections"
)


def _log(middle: list[str]) -> str:
    lines = [f"INFO 2026-12-03T13:05:{i:02d} quantum {i} done" for i in range(40)]
    return "\n".join([*lines[:10], *middle, *lines[10:], "MPGraphExecutorError: One or more tasks failed"])


def test_the_first_error_line_is_kept_before_the_tail() -> None:
    excerpt = failure_excerpt(_log([CAUSE]))
    assert excerpt.splitlines()[0] == CAUSE
    assert excerpt.splitlines()[1] == "..."
    assert excerpt.endswith("One or more tasks failed")
    assert len(excerpt.splitlines()) == 1 + 1 + 15


def test_a_log_without_error_lines_is_its_tail() -> None:
    excerpt = failure_excerpt(_log([]))
    assert "..." not in excerpt and len(excerpt.splitlines()) == 15
