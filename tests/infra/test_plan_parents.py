"""Stacks planned one after the other in one process (`idf plan --all`, the test session) each
parent their resources to their own root Stack, never to the first stack's."""

from __future__ import annotations

from idf_ops.plan.engine import run_offline


def test_a_second_stack_in_the_same_process_has_its_own_root() -> None:
    run_offline("dev")
    later = run_offline("dp01")
    parents = {r.parent for r in later.resources if r.parent}
    assert parents, "no parent recorded"
    foreign = sorted(p for p in parents if not p.startswith("urn:pulumi:dp01::"))
    assert foreign == [], f"dp01 resources parented to another stack: {foreign}"
