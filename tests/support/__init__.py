"""What the tests share: the stack list, the offline plans, the Pulumi mock and test-data updates.

- :mod:`support.stacks`: the stacks, read from ``stacks/Pulumi.*.yaml`` (a new stack file is tested
  by every parametrized stack test without editing one);
- :mod:`support.plans`: one offline plan per stack per session (``idf_ops.plan.run_offline``),
  served by the session fixture ``plans`` of ``tests/conftest.py``;
- :mod:`support.mocks`: the one Pulumi mock of the tests, with the offline planner's placeholders;
- :mod:`support.testdata`: committed expected files, rewritten under ``--update-test-data``;
- :mod:`support.runbooks`: a runbook's `idf` commands run offline against a table of outcomes.
"""
