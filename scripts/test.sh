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
