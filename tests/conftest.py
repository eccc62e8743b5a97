"""Shared fixtures: settings, an app, an in-process client and a real server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from server.app import create_app
from server.config import Settings, load_settings
from tests.servers import LiveServer, serve

MakeApp = Callable[..., FastAPI]


@pytest.fixture
def make_app() -> MakeApp:
    """Build an app from the embedded default config plus overrides (e.g. api_keys=[...])."""

    def build(**overrides: Any) -> FastAPI:
        settings: Settings = load_settings(env={}, overrides=overrides)
        return create_app(settings)

    return build


@pytest.fixture
def app(make_app: MakeApp) -> FastAPI:
    return make_app()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    with serve(app) as server:
        yield server
