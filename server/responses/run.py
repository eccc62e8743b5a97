"""Running one response: the pipeline's events through the writer, as a stream of frames, as a
whole body, or in the background; and what is kept of it afterwards."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import orjson

from backends.base import DropConnection
from server.errors import APIError, server_error
from server.generation.conversation import Message
from server.generation.events import Finish, FinishReason
from server.generation.pipeline import Generation
from server.http.sse import Framing
from server.responses.conversation import input_messages, output_messages
from server.responses.create import Turn
from server.responses.items import input_items
from server.responses.objects import JSON
from server.responses.writer import ResponseWriter
from server.state.responses import Progress, StoredResponse

log = logging.getLogger("chatdouble.responses")


def sse(event: JSON) -> bytes:
    """One event as the API frames it: its type on an `event:` line, its JSON on a `data:` line."""
    return b"".join((_head(str(event["type"])), orjson.dumps(event), b"\n\n"))


@functools.lru_cache(maxsize=256)  # a few dozen types of event, many frames each
def _head(kind: str) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: "


class ResponsesFraming(Framing):
    """Frames are whole already; a failure after the first byte is the `error` event and
    `response.failed`; the stream just ends (no `[DONE]`)."""

    end = b""

    def __init__(self, writer: ResponseWriter) -> None:
        self.writer = writer

    def frame(self, data: Any) -> bytes:
        return data if isinstance(data, bytes) else b""

    def failure(self, error: APIError) -> bytes:
        return b"".join(sse(event) for event in self.writer.fail(error.envelope()["error"]))


async def events(
    writer: ResponseWriter, generation: Generation, *, queued: bool = False
) -> AsyncGenerator[JSON, None]:
    """Every event of the response, from `response.created` to its terminal event."""
    if not queued:
        await _prime(writer, generation)
    for event in writer.start(queued=queued):
        yield event
    if queued:  # answered `queued` already: a recorded model shows from `response.in_progress` on
        await _prime(writer, generation)
    for event in writer.begin() if queued else writer.opening():
        yield event
    reason: FinishReason | None = None
    async for item in generation.events():
        if isinstance(item, Finish):
            reason = item.reason
        for event in writer.feed(item):
            yield event
    for event in writer.finish(generation.usage(), reason):
        yield event


async def _prime(writer: ResponseWriter, generation: Generation) -> None:
    """A backend that announces how it answers (a replayed recording's model) is heard first, so
    `response.created` names that model."""
    if generation.announced:
        await generation.prime()
        writer.plan.as_recorded(generation.answered_as)


async def frames(writer: ResponseWriter, generation: Generation) -> AsyncGenerator[bytes, None]:
    async for event in events(writer, generation):
        yield sse(event)


async def collect(writer: ResponseWriter, generation: Generation) -> JSON:
    """Run to the end and return the whole body."""
    async for _ in events(writer, generation):
        pass
    return writer.snapshot(whole=True)


def history_after(history: Sequence[Message], body_input: Any, writer: ResponseWriter) -> list[Message]:
    """What a request chained to this response continues: the history it continued, its input and
    its output (instructions are not carried over)."""
    return [*history, *input_messages(body_input), *output_messages(writer.output)]


def stored(turn: Turn) -> StoredResponse:
    """What is kept of a response: its object, its input items, and the conversation it ends."""
    writer, body = turn.writer, turn.body
    return StoredResponse(
        id=writer.plan.id,
        body=writer.snapshot(whole=True),
        input_items=input_items(body.input, writer.plan.ids),
        history=history_after(turn.history, body.input, writer),
        stored=turn.keep,
    )


def failed(writer: ResponseWriter, exc: Exception) -> list[JSON]:
    """The events that end a response whose backend failed after it started: the `error` event (the
    API's own error, or a server error for anything else), then `response.failed`."""
    if isinstance(exc, APIError):
        return writer.fail(exc.envelope()["error"])
    if not isinstance(exc, DropConnection):
        log.error("response %s failed", writer.plan.id, exc_info=exc)
    return writer.fail(server_error().envelope()["error"])


async def run_in_background(
    progress: Progress, writer: ResponseWriter, generation: Generation, history: list[Message]
) -> None:
    """Produce a background response's events through its store, where readers poll or follow them;
    `history` is what it continues."""
    try:
        async for event in events(writer, generation, queued=True):
            await progress.publish(writer.snapshot(whole=True), [sse(event)])
    except asyncio.CancelledError:
        writer.cancel()
        await progress.end(writer.snapshot(whole=True), [], _after(history, writer))
        raise
    except Exception as exc:
        frames = [sse(event) for event in failed(writer, exc)]
        await progress.end(writer.snapshot(whole=True), frames, _after(history, writer))
    else:
        await progress.end(writer.snapshot(whole=True), [], _after(history, writer))


def _after(history: list[Message], writer: ResponseWriter) -> list[Message]:
    return history_after(history, writer.plan.body.input, writer)
