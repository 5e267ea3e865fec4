"""DP0.2 batch processing on the local stack: BPS submissions to the HTCondor pool, restarts,
reports, the evidence the batch milestones' gates read, and the workflow-overhead benchmark."""
