"""What was measured: package versions, the uvicorn settings and the git revision of the code."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import subprocess

from bench.processes import ROOT


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def uvicorn_setup() -> str:
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return (
        f"uvicorn {version('uvicorn')}, 1 worker, loop auto ({loop}), http auto ({http}; chatdouble: "
        "httptools, one write per loop turn), log level warning, no access log"
    )


def revision() -> str:
    """The git commit of the code under test, `+dirty` when server/ or backends/ have local changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "server", "backends", "pyproject.toml"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if head.returncode != 0:
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
