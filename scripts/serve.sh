#!/usr/bin/env bash
# Set up chatdouble (once) and start it: `bash scripts/serve.sh [chatdouble serve options]`.
# Creates .venv if missing, installs the project into it when pyproject.toml has changed since the
# last install, then replaces itself with `chatdouble serve "$@"` (embedded default config unless
# --config or CHATDOUBLE_CONFIG says otherwise). The interpreter: $CHATDOUBLE_PYTHON or python3 (3.11+).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
here="$PWD"
cd "$root"
# shellcheck source=scripts/venv.sh
source scripts/venv.sh

ensure_venv
install_project "."
# Back to the caller's directory, so a relative --config path means what the caller meant.
cd "$here"
exec "$root/.venv/bin/chatdouble" serve "$@"
