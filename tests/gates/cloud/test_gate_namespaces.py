"""The cloud gates look for pods where the program puts them: every namespace a gate reads is a
Namespace of the dp01 plan (the gate once read `qserv-operator-system` while the program installed
the operator in `qserv-operator`, so L3-MW-0010 would fail on a healthy cluster)."""

from __future__ import annotations

import pytest

from idf_ops.gates.checks import _gcp
from support.plans import OfflinePlans

pytestmark = pytest.mark.filterwarnings("ignore:.*has been deprecated in favor of:DeprecationWarning")


@pytest.mark.parametrize("name", ["ARGOCD_NAMESPACE", "QSERV_OPERATOR_NAMESPACE", "QSERV_NAMESPACE"])
def test_the_gates_namespaces_are_declared_by_the_plan(name: str, plans: OfflinePlans) -> None:
    declared = {r.inputs["metadata"]["name"] for r in plans["dp01"].of_type("kubernetes:core/v1:Namespace")}
    assert getattr(_gcp, name) in declared, (name, sorted(declared))
