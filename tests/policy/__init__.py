"""Policy pack tests: mutations on a hand-written baseline and the real offline plans."""
