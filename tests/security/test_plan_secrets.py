"""Generated passwords are secrets all the way: in the generator, in every resource, in exports.

Runs the real IDF program (``infra.program.build``) for every stack under the mock engine
(``mock_plan``), then checks three guards; each has mutated programs below that it catches.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pulumi_random as random
import pytest

from idf_ops.plan.engine import OfflinePlan
from infra.config import load_stack_file, resolve_stack_file
from infra.program import build, exports_of
from security.mock_plan import PlanCapture, run_mocked
from support.stacks import STACKS

pytestmark = pytest.mark.filterwarnings("ignore:.*has been deprecated in favor of:DeprecationWarning")
SECRET_NAME = re.compile(r"pass(word)?|secret|token|key", re.IGNORECASE)


def generators_not_secret(capture: PlanCapture) -> list[str]:
    """random:* resources that generate a secret-named value without marking `result` secret."""
    return [
        f"{r.type}::{r.name}"
        for r in capture.resources
        if r.type.startswith("random:")
        and (SECRET_NAME.search(r.name) or r.type.endswith("randomPassword"))
        and "result" not in r.additional_secret_outputs
    ]


def _program_for(stack: str) -> Any:
    cfg = load_stack_file(resolve_stack_file(stack))
    return lambda: exports_of(build(cfg))


@pytest.fixture(scope="module", params=STACKS)
def stack_capture(request: pytest.FixtureRequest) -> tuple[str, PlanCapture]:
    return request.param, run_mocked(request.param, _program_for(request.param))


def test_random_passwords_are_secret(stack_capture: tuple[str, PlanCapture]) -> None:
    _, capture = stack_capture
    assert generators_not_secret(capture) == []
    assert all(
        "result" in r.additional_secret_outputs
        for r in capture.resources
        if r.type == "random:index/randomPassword:RandomPassword"
    )


def test_generated_passwords_never_travel_in_plain_text(stack_capture: tuple[str, PlanCapture]) -> None:
    stack, capture = stack_capture
    assert capture.plain_leaks() == []
    # Not vacuous: every generated secret does reach its user (a Cloud SQL user, a Kubernetes
    # Secret), wrapped as a secret; a stack that generates none has nothing to check.
    assert capture.unused_secrets() == [], stack
    if any(r.type == "gcp:sql/user:User" for r in capture.resources):
        assert any("gcp:sql/user:User" in use for use in capture.wrapped_uses()), stack


# --- the guards catch broken programs ---------------------------------------------------------
def _leak_into_configmap() -> dict[str, Any]:
    password = random.RandomPassword("registry-password", length=32)
    k8s.core.v1.ConfigMap("registry", metadata={"name": "registry"}, data={"password": password.result})
    return {}


def _leak_into_label() -> dict[str, Any]:
    token = random.RandomPassword("hub-token", length=16, special=False)
    gcp.storage.Bucket("b", location="US", labels={"token": token.result})
    return {}


def _leak_into_export() -> dict[str, Any]:
    password = random.RandomPassword("registry-password", length=32)
    return {"registry_password": password.result}


def _string_as_password() -> dict[str, Any]:
    password = random.RandomString("registry-password", length=32)
    gcp.sql.User("writer", instance="i", name="butler_writer", password=password.result)
    return {}


def _well_behaved() -> dict[str, Any]:
    password = random.RandomPassword("registry-password", length=32)
    gcp.sql.User("writer", instance="i", name="butler_writer", password=password.result)
    return {"registry_password": pulumi.Output.secret(password.result)}


@pytest.mark.parametrize(
    "program",
    [_leak_into_configmap, _leak_into_label, _leak_into_export],
    ids=["plain-leak::configmap-data", "plain-leak::bucket-label", "plain-leak::export"],
)
def test_plain_leak_is_caught(program: Any) -> None:
    assert run_mocked("dev", program).plain_leaks()


def test_non_secret_generator_is_caught() -> None:
    assert generators_not_secret(run_mocked("dev", _string_as_password)) == [
        "random:index/randomString:RandomString::registry-password"
    ]


def _password_for_nothing() -> dict[str, Any]:
    used = random.RandomPassword("registry-password", length=32)
    random.RandomPassword("replica-password", length=32)  # generated, handed to nobody
    gcp.sql.User("writer", instance="i", name="butler_writer", password=used.result)
    return {}


def test_password_that_reaches_no_user_is_caught() -> None:
    unused = run_mocked("dev", _password_for_nothing).unused_secrets()
    assert len(unused) == 1 and unused[0].endswith("xreplica-password"), unused


def test_well_behaved_program_passes() -> None:
    capture = run_mocked("dev", _well_behaved)
    assert capture.plain_leaks() == [] and generators_not_secret(capture) == []
    assert capture.unused_secrets() == []
    assert capture.exports["registry_password"][1] is True


@pytest.mark.parametrize("stack", STACKS)
def test_offline_plan_keeps_passwords_secret(plans: Mapping[str, OfflinePlan], stack: str) -> None:
    """The plan `idf plan` writes: Cloud SQL user passwords are secret inputs, never in the outputs."""
    plan = plans[stack]
    users = plan.of_type("gcp:sql/user:User")
    assert all("password" in user.secret_inputs for user in users), [u.name for u in users]
    assert "mock-password-" not in json.dumps(plan.to_json(), default=str)
