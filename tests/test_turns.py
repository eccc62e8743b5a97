"""Requests set up a few per turn of the event loop while others are under way (server/http/turns.py).

Proven, on the app in process with a setup budget of zero (one request set up per turn): while a
paced stream waits for its next chunk, a burst of requests is answered one per turn, in the order
they came; with nothing under way the same burst is answered in one turn; once the requests have
waited past the patience, they are let on several per turn; a request cancelled while it waits for
its turn is skipped and the ones behind it are still answered; a request that fails is no longer
counted as under way.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from starlette.types import Message

from server.http.direct import Application
from tests.support.fixture_apps import fixture_app, write
from tests.support.requests import CHAT, chat_body, in_process, post_scope, text_of

# A stream that sends its first chunk at once and its second a minute later.
SLOW = """
fixtures:
  - id: slow
    match: {model: slow}
    timing: {chunk_delay: 60}
    response: {chunks: [first, second]}
"""


class TurnCounter:
    """Counts the event loop's turns: a callback that schedules itself again each turn."""

    def __init__(self) -> None:
        self.turn = 0
        self._loop = asyncio.get_running_loop()
        self._handle = self._loop.call_soon(self._tick)

    def _tick(self) -> None:
        self.turn += 1
        self._handle = self._loop.call_soon(self._tick)

    def stop(self) -> None:
        self._handle.cancel()


def one_per_turn(tmp_path: Path, patience: float = 60) -> Application:
    app = fixture_app([write(tmp_path, SLOW)], fallback="echo")
    assert isinstance(app, Application)
    app.turns.budget = 0  # every turn lets one request set up, and no more
    app.turns.patience = patience
    return app


@asynccontextmanager
async def a_stream_under_way(app: Application) -> AsyncIterator[None]:
    """A stream that has sent its first chunk and waits for its next, until the block ends."""
    body = json.dumps(chat_body("x", model="slow", stream=True)).encode()
    scope = post_scope(body)
    first = asyncio.Event()
    staying: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
    requested = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        return requested.pop() if requested else await staying  # a client that stays

    async def send(message: Message) -> None:
        if b'"first"' in message.get("body", b""):
            first.set()

    stream = asyncio.create_task(app(scope, receive, send))
    await first.wait()
    try:
        yield
    finally:
        stream.cancel()
        await asyncio.gather(stream, return_exceptions=True)


async def answered_in_turns(http: httpx.AsyncClient, texts: list[str]) -> list[tuple[str | None, int]]:
    """Post one chat request per text at once; each reply's text and the turn it was answered in."""
    counter = TurnCounter()

    async def ask(text: str) -> tuple[str | None, int]:
        response = await http.post(CHAT, json=chat_body(text))
        assert response.status_code == 200
        return text_of(response.json()), counter.turn

    try:
        return list(await asyncio.gather(*(ask(text) for text in texts)))
    finally:
        counter.stop()


async def test_while_a_stream_waits_a_burst_is_answered_one_per_turn_in_order(
    tmp_path: Path,
) -> None:
    texts = ["one", "two", "three", "four"]
    app = one_per_turn(tmp_path)
    async with in_process(app) as http, a_stream_under_way(app):
        answered = await answered_in_turns(http, texts)
    assert [text for text, _ in answered] == texts
    turns = [turn for _, turn in answered]
    assert turns == sorted(turns)  # in the order they came
    assert len(set(turns)) == len(texts)  # one turn each


async def test_with_nothing_under_way_a_burst_is_answered_in_one_turn(tmp_path: Path) -> None:
    texts = ["one", "two", "three", "four"]
    app = one_per_turn(tmp_path)
    async with in_process(app) as http:
        answered = await answered_in_turns(http, texts)
    assert [text for text, _ in answered] == texts
    assert len({turn for _, turn in answered}) == 1
    assert app.turns.active == 0


async def test_requests_that_waited_past_the_patience_are_let_on_several_per_turn(tmp_path: Path) -> None:
    texts = [str(n) for n in range(8)]
    app = one_per_turn(tmp_path, patience=1e-9)  # every wait is longer
    # The pacer's ticks as a busy server's: a millisecond more each time they are looked at, so
    # every turn's ticks leave nothing of the budget.
    looks = itertools.count()
    app.turns.ticks = lambda: next(looks) / 1000
    async with in_process(app) as http, a_stream_under_way(app):
        answered = await answered_in_turns(http, texts)
    assert [text for text, _ in answered] == texts
    turns = [turn for _, turn in answered]
    assert turns == sorted(turns)
    assert 1 < len(set(turns)) < len(texts)  # held to turns, but several in some of them


async def test_a_request_cancelled_while_it_waits_for_its_turn_is_skipped(tmp_path: Path) -> None:
    app = one_per_turn(tmp_path)
    async with in_process(app) as http, a_stream_under_way(app):

        def post(text: str) -> Awaitable[httpx.Response]:
            return asyncio.ensure_future(http.post(CHAT, json=chat_body(text)))

        first, second, third = post("one"), post("two"), post("three")
        await asyncio.sleep(0)  # one turn: the first is set up, the others wait for theirs
        assert not second.done()
        second.cancel()
        replies: list[Any] = await asyncio.gather(first, second, third, return_exceptions=True)
    assert text_of(replies[0].json()) == "one"
    assert isinstance(replies[1], asyncio.CancelledError)
    assert text_of(replies[2].json()) == "three"


async def test_a_request_that_fails_is_no_longer_under_way(tmp_path: Path) -> None:
    app = one_per_turn(tmp_path)
    async with in_process(app) as http:
        refused = await http.post(CHAT, json={"model": "gpt-4o"})
        broken = await http.post(CHAT, content=b"{", headers={"content-type": "application/json"})
    assert (refused.status_code, broken.status_code) == (400, 400)
    assert app.turns.active == 0
