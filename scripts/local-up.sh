#!/usr/bin/env bash
# The main job on the local stack: bootstrap, then configure and start every local IDF service.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/idf local up "$@"
