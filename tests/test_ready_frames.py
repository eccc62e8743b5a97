"""Frames that are ready together go out together (server/http/ready.py): a frame followed by a wait
is handed on before the wait (and the wait is told), a failure comes after the frames made before
it, a body closed while it waits is unwound, and a zero-delay stream reaches the ASGI server in a few messages holding the
same bytes. Ready frames give the event loop a turn after a while, and a paced stream, which waits
before each frame, takes no extra one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest
from starlette.types import Message

from server.app import create_app
from server.config import load_settings
from server.http.event_stream import EventStream, StreamOptions
from server.http.ready import TURN_SECONDS, batched
from server.http.sse import open_stream
from tests.support.requests import post_scope


async def _ready(*frames: bytes) -> AsyncGenerator[bytes, None]:
    for frame in frames:
        yield frame


async def test_frames_ready_together_are_joined() -> None:
    assert [batch async for batch in batched(_ready(b"a", b"b", b"c"))] == [b"abc"]


async def test_a_frame_followed_by_a_wait_is_handed_on_before_the_wait() -> None:
    go = asyncio.Event()

    async def paced() -> AsyncGenerator[bytes, None]:
        yield b"a"
        yield b"b"
        await go.wait()
        yield b"c"
        await asyncio.sleep(0)
        yield b"d"

    batches = batched(paced())
    assert await anext(batches) == b"ab"  # returned while `go` is still unset
    assert not go.is_set()
    go.set()
    assert await anext(batches) == b"c"
    assert await anext(batches) == b"d"
    with pytest.raises(StopAsyncIteration):
        await anext(batches)


async def test_on_wait_is_told_each_wait_and_nothing_for_frames_that_are_ready() -> None:
    waits: list[str] = []

    async def paced() -> AsyncGenerator[bytes, None]:
        yield b"a"
        yield b"b"
        await asyncio.sleep(0)
        yield b"c"

    assert [batch async for batch in batched(_ready(b"a", b"b"), on_wait=lambda: waits.append("w"))] == [
        b"ab"
    ]
    assert waits == []  # all ready: the stream server starts no watch for the client
    assert [batch async for batch in batched(paced(), on_wait=lambda: waits.append("w"))] == [b"ab", b"c"]
    assert waits == ["w"]


async def test_a_failure_comes_after_the_frames_made_before_it() -> None:
    async def failing() -> AsyncGenerator[bytes, None]:
        yield b"a"
        yield b"b"
        raise ValueError("broke")

    batches = batched(failing())
    assert await anext(batches) == b"ab"
    with pytest.raises(ValueError, match="broke"):
        await anext(batches)


async def test_closing_while_the_source_waits_cancels_it_and_runs_its_cleanup() -> None:
    cleaned: list[str] = []
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def stalled() -> AsyncGenerator[bytes, None]:
        try:
            yield b"a"
            await never
            yield b"never sent"
        except asyncio.CancelledError:
            cleaned.append("cancelled")
            raise
        finally:
            await asyncio.sleep(0)  # a cleanup that itself awaits
            cleaned.append("finally")

    batches = batched(stalled())
    assert await anext(batches) == b"a"
    await batches.aclose()
    assert cleaned == ["cancelled", "finally"]
    assert never.cancelled()


async def test_a_zero_delay_stream_goes_out_in_a_few_messages_with_the_same_bytes() -> None:
    app = create_app(load_settings(env={}))
    body = (
        b'{"model":"gpt-4o","stream":true,"stream_options":{"include_obfuscation":false},'
        b'"messages":[{"role":"user","content":"' + b"one two three four five six " * 8 + b'"}]}'
    )
    delivered = False
    sent: list[Message] = []
    never: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            return await never
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = post_scope(body)
    await app(scope, receive, send)
    bodies = [m["body"] for m in sent if m["type"] == "http.response.body"]
    stream = b"".join(bodies)
    frames = stream.split(b"\n\n")[:-1]
    assert stream.endswith(b"data: [DONE]\n\n")
    assert len(frames) > 40  # role, one per token, finish, [DONE]
    assert all(frame.startswith(b"data: ") and b"\n" not in frame for frame in frames)
    assert len(bodies) < len(frames) / 4  # joined, in batches of what is made between loop turns


async def test_a_paced_stream_waits_once_per_frame_and_takes_no_extra_turn() -> None:
    """A stream that waited had the event loop's turn: after a pause longer than a turn, a paced
    frame goes out without a second trip through the event loop (that trip was a whole pass through
    the stream's generators and the app's middlewares per chunk, for nothing)."""
    pauses: list[str] = []

    async def paced() -> AsyncGenerator[bytes, None]:
        for text in (b"a", b"b", b"c"):
            pauses.append("p")
            await asyncio.sleep(2 * TURN_SECONDS)  # a backend's pause between chunks, longer than a turn
            yield text

    stream = await open_stream(paced(), {}, StreamOptions())  # takes the first pause itself
    waits: list[str] = []
    frames = [batch async for batch in batched(_frames(stream), on_wait=lambda: waits.append("w"))]
    assert b"".join(frames) == b"data: a\n\ndata: b\n\ndata: c\n\ndata: [DONE]\n\n"
    assert len(waits) == len(pauses) - 1 == 2


async def test_a_stream_whose_frames_are_all_ready_still_gives_the_loop_turns() -> None:
    """A backend that never awaits (echo) does not hold the event loop for its whole reply: other
    clients get their turn, and a disconnect is seen."""
    others_ran = False

    def other() -> None:
        nonlocal others_ran
        others_ran = True

    async def never_waits() -> AsyncGenerator[bytes, None]:
        for _ in range(5_000_000):  # far more than a turn's worth; the test ends at the first turn
            if others_ran:
                return
            yield b"x"

    asyncio.get_running_loop().call_soon(other)
    stream = await open_stream(never_waits(), {}, StreamOptions())
    waits: list[str] = []
    async for _ in batched(_frames(stream), on_wait=lambda: waits.append("w")):
        pass
    assert others_ran
    assert waits  # the turn is a wait: from then on the stream can be stopped


def _frames(stream: EventStream) -> AsyncGenerator[bytes, None]:
    frames = stream.body_iterator
    assert isinstance(frames, AsyncGenerator)
    return frames
