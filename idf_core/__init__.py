"""The neutral core every tool imports and that imports none of them.

It owns what the Pulumi program (``infra/``), the operator CLI (``idf_ops/``) and the load tests
(``loadtests/``) must agree on: the errors a person can act on, where the repository and run state
live, the stack outputs contract, and the shared facts (stateful resource types, the scale stack
prefix, served TAP table names, secret locations, pool names). ``lint-imports`` (contracts in
``pyproject.toml``) keeps it free of imports from those packages.
"""
