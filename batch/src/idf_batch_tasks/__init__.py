"""A small DP0.2-like pipeline of our own PipelineTasks, run by BPS in the batch environment.

Pure Python (no Science Pipelines, no afw): it exists to exercise the workflow system (BPS,
HTCondor/DAGMan, PanDA) and a processing Gen3 Butler, not to do astronomy. The data dependency
graph is DP0.2-shaped: a per-patch, per-band measurement, a per-patch merge of the bands, a
per-tract gather, and one summary of the whole run. Its quanta grow with the input
(tracts x patches x bands), see :mod:`idf_batch_tasks.inputs`.

This package runs only inside the batch environment (Python >= 3.12 with lsst-pipe-base; see
batch/README.md); nothing in the host's `idf` packages imports it.
"""
