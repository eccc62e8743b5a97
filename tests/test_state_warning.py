"""Several workers on the in-process store warn at startup, naming the `state` setting (chosen:
warn, not refuse; docs/scale.md): only when something they would split is configured (fixture
counts, a replaying proxy's cassettes, rate limits), and never with `state: redis://...`.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path
from typing import Any

import pytest

from server.__main__ import split_state_warning
from server.config import load_settings
from tests.processes import clean_env, python_command, running

FIXTURES = {"script": {"type": "fixtures", "paths": ["tests/data/faults.yaml"]}}
ROUTES = [{"model": "*", "backend": "script"}]


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"workers": 2, "backends": FIXTURES, "routes": ROUTES}, "backend 'script'"),
        ({"workers": 4, "rate_limits": {"requests_per_minute": 10}}, "rate-limit budgets"),
        ({"workers": 1, "backends": FIXTURES, "routes": ROUTES}, None),
        ({"workers": 2}, None),  # echo only: nothing to split
        ({"workers": 2, "state": "redis://127.0.0.1:1/0", "backends": FIXTURES, "routes": ROUTES}, None),
    ],
)
def test_several_workers_on_the_memory_store_warn_when_state_would_split(
    settings: dict[str, Any], named: str | None
) -> None:
    warning = split_state_warning(load_settings(env={}, overrides=settings))
    if named is None:
        assert warning is None
    else:
        assert warning is not None
        assert named in warning
        assert "state: redis://host:port/db" in warning
        assert "CHATDOUBLE_STATE" in warning


def test_serve_with_two_workers_and_fixtures_logs_the_warning(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "backends:\n  script:\n    type: fixtures\n    paths: [tests/data/faults.yaml]\nroutes:\n  - model: '*'\n    backend: script\n",
        encoding="utf-8",
    )
    command = python_command("serve", "--config", str(config), "--port", "0", "--workers", "2")
    with running(command, clean_env()) as server:
        server.wait_for(re.compile(r"WARNING.*2 workers with `state: memory`.*CHATDOUBLE_STATE"))
        server.wait_for(re.compile(r"Uvicorn running on"))
        for _ in range(2):  # both workers up: the parent handles signals by then
            server.wait_for(re.compile(r"Application startup complete"))
        assert server.stop(signal.SIGINT) == 0, server.output
