"""Server-sent events exactly as OpenAI frames them. Chat Completions: `data: <json>\\n\\n`, no `\\r`,
no `event:`/`id:` lines, no keep-alive comments unless configured, and a final `data: [DONE]\\n\\n`.
A dialect with other frames (the Responses API's `event:` lines, no `[DONE]`) gives its `Framing`."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import cast

from starlette.types import Receive

from backends.base import Comment, DropConnection, Frames, Payload, Together
from server.errors import APIError, server_error, shutting_down
from server.http.disconnect import unless_disconnected
from server.http.event_stream import EventStream, StreamOptions
from server.http.json import dumps

log = logging.getLogger("chatdouble.sse")

DONE = b"data: [DONE]\n\n"
YIELD_EVERY = 16  # chunks between turns given to the event loop (a WebSocket's)


class Framing:
    """How a stream's payloads become bytes, how a failure after the first byte is told, and how the
    stream ends. This one is Chat Completions': `data:` frames, an error frame, `[DONE]`."""

    end = DONE
    framed = False  # the payloads are their frames already: `frame` leaves them as they are

    def frame(self, data: Payload) -> bytes:
        return frame(data)

    def failure(self, error: APIError) -> bytes:
        return frame(dumps(error.envelope()))


CHAT = Framing()


class Framed(Framing):
    """Chat Completions' framing for chunks written framed already (server/chat/chunks.py)."""

    framed = True

    def frame(self, data: Payload) -> bytes:
        return cast(bytes, data)


FRAMED = Framed()


def frame(data: Payload) -> bytes:
    """A payload as a `data:` event, an upstream's named event under its `event:` line, or an
    upstream's comment line as it came (`: keep-alive`); payloads that came together, each so, and
    events that came framed so already, as they came."""
    if isinstance(data, Frames):  # the usual piece of a proxied chat stream
        return data.data
    if isinstance(data, bytes):
        return b"data: " + data + b"\n\n"
    if isinstance(data, Comment):
        return b":" + data.text + b"\n\n"
    if isinstance(data, Together):
        payloads = data.payloads
        if all(one.__class__ is bytes for one in payloads):  # the usual: a chat stream's chunks
            return b"data: " + b"\n\ndata: ".join(payloads) + b"\n\n"  # type: ignore[arg-type]  # all bytes
        return b"".join([frame(one) for one in payloads])
    return b"event: " + data.name + b"\ndata: " + data.data + b"\n\n"


async def open_stream(
    chunks: AsyncGenerator[Payload, None],
    headers: dict[str, str],
    options: StreamOptions,
    receive: Receive | None = None,
    framing: Framing = CHAT,
) -> EventStream:
    """Start streaming once the first chunk exists, so a failure before it is a real HTTP error.

    A failure after the first byte is told the framing's way (chat: an error frame in OpenAI's
    envelope, then `[DONE]`); so is a stream still running `shutdown_grace_seconds` after the server
    was told to stop.
    A client disconnect cancels the body, whose `finally` closes the chunk source and the backend;
    with `receive`, a disconnect while waiting for the first chunk does too (`ClientGoneError`).
    """
    try:
        first = await unless_disconnected(anext(chunks), receive)
    except StopAsyncIteration:
        first = None
    except BaseException:
        await chunks.aclose()
        raise

    wrap, framed = framing.frame, framing.framed

    async def body() -> AsyncIterator[bytes]:
        # A backend that never awaits (echo) gives the event loop no turn: the response's sender
        # gives it one (server/http/ready.py), where it sees whether the stream waited meanwhile.
        try:
            if first is not None:
                yield wrap(first)
            async for chunk in chunks:
                yield chunk if framed else wrap(chunk)  # type: ignore[misc]  # framed: bytes
        except DropConnection:
            raise  # the server closes the connection: no error frame, no [DONE]
        except APIError as exc:
            yield framing.failure(exc)
        except Exception:
            log.exception("stream failed after the first chunk")
            yield framing.failure(server_error())
        finally:
            await chunks.aclose()
        if framing.end:
            yield framing.end

    return event_stream(body(), options, headers, framing)


def event_stream(
    frames: AsyncIterator[bytes],
    options: StreamOptions,
    headers: Mapping[str, str] | None = None,
    framing: Framing = CHAT,
) -> EventStream:
    """The response sending `frames`; cut by the server's exit, it ends the framing's way."""
    return EventStream(frames, options, headers, lambda: framing.failure(shutting_down()) + framing.end)
