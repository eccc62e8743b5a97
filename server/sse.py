"""Server-sent events exactly as OpenAI frames them: `data: <json>\\n\\n`, no `\\r`, no `event:`/`id:`
lines, no keep-alive comments unless configured, and a final `data: [DONE]\\n\\n`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.types import Message, Receive, Send

from backends.base import Comment, DropConnection
from server.disconnect import unless_disconnected
from server.errors import APIError, server_error
from server.json import dumps

log = logging.getLogger("chatdouble.sse")

DONE = b"data: [DONE]\n\n"
YIELD_EVERY = 16  # chunks between turns given to the event loop


class EventStream(EventSourceResponse):
    """sse-starlette's response (disconnect watching, optional pings, shutdown handling), minus the
    cancel scope it opens around every chunk even when no send timeout is set: that scope was a
    third of a streamed request's cost."""

    async def _send_with_timeout(self, send: Send, message: Message) -> None:
        if self.send_timeout is None:
            await send(message)
        else:
            await super()._send_with_timeout(send, message)


def frame(data: bytes | Comment) -> bytes:
    """A payload as a `data:` event, or an upstream's comment line as it came (`: keep-alive`)."""
    if isinstance(data, Comment):
        return b":" + data.text + b"\n\n"
    return b"data: " + data + b"\n\n"


def _ping() -> ServerSentEvent:
    return ServerSentEvent(comment="ping", sep="\n")


async def open_stream(
    chunks: AsyncGenerator[bytes | Comment, None],
    headers: dict[str, str],
    ping_seconds: float,
    receive: Receive | None = None,
) -> EventStream:
    """Start streaming once the first chunk exists, so a failure before it is a real HTTP error.

    A failure after the first byte becomes an error frame in OpenAI's envelope, then `[DONE]`.
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

    async def body() -> AsyncIterator[bytes]:
        try:
            if first is not None:
                yield frame(first)
            sent = 0
            async for chunk in chunks:
                yield frame(chunk)
                sent += 1
                if sent % YIELD_EVERY == 0:
                    # A backend that never awaits (echo) would otherwise hold the event loop for the
                    # whole stream: other clients would wait, and a disconnect would go unseen.
                    await asyncio.sleep(0)
        except DropConnection:
            raise  # the server closes the connection: no error frame, no [DONE]
        except APIError as exc:
            yield frame(dumps(exc.envelope()))
        except Exception:
            log.exception("stream failed after the first chunk")
            yield frame(dumps(server_error().envelope()))
        finally:
            await chunks.aclose()
        yield DONE

    return EventStream(body(), headers=headers, ping=ping_seconds, sep="\n", ping_message_factory=_ping)
