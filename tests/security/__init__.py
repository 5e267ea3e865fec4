"""Secrets hygiene tests: repository secret scan, plain-text passwords in config, secret outputs."""
