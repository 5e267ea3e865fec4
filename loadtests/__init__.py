"""Load tests of the IDF: Locust users (``users/``), query sets (``data/``), profiles (``profiles/``).

The profile model lives in :mod:`loadtests.profile`, the SLO evaluator in :mod:`loadtests.slo`; the
locustfile is :mod:`loadtests.locustfile`. Running, reporting and manifests are services of
``idf_ops.loadtest``.
"""
