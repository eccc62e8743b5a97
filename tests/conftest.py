"""Shared fixtures: settings, an app, an in-process client and a real server on loopback.

Helpers live in `tests/support/`; this file holds fixtures only.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from backends.base import Backend
from server.app import create_app
from server.config import Settings, load_settings
from server.state.shared import Shared, connect
from tests.servers import LiveServer, serve
from tests.support.redis_server import RedisServer, redis_server
from tests.support.requests import ChatClient, in_process

MakeApp = Callable[..., FastAPI]


@pytest.fixture
def make_app() -> MakeApp:
    """Build an app from the embedded default config plus overrides (e.g. api_keys=[...]); `backend`
    stands in for the echo backend, which that config routes every model to."""

    def build(*, backend: Backend | None = None, **overrides: Any) -> FastAPI:
        settings: Settings = load_settings(env={}, overrides=overrides)
        return create_app(settings, backends=None if backend is None else {"echo": backend})

    return build


@pytest.fixture
def app(make_app: MakeApp) -> FastAPI:
    return make_app()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process(app) as http:
        yield http


@pytest.fixture
def chat(client: httpx.AsyncClient) -> ChatClient:
    """Chat requests to `app`, in process."""
    return ChatClient(client)


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    with serve(app) as server:
        yield server


@pytest.fixture(scope="session")
def redis() -> Iterator[RedisServer]:
    """One real redis-server for the test session (per xdist worker); tests keep apart by key prefix."""
    with redis_server() as server:
        yield server


@pytest.fixture(params=["memory", "redis"])
async def shared(request: pytest.FixtureRequest) -> AsyncIterator[Shared | None]:
    """The state a contract test runs on, once per implementation: None for the in-process ones; a client of the session's Redis, under a key
    prefix of this test's own, for the Redis ones."""
    if request.param == "memory":
        yield None
        return
    server: RedisServer = request.getfixturevalue("redis")
    state = connect(server.url, f"test-{uuid.uuid4().hex[:12]}:", 600)
    yield state
    await state.aclose()
