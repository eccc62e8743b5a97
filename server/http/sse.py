"""Server-sent events exactly as OpenAI frames them. Chat Completions: `data: <json>\\n\\n`, no `\\r`,
no `event:`/`id:` lines, no keep-alive comments unless configured, and a final `data: [DONE]\\n\\n`.
A dialect with other frames (the Responses API's `event:` lines, no `[DONE]`) gives its `Framing`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.types import Message, Receive, Send

from backends.base import Comment, DropConnection, Payload
from server.errors import APIError, server_error, shutting_down
from server.http.disconnect import unless_disconnected
from server.http.json import dumps
from server.http.ready import batched

log = logging.getLogger("chatdouble.sse")

DONE = b"data: [DONE]\n\n"
YIELD_EVERY = 16  # chunks between turns given to the event loop


@dataclass(frozen=True, slots=True)
class StreamOptions:
    """How every stream is run: seconds between `: ping` comments (0: none), and how long a stream
    may go on after the server was told to stop."""

    ping_seconds: float = 0
    shutdown_grace_seconds: float = 5


class Framing:
    """How a stream's payloads become bytes, how a failure after the first byte is told, and how the
    stream ends. This one is Chat Completions': `data:` frames, an error frame, `[DONE]`."""

    end = DONE

    def frame(self, data: Payload) -> bytes:
        return frame(data)

    def failure(self, error: APIError) -> bytes:
        return frame(dumps(error.envelope()))


CHAT = Framing()


class EventStream(EventSourceResponse):
    """sse-starlette's response (disconnect watching, optional pings, shutdown handling), minus the
    cancel scope it opens around every chunk even when no send timeout is set: that scope was a
    third of a streamed request's cost. Frames that are ready together go out in one message
    (server/http/ready.py); whoever wraps the body (the journal) still sees them one by one.

    On the server's exit signal sse-starlette waits `shutdown_grace_period`, then cancels the stream
    and closes the body cleanly: without more, a client would take the cut stream for a complete,
    short answer. A stream cut that way ends with an error frame and `[DONE]`, so an SDK raises.
    """

    cut_by_shutdown = False
    framing: Framing = CHAT

    async def _listen_for_exit_signal_with_grace(self) -> None:
        await super()._listen_for_exit_signal_with_grace()
        # A stream that ended within the grace period has cancelled this listener already; one still
        # active is cancelled when this returns, and its closing send then says so.
        if self.active:
            self.cut_by_shutdown = True
            log.warning(
                "stream cut short: still running after the %ss shutdown grace", self._shutdown_grace_period
            )

    async def _stream_response(self, send: Send) -> None:
        if isinstance(self.body_iterator, AsyncGenerator):
            self.body_iterator = batched(self.body_iterator)
        await super()._stream_response(send)

    async def _send_with_timeout(self, send: Send, message: Message) -> None:
        if self.cut_by_shutdown and not message.get("more_body", False):
            # sse-starlette ends a stream cancelled by its exit listener with this closing send.
            farewell = self.framing.failure(shutting_down()) + self.framing.end
            await send({"type": "http.response.body", "body": farewell, "more_body": True})
        if self.send_timeout is None:
            await send(message)
        else:
            await super()._send_with_timeout(send, message)


def frame(data: Payload) -> bytes:
    """A payload as a `data:` event, an upstream's named event under its `event:` line, or an
    upstream's comment line as it came (`: keep-alive`)."""
    if isinstance(data, bytes):
        return b"data: " + data + b"\n\n"
    if isinstance(data, Comment):
        return b":" + data.text + b"\n\n"
    return b"event: " + data.name + b"\ndata: " + data.data + b"\n\n"


def _ping() -> ServerSentEvent:
    return ServerSentEvent(comment="ping", sep="\n")


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

    wrap = framing.frame

    async def body() -> AsyncIterator[bytes]:
        try:
            if first is not None:
                yield wrap(first)
            sent = 0
            async for chunk in chunks:
                yield wrap(chunk)
                sent += 1
                if sent % YIELD_EVERY == 0:
                    # A backend that never awaits (echo) would otherwise hold the event loop for the
                    # whole stream: other clients would wait, and a disconnect would go unseen.
                    await asyncio.sleep(0)
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

    response = EventStream(
        body(),
        headers=headers,
        ping=options.ping_seconds,
        sep="\n",
        ping_message_factory=_ping,
        shutdown_grace_period=options.shutdown_grace_seconds,
    )
    response.framing = framing
    return response
