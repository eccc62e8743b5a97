"""Fixtures for the SDK contract tests: servers built from non-default configs. The helpers are in
`tests/support/contract.py`."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI

from server.app import create_app
from server.config import load_settings
from tests.servers import LiveServer, serve
from tests.support.contract import MODEL, RIGHT_KEY


@pytest.fixture
def restricted_server() -> Iterator[LiveServer]:
    """A server whose config routes only `gpt-4o`: every other model is unknown."""
    settings = load_settings(
        env={},
        overrides={
            "backends": {"echo": {"type": "echo"}},
            "routes": [{"model": MODEL, "backend": "echo"}],
        },
    )
    with serve(create_app(settings)) as server:
        yield server


@pytest.fixture
def keyed_server(make_app: Callable[..., FastAPI]) -> Iterator[LiveServer]:
    """A server that accepts only RIGHT_KEY."""
    with serve(make_app(api_keys=[RIGHT_KEY])) as server:
        yield server
