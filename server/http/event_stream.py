"""A `text/event-stream` response that the server runs itself.

A stream must stop when its client leaves, may send `: ping` comments, and is cut short with a
farewell when the server is told to stop and the stream outlasts the grace period. sse-starlette did
all three with an anyio task group of three tasks per response, cancel scopes and a lock: about a
third of a zero-delay stream's cost. Here the frames are sent from the request's own task, and one
small task per stream waits for the client's `http.disconnect` once the stream first has to wait
for a frame (a stream whose frames are all ready has nothing to stop; a second task sends the pings,
when they are configured). The server's exit is watched once for all waiting streams (`Exits`).

Frames that are ready together go out in one message (server/http/ready.py); whoever wraps the
body (the journal) still sees them one by one. From a paced stream's first due time on, the pacer
sends each frame as it comes, and what it sends in one tick goes out in one write
(server/http/pacer.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from sse_starlette.sse import AppStatus, EventSourceResponse
from starlette.types import Receive, Scope, Send

from server.generation.events import SENDER_PACES
from server.http.joined_writes import FLUSH
from server.http.middleware import BODY_SEND
from server.http.pacer import Driver, Pacer
from server.http.ready import Handoff, batched

log = logging.getLogger("chatdouble.sse")

PING = b": ping\n\n"
EXIT_POLL_SECONDS = 0.5  # how often the exit flag is read while streams are open
Stop = Literal["client", "shutdown"]


class Exits:
    """The streams of one app that wait for frames, and one watch over them for the server's exit.

    The signal is the flag sse-starlette's hook on uvicorn's `handle_exit` sets (importing it
    installs the hook). Once it is set, the streams get `grace` seconds to end, then those still
    running are stopped, each ending with its farewell. The flag is read every half second while a
    stream waits, by a timer of the event loop (no task is left behind when a loop closes). A stream
    whose frames are all ready is never registered: it cannot outlast the grace period.
    """

    def __init__(self) -> None:
        self.open: set[EventStream] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def add(self, stream: EventStream, grace: float) -> None:
        self.open.add(stream)
        loop = asyncio.get_running_loop()
        if self._timer is None or self._loop is not loop:
            self._loop = loop
            self._timer = loop.call_later(EXIT_POLL_SECONDS, self._poll, grace)

    def discard(self, stream: EventStream) -> None:
        self.open.discard(stream)
        if not self.open and self._timer is not None and not AppStatus.should_exit:
            self._timer.cancel()
            self._timer = None

    def _poll(self, grace: float) -> None:
        assert self._loop is not None
        if AppStatus.should_exit:  # streams that end meanwhile leave `open`
            self._timer = self._loop.call_later(grace, self._cut, grace)
        else:
            self._timer = self._loop.call_later(EXIT_POLL_SECONDS, self._poll, grace)

    def _cut(self, grace: float) -> None:
        self._timer = None
        for stream in list(self.open):
            log.warning("stream cut short: still running after the %ss shutdown grace", grace)
            stream.stop("shutdown")


async def _no_frames() -> AsyncIterator[bytes]:
    return
    yield


def sse_headers() -> tuple[tuple[bytes, bytes], ...]:
    """The headers sse-starlette gives a stream that has none of its own, in its order."""
    return tuple(EventSourceResponse(_no_frames()).raw_headers)


@dataclass(frozen=True, slots=True)
class StreamOptions:
    """How every stream is run: seconds between `: ping` comments (0: none), and how long a stream
    may go on after the server was told to stop; `exits` holds the app's waiting streams, `pacer`
    wakes its paced ones."""

    ping_seconds: float = 0
    shutdown_grace_seconds: float = 5
    exits: Exits = field(default_factory=Exits, compare=False, repr=False)
    pacer: Pacer = field(default_factory=Pacer, compare=False, repr=False)
    headers: tuple[tuple[bytes, bytes], ...] = field(default_factory=sse_headers, compare=False, repr=False)


class EventStream(EventSourceResponse):
    """Frames (bytes) sent as they come, joined when ready together; the body closed when the
    client leaves; what `farewell` makes is sent before the end when the server's exit cuts the stream.

    sse-starlette's response (the project's chosen SSE library) sets the stream up: its headers, in
    its order, with `\\n` framing and the configured ping interval. Only the run loop is ours
    (`__call__`): its anyio task group of three tasks, cancel scopes and lock per response were a
    third of a zero-delay stream's cost (issue 14). A stream without headers of its own (all but
    a proxied one) takes the headers sse-starlette gives such a stream, found once
    (`StreamOptions.headers`): setting them up again was about 15 us a stream.
    """

    def __init__(
        self,
        frames: AsyncIterator[bytes],
        options: StreamOptions,
        headers: Mapping[str, str] | None = None,
        farewell: Callable[[], bytes] | None = None,
    ) -> None:
        if headers:
            super().__init__(
                frames,
                headers=headers,
                ping=options.ping_seconds,
                sep="\n",
                shutdown_grace_period=options.shutdown_grace_seconds,
            )
        else:  # what the run loop reads of what sse-starlette sets up
            self.status_code, self.background = 200, None
            self.raw_headers = list(options.headers)
        self.body_iterator: AsyncIterator[bytes] = frames
        self.options = options
        self.farewell = farewell
        self.stopped: Stop | None = None
        self._task: asyncio.Task[object] | None = None

    def stop(self, why: Stop) -> None:
        """Cancel the stream where it waits (once), for the client leaving or the server's exit."""
        if self._task is not None and self.stopped is None:
            self.stopped = why
            self._task.cancel()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        if scope.get("method") == "HEAD":  # headers only: the stream never starts
            await send(start)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            await _close(self.body_iterator)
            return
        await send(start)
        send = scope.get(BODY_SEND, send)  # started: the wrappers below our middleware pass bodies on
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        helpers: list[asyncio.Task[None]] = []
        exits = self.options.exits

        flush = scope.get(FLUSH)

        def waits() -> None:
            """The stream waits for a frame (the first time): from now on it can be stopped."""
            if not helpers:
                helpers.append(loop.create_task(self._watch_client(receive)))
                exits.add(self, self.options.shutdown_grace_seconds)

        def sent_and_waits() -> None:
            """The stream has sent its ready frames and waits: they go out now, not when the loop's
            turn ends, after every other task in it."""
            if flush is not None:
                flush()
            waits()

        self._task = task
        if self.options.ping_seconds > 0:
            waits()
            helpers.append(loop.create_task(self._ping(send)))
        try:
            await self._send_frames(send, waits, sent_and_waits)
        except asyncio.CancelledError:
            if self.stopped is None:
                raise
        finally:
            self._task = None
            exits.discard(self)
            for helper in helpers:
                helper.cancel()
        if self.stopped is not None:
            task.uncancel()  # our own cancel, handled
        if self.stopped == "client":
            return  # nobody to tell
        if self.stopped == "shutdown" and self.farewell is not None:
            await send({"type": "http.response.body", "body": self.farewell(), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _send_frames(
        self, send: Send, waits: Callable[[], None], sent_and_waits: Callable[[], None]
    ) -> None:
        frames = self.body_iterator
        if not isinstance(frames, AsyncGenerator):
            waits()
            try:
                async for chunk in frames:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            finally:
                await _close(frames)
            return
        joined = batched(frames, on_wait=sent_and_waits)
        # A `Due` awaited below is handed to us (by `batched`) instead of slept: this task paces.
        paces = SENDER_PACES.set(asyncio.current_task())
        try:
            async for item in joined:
                if isinstance(item, Handoff):  # paced: the pacer runs the rest, with the task on call
                    await Driver(self.options.pacer, frames, send, item).run()
                    break
                await send({"type": "http.response.body", "body": item, "more_body": True})
        finally:
            try:
                await joined.aclose()
            finally:
                SENDER_PACES.reset(paces)

    async def _watch_client(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.stop("client")

    async def _ping(self, send: Send) -> None:
        frames = self.body_iterator
        while True:
            await asyncio.sleep(self.options.ping_seconds)
            # The pacer sends a paced stream's last frames from its timer, and the stream's task
            # ends it a turn later: a ping due in the same turn must not follow the last frame.
            if getattr(frames, "ag_frame", True) is None:  # an async generator that has ended
                return
            await send({"type": "http.response.body", "body": PING, "more_body": True})


async def _close(frames: AsyncIterator[bytes]) -> None:
    aclose = getattr(frames, "aclose", None)
    if aclose is not None:
        await aclose()
