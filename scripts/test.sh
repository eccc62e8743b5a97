#!/usr/bin/env bash
# Set up chatdouble with its development tools (once) and run every check:
# ruff lint, ruff format check, mypy, the import contracts (lint-imports), then pytest. Extra arguments go to pytest:
#   bash scripts/test.sh -k openapi -x
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/venv.sh
source scripts/venv.sh

ensure_venv
install_project ".[dev]"
export VIRTUAL_ENV="$PWD/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"

# Wheels of the legacy openai==0.28.1 SDK, for the test that drives it in its own environment.
if [[ -f tools/legacy_wheels.sh ]]; then
    bash tools/legacy_wheels.sh >/dev/null
fi

# The installed openai SDK's own generated tests (from its sdist), for tests/contract/test_sdk_generated.py.
if [[ -f tools/sdk_tests.sh ]]; then
    bash tools/sdk_tests.sh >/dev/null
fi

# The official openai Node SDK, for tests/test_node_sdk.py (pinned by tests/node/package-lock.json).
if command -v npm >/dev/null 2>&1; then
    npm ci --prefix tests/node --no-audit --no-fund --loglevel=error >/dev/null
fi

# A real redis-server for the shared-state tests (tests/support/redis_server.py), and nginx for the
# scale example's load balancer (tests/test_scale_example.py): Debian's packages.
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || missing+=(nginx)
if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ $(id -u) -eq 0 ]]; then
        sudo=()
    elif command -v sudo >/dev/null 2>&1; then
        sudo=(sudo -n)
    else
        echo "${missing[*]} missing and cannot be installed (not root, no sudo): install Debian's ${missing[*]}" >&2
        exit 1
    fi
    if ! { "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}"; } >/dev/null; then
        echo "${missing[*]} missing and 'apt-get install ${missing[*]}' failed: install them, then run again" >&2
        exit 1
    fi
    # The packages start system services on Debian; the tests start their own servers on free ports.
fi

echo "== ruff check" >&2
ruff check .
echo "== ruff format --check" >&2
ruff format --check .
echo "== mypy" >&2
mypy
echo "== lint-imports" >&2
lint-imports --no-cache
echo "== pytest" >&2
pytest -q "$@"
