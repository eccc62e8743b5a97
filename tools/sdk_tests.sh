#!/usr/bin/env bash
# Fetch the source distribution of the installed `openai` SDK and unpack its own generated tests, so
# tests/contract/test_sdk_generated.py can run them, unmodified, against a live chatdouble without
# touching the network. Nothing of it is committed: it lives under .cache/.
#
#   tools/sdk_tests.sh            # into ${CHATDOUBLE_SDK_TESTS:-.cache/openai-sdk}/openai-<version>
#   CHATDOUBLE_SDK_TESTS=/some/dir tools/sdk_tests.sh
#
# The Python defaults to the project's .venv (the one pytest runs in); override with PYTHON=...
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

python="${PYTHON:-}"
if [[ -z "$python" ]]; then
    if [[ -x .venv/bin/python ]]; then python=.venv/bin/python; else python=python3; fi
fi
target="${CHATDOUBLE_SDK_TESTS:-.cache/openai-sdk}"
version="$("$python" -c 'import openai; print(openai.__version__)')"
if [[ -f "$target/openai-$version/tests/conftest.py" ]]; then
    exit 0  # already unpacked for this version
fi
mkdir -p "$target"

# The sdist, not the wheel: only the sdist ships tests/. No dependencies: the SDK is installed already.
"$python" -m pip download --disable-pip-version-check --no-binary=:all: --no-deps \
    -d "$target" "openai==$version"
# Only what the tests need: the tests folder and the project file that configures pytest for it.
tar -xzf "$target/openai-$version.tar.gz" -C "$target" \
    "openai-$version/tests" "openai-$version/pyproject.toml"
echo "openai $version tests in $target/openai-$version/tests"
