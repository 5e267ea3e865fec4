"""Readiness gates of the DP0 milestones: registry, checks, runner, report and renderers.

Data flows one way: ``milestones/registry.yaml`` (:mod:`.registry`) -> gates run concurrently
against a stack's outputs (:mod:`.checks`, :mod:`.runner`) -> a :class:`~.report.Report`
(:mod:`.service`) -> terminal table, ``gates.json``, JUnit XML and the HTML board (:mod:`.render`).
"""
