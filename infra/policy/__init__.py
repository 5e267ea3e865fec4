"""The IDF Pulumi policy pack (rules in :mod:`infra.policy.rules`, entry point ``__main__.py``)."""
