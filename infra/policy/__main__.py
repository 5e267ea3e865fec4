"""Entry point of the IDF policy pack: builds the PolicyPack and nothing else.

``PolicyPack(...)`` starts the analyzer's gRPC server and blocks, so this file is only run by the
Pulumi CLI (``pulumi preview --policy-pack infra/policy``). The rules live in
:mod:`infra.policy.rules`, where tests import them.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from infra.policy.rules import POLICIES

PolicyPack(
    name="idf-guardrails",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=list(POLICIES),
    description="Rubin IDF (DP0) guardrails: see runbooks/security.md for the threat each policy covers.",
)
