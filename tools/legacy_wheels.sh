#!/usr/bin/env bash
# Download the legacy `openai==0.28.1` SDK and its dependencies (requests, aiohttp, tqdm and theirs)
# as wheels for the Python that runs the tests, so tests/contract/test_legacy_sdk.py can install them
# into a fresh virtual environment without touching the network.
#
#   tools/legacy_wheels.sh            # into ${CHATDOUBLE_WHEELS:-.cache/legacy-wheels}
#   CHATDOUBLE_WHEELS=/some/dir tools/legacy_wheels.sh
#
# The Python defaults to the project's .venv (the one pytest runs in); override with PYTHON=...
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

python="${PYTHON:-}"
if [[ -z "$python" ]]; then
    if [[ -x .venv/bin/python ]]; then python=.venv/bin/python; else python=python3; fi
fi
wheels="${CHATDOUBLE_WHEELS:-.cache/legacy-wheels}"
mkdir -p "$wheels"

# --only-binary: the test installs with --no-index, so every package must be a wheel for this Python.
"$python" -m pip download --disable-pip-version-check --only-binary=:all: \
    -d "$wheels" "openai==0.28.1"

echo "legacy wheels for $("$python" -c 'import sys; print(sys.version.split()[0])') in $wheels:"
ls -1 "$wheels"
