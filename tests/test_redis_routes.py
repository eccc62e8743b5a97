"""The routes of stored responses, background responses and stored chat completions behave the same
on Redis (`state: redis://...`, docs/scale.md) as in this process.

Every in-process test of tests/test_responses_background.py, test_responses_store.py and
test_chat_store.py is collected again here, where `make_app` (and so `app`, `client` and `chat`)
builds its app on the session's real Redis under a key prefix of its own. The tests that drive a
live server over a socket (the SDK's) and those that only read settings stay in their modules.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from fastapi import FastAPI

from backends.base import Backend
from server.app import create_app
from server.config import Settings, load_settings
from server.state.redis_completions import RedisCompletionStore
from server.state.redis_responses import RedisResponseStore
from tests import test_chat_store, test_responses_background, test_responses_store
from tests.support.redis_server import RedisServer

IN_PROCESS = {"client", "chat", "make_app", "app"}


@pytest.fixture
async def make_app(redis: RedisServer) -> AsyncIterator[Callable[..., FastAPI]]:
    """conftest's `make_app`, on Redis; each app's runtime is closed (its Redis client too) after."""
    built: list[FastAPI] = []

    def build(*, backend: Backend | None = None, **overrides: Any) -> FastAPI:
        shared = {"state": redis.url, "state_prefix": f"routes-{uuid.uuid4().hex[:12]}:"}
        settings: Settings = load_settings(env={}, overrides={**shared, **overrides})
        app = create_app(settings, backends=None if backend is None else {"echo": backend})
        assert isinstance(app.state.runtime.responses, RedisResponseStore)
        assert isinstance(app.state.runtime.completions, RedisCompletionStore)
        built.append(app)
        return app

    yield build
    for app in built:
        await app.state.runtime.aclose()


def _in_process(test: Any) -> bool:
    return callable(test) and bool(IN_PROCESS & set(inspect.signature(test).parameters))


for _module in (test_responses_background, test_responses_store, test_chat_store):
    for _name, _test in vars(_module).items():
        if _name.startswith("test_") and _test.__module__ == _module.__name__ and _in_process(_test):
            globals()[_name] = _test
