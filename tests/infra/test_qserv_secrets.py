"""The Secrets qserv-operator's pods mount are declared by the program, generated, before the `Qserv` CR.

qserv-operator never creates them (upstream uses a kustomize secretGenerator); without them the czar,
worker and replication pods would not start. Names and keys follow the pinned operator release
(infra/qserv_secrets.py). The component test runs the mocks with traceable generated values, to see
that each password in a Secret is a ``RandomPassword`` result and never a literal.
"""

from __future__ import annotations

from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s
import pytest

from infra.qserv_secrets import SECRET_KEYS, QservSecrets, QservSecretsArgs, secret_name
from support.mocks import Mocks, use_mocks
from support.plans import OfflinePlans
from support.stacks import STACKS

QSERV_CR = "kubernetes:qserv.lsst.org/v1beta1:Qserv"
SECRET_TYPE = "kubernetes:core/v1:Secret"  # noqa: S105 -- a type token  # pragma: allowlist secret
RANDOM_PASSWORD_TYPE = "random:index/randomPassword:RandomPassword"  # noqa: S105 -- a type token  # pragma: allowlist secret
JOB = "kubernetes:batch/v1:Job"

#: What the pinned release's pods read: Secret -> key -> the shell variables the key's file defines.
EXPECTED: dict[str, dict[str, tuple[str, ...]]] = {
    "secret-mariadb-qserv": {"mariadb.secret.sh": ("MYSQL_ROOT_PASSWORD", "MYSQL_MONITOR_PASSWORD")},
    "secret-repl-db-qserv": {"repl-db.secret.sh": ("MYSQL_REPLICA_PASSWORD",)},
    "secret-ingest-db-qserv": {"ingest-db.secret.sh": ("MYSQL_INGEST_PASSWORD",)},
    "secret-repl-creds-qserv": {"qserv": ()},
}


def _qserv_secrets(plan: Any) -> tuple[Any, dict[str, Any]]:
    crs = plan.of_type(QSERV_CR)
    assert len(crs) == 1, "every stack serves Qserv"
    cr = crs[0]
    ns = cr.inputs["metadata"]["namespace"]
    secrets = {
        s.inputs["metadata"]["name"]: s
        for s in plan.of_type(SECRET_TYPE)
        if s.inputs["metadata"].get("namespace") == ns and s.inputs["metadata"]["name"] in EXPECTED
    }
    return cr, secrets


@pytest.mark.parametrize("stack", STACKS)
def test_secrets_exist_with_the_operators_names_and_keys(plans: OfflinePlans, stack: str) -> None:
    cr, secrets = _qserv_secrets(plans[stack])
    assert set(secrets) == set(EXPECTED), f"{stack}: Secrets of the Qserv namespace"
    assert {secret_name(c, cr.inputs["metadata"]["name"]) for c in SECRET_KEYS} == set(EXPECTED)
    for name, secret in secrets.items():
        assert set(secret.inputs["stringData"]) == set(EXPECTED[name]), f"{stack}: keys of {name}"
        assert "data" not in secret.inputs, f"{stack}: {name} carries only generated stringData"
        assert secret.secret_inputs == ["stringData"], f"{stack}: {name}'s values must be Pulumi secrets"


@pytest.mark.parametrize("stack", STACKS)
def test_qserv_cr_depends_on_every_secret(plans: OfflinePlans, stack: str) -> None:
    cr, secrets = _qserv_secrets(plans[stack])
    missing = {name for name, s in secrets.items() if s.urn not in cr.dependencies}
    assert set(secrets) == set(EXPECTED)
    assert not missing, f"{stack}: the Qserv CR must wait for {sorted(missing)}"


@pytest.mark.parametrize("stack", STACKS)
def test_every_password_comes_from_its_own_random_password(plans: OfflinePlans, stack: str) -> None:
    plan = plans[stack]
    _cr, secrets = _qserv_secrets(plan)
    passwords = {p.urn for p in plan.of_type(RANDOM_PASSWORD_TYPE)}
    assert set(secrets) == set(EXPECTED), f"{stack}: Secrets of the Qserv namespace"
    used: list[str] = []
    for name, secret in secrets.items():
        wanted = sum(len(variables) for variables in EXPECTED[name].values())
        generated = [d for d in secret.dependencies if d in passwords]
        assert len(generated) == wanted, f"{stack}: {name} holds {wanted} generated password(s)"
        used += generated
    assert len(used) == len(set(used)), f"{stack}: no password is shared between Secrets"


def test_ingest_job_mounts_a_declared_secret(plans: OfflinePlans) -> None:
    plan = plans["dp01"]
    _cr, secrets = _qserv_secrets(plan)
    jobs = [j for j in plan.of_type(JOB) if j.inputs["metadata"]["name"].startswith("qserv-ingest-")]
    assert jobs, "dp01 declares its ingest Job (test images recorded)"
    for job in jobs:
        pod = job.inputs["spec"]["template"]["spec"]
        mounted = {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
        assert mounted, "the ingest Job mounts the replication credentials"
        assert mounted <= set(secrets), f"{job.name} mounts Secrets nobody declares: {mounted - set(secrets)}"


@pulumi.runtime.test
def test_secret_files_hold_the_generated_passwords() -> Any:
    use_mocks("dp01", mocks=Mocks(generated_secret=lambda name: f"generated-{name}"))
    component = QservSecrets(
        "t",
        QservSecretsArgs(
            namespace="qserv",
            provider=k8s.Provider("t-provider", kubeconfig="{}"),
            labels={},
            depends_on=[],
        ),
    )
    names = list(component.secrets)

    def check(values: list[Any]) -> None:
        by_name = dict(zip(names, values, strict=True))

        def line(var: str) -> str:  # the mock's traceable value of each generated password
            return f'{var}="generated-t-{var.lower().replace("_", "-")}"\n'

        expected_files = {
            "mariadb": line("MYSQL_ROOT_PASSWORD") + line("MYSQL_MONITOR_PASSWORD"),
            "repl-db": line("MYSQL_REPLICA_PASSWORD"),
            "ingest-db": line("MYSQL_INGEST_PASSWORD"),
            "repl-creds": "",
        }
        assert by_name == {c: {SECRET_KEYS[c]: text} for c, text in expected_files.items()}

    def secret_flags(flags: list[bool]) -> None:
        assert all(flags), "every Secret's stringData is a Pulumi secret"

    flags: list[pulumi.Output[bool]] = [
        pulumi.Output.from_input(cast("Any", s.string_data.is_secret())) for s in component.secrets.values()
    ]

    def check_both(values: list[Any]) -> None:
        secret_flags(values[0])
        check(values[1])

    data = pulumi.Output.all(*(s.string_data for s in component.secrets.values()))
    return pulumi.Output.all(pulumi.Output.all(*flags), data).apply(check_both)
