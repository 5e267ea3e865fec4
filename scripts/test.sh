#!/usr/bin/env bash
# The whole test suite: bootstrap, bring the local stack up (real services), then pytest.
# Slow suites (marker `slow`) run separately: `.venv/bin/pytest -m slow`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/idf local up
exec .venv/bin/pytest "$@"
