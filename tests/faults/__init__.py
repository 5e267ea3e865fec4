"""Fault and bad-input tests on the running local stack (marker `local_stack`)."""
