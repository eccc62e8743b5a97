"""The official `openai` SDK against rate limits on a real loopback server (docs/limits.md).

Proven here: on a `rate_limit_exceeded` 429 the SDK waits exactly what `retry-after-ms` says and
retries, and the retry is admitted once that time has passed on the server's clock; on
`insufficient_quota` it raises at once, without a retry. Attempts are counted by the server; no test
sleeps: the SDK's sleep is replaced by one that records the wait and moves the server's clock by it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import openai
import pytest
from openai import _base_client
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.app import create_app
from server.config import load_settings
from tests.servers import LiveServer, serve
from tests.support.clock import Clock


class Statuses:
    """Pure ASGI middleware: the status of every response the server sent."""

    def __init__(self, app: ASGIApp, seen: list[int]) -> None:
        self.app, self.seen = app, seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.seen.append(message["status"])
            await send(message)

        await self.app(scope, receive, watch)


class Setup(SimpleNamespace):
    server: LiveServer
    clock: Clock
    seen: list[int]
    waits: list[float]


@pytest.fixture
def setup(monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    clock, seen, waits = Clock(), [], []
    limits: dict[str, Any] = {"requests_per_minute": 2, "keys": {"sk-broke": {"quota_tokens": 0}}}
    app = create_app(load_settings(env={}, overrides={"rate_limits": limits}), clock=clock)
    app.add_middleware(Statuses, seen=seen)

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.now += seconds

    # Only the SDK's module sees this `time`: its retry sleep is recorded and moves the server's clock.
    monkeypatch.setattr(_base_client, "time", SimpleNamespace(sleep=sleep, time=time.time))
    with serve(app) as server:
        yield Setup(server=server, clock=clock, seen=seen, waits=waits)


def ask(client: openai.OpenAI) -> Any:
    return client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": "x"}]
    )


def test_the_sdk_waits_what_retry_after_ms_says_and_its_retry_is_admitted(setup: Setup) -> None:
    client = openai.OpenAI(api_key="sk-a", base_url=setup.server.base_url, max_retries=2)
    first, second = ask(client), ask(client)
    third = ask(client)
    assert (first.retries_taken, second.retries_taken, third.retries_taken) == (0, 0, 1)
    assert setup.seen == [200, 200, 429, 200]
    # Two requests in use of 2 per minute: one drains in 30 s, and the SDK waited exactly that.
    assert setup.waits == [30.0]
    assert third.headers["x-ratelimit-remaining-requests"] == "0"


def test_insufficient_quota_is_raised_at_once_without_a_retry(setup: Setup) -> None:
    client = openai.OpenAI(api_key="sk-broke", base_url=setup.server.base_url, max_retries=2)
    with pytest.raises(openai.RateLimitError) as raised:
        ask(client)
    assert raised.value.code == "insufficient_quota"
    assert raised.value.type == "insufficient_quota"
    assert setup.seen == [429]
    assert setup.waits == []
