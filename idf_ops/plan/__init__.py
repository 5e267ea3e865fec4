"""Offline plan services: run the Pulumi program under the mock engine (`engine`), render and
validate its Kubernetes objects (`manifests`), and turn its exports into stack outputs
(`outputs`). Used by `idf plan`, the tests, the policy pack tests and the scale-test tooling.
"""

from idf_ops.plan.engine import OfflinePlan, PlannedResource, run_offline

__all__ = ["OfflinePlan", "PlannedResource", "run_offline"]
