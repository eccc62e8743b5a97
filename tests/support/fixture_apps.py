"""Apps answered by fixture files, and the tools the fixture tests offer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from backends.fixtures import FixturesBackend
from server.app import create_app
from server.config import load_settings

DATA = Path(__file__).parent.parent / "data"  # the fixture files the tests read

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
            "required": ["city"],
        },
    },
}
SEARCH_TOOL = {
    "type": "function",
    "function": {"name": "search", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}},
}


def write(tmp_path: Path, text: str, name: str = "fixtures.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def fixture_app(
    paths: Sequence[Path | str],
    *,
    fallback: str | None = None,
    reload_interval: float | None = None,
    **settings: Any,
) -> FastAPI:
    """An app whose every model is answered by a fixtures backend reading `paths`."""
    backend: dict[str, Any] = {"type": "fixtures", "paths": [str(p) for p in paths]}
    if fallback is not None:
        backend["fallback"] = fallback
    if reload_interval is None:
        backend["reload"] = False
    else:
        backend["reload_interval"] = reload_interval
    overrides = {
        "backends": {"fixtures": backend, "echo": {"type": "echo"}},
        "routes": [{"model": "*", "backend": "fixtures"}],
        **settings,
    }
    return create_app(load_settings(env={}, overrides=overrides))


def backend_of(app: FastAPI) -> FixturesBackend:
    backend = app.state.runtime.backends["fixtures"]
    assert isinstance(backend, FixturesBackend)
    return backend
