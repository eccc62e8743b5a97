# shellcheck shell=bash
# Shared by scripts/serve.sh and scripts/test.sh (sourced, not run): the project's virtual
# environment in .venv, created with $CHATDOUBLE_PYTHON or python3, and an install step that is
# skipped while pyproject.toml is unchanged since the last successful install of the same target.

ensure_venv() {
    local python="${CHATDOUBLE_PYTHON:-python3}"
    if ! command -v "$python" >/dev/null 2>&1; then
        echo "error: $python not found; install Python 3.11+ or set CHATDOUBLE_PYTHON" >&2
        exit 1
    fi
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "error: chatdouble needs Python 3.11+; $python is $("$python" -V 2>&1)" >&2
        exit 1
    fi
    if [[ ! -x .venv/bin/python ]] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "creating .venv with $("$python" -V 2>&1)" >&2
        "$python" -m venv --clear .venv
    fi
}

# install_project TARGET: `pip install -e TARGET` (e.g. "." or ".[dev]") unless already done for
# this pyproject.toml.
_stamp_for() {
    printf '.venv/.chatdouble-installed-%s' "$(printf '%s' "$1" | tr -c 'A-Za-z0-9' '_')"
}

install_project() {
    local target="$1" stamp digest
    stamp="$(_stamp_for "$target")"
    digest="$(.venv/bin/python -c 'import hashlib, sys; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())')"
    if [[ -z "${CHATDOUBLE_REINSTALL:-}" ]]; then
        # ".[dev]" includes ".": either stamp will do for the plain install.
        local done_stamp
        for done_stamp in "$stamp" "$(_stamp_for ".[dev]")"; do
            if [[ -f "$done_stamp" && "$(cat "$done_stamp")" == "$digest" ]]; then
                return 0
            fi
            [[ "$target" == "." ]] || break
        done
    fi
    echo "installing chatdouble ($target) into .venv" >&2
    # pip -q still relays the build backend's warnings: keep its output, show it only on failure.
    local log=".venv/pip-install.log"
    if ! .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$target" >"$log" 2>&1; then
        cat "$log" >&2
        echo "error: pip install -e '$target' failed (log: $log)" >&2
        exit 1
    fi
    printf '%s\n' "$digest" >"$stamp"
}
