"""Phalanx: the values files of our Science Platform environments, rendered from stack outputs."""
