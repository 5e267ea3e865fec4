#!/usr/bin/env bash
# Bootstrap this machine for the IDF tooling, idempotently, as root, with only the package
# registries reachable: the Debian packages the tooling itself needs and the project's virtual
# environment (.venv) with the pinned Python packages. The services of the local stack (PostgreSQL,
# DaCHS, MariaDB, JupyterHub, ...) are installed and started by the Ansible roles (`idf local up`).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: run as root (it installs Debian packages)" >&2
  exit 2
fi

# Debian packages for the tooling and the tests (the service packages belong to the roles).
# python3-psycopg2: Ansible's postgresql modules run as the postgres user with /usr/bin/python3.
# chromium: the readiness board is screenshotted headless in tests.
# stilts: `stilts taplint` validates the local TAP service (tests/local/test_tap_taplint.py).
APT_PACKAGES=(python3 python3-venv python3-psycopg2 python3-apt git ca-certificates chromium procps iproute2 curl stilts)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages present"
fi

PYTHON="${IDF_PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "setup: Python >= 3.11 is required ($PYTHON is $("$PYTHON" --version 2>&1))" >&2
  exit 2
fi

if [ ! -x .venv/bin/python ]; then
  log "creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi

# Reinstall only when the pins changed: the stamp holds the hash of pyproject.toml + constraints.txt.
stamp=.venv/.idf-installed
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing Python packages into .venv (pinned by constraints.txt)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -c constraints.txt -e '.[dev]'
  echo "$want" > "$stamp"
else
  log "Python packages up to date"
fi
log "ready: .venv/bin/idf"
