"""One keep-alive HTTP/1.1 connection to an upstream, and the answer it is reading.

The connection is an asyncio protocol fed straight into httptools' response parser (llhttp, the
parser uvicorn uses): the callbacks fill in the status, the headers and the body pieces, and wake
whoever waits. A waiter gives up after `read_timeout` seconds without a byte (`ReadTimeoutError`). One
request at a time: the answer is read to its end before the pool hands the connection out again.

A body larger than HIGH_WATER bytes that nobody reads pauses the socket, so a client reading a
stream slowly holds the upstream back instead of filling this process's memory.
"""

from __future__ import annotations

import asyncio
import socket
import zlib
from typing import cast

import httptools

from backends.http1.errors import BrokenConnectionError, ReadTimeoutError

HIGH_WATER = 256 * 1024  # bytes of unread body at which the socket is paused
NO_BODY = (204, 304)


class Connection(asyncio.Protocol):
    """A connection and the state of the exchange on it. The pool calls `send`, then `head`; the
    answer's reader calls `take` until `complete`."""

    def __init__(self, read_timeout: float) -> None:
        self.read_timeout = read_timeout
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.exchanges = 0  # requests sent on it: a reused connection has sent some before
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.headers_done = False
        self.complete = False
        self.keep_alive = False
        self.received = False  # any byte of this exchange's answer
        self.failure: Exception | None = None
        self._body: list[bytes] = []
        self._buffered = 0
        self._until_close = False

    # ------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not its subclasses
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # A request goes in one write, but the upstream's answer must not wait for Nagle's algorithm
            # on our acknowledgements either way; asyncio sets this only when the socket says TCP.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(BrokenConnectionError(f"not an HTTP/1.1 answer: {exc}"))
            self.close()
        self._wake()

    def eof_received(self) -> bool:
        return False  # the transport closes itself: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.headers_done and self._until_close and not self.complete:
            self.complete = True  # a body without a length ends when the connection does
        elif not self.complete:
            reason = "connection reset" if isinstance(exc, ConnectionResetError) else "connection closed"
            self._fail(BrokenConnectionError(reason + ("" if self.received else " before any answer")))
        self._wake()

    def pause_writing(self) -> None:  # a request body the upstream reads slowly stays in the buffer
        pass

    def resume_writing(self) -> None:
        pass

    # ------------------------------------------------------------ httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:  # an interim answer (`100 Continue`): the real one follows
            self.headers = []
            return
        self.status, self.headers_done = status, True
        self.keep_alive = self._parser.should_keep_alive()
        framed = any(name in (b"content-length", b"transfer-encoding") for name, _ in self.headers)
        self._until_close = not framed and status not in NO_BODY

    def on_body(self, body: bytes) -> None:
        self._body.append(body)
        self._buffered += len(body)
        if self._buffered > HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()

    def on_message_complete(self) -> None:
        if self.headers_done:
            self.complete = True

    # ------------------------------------------------------------ the exchange

    def send(self, data: bytes) -> None:
        assert self.transport is not None
        self._reset()
        self.exchanges += 1
        self.transport.write(data)

    async def head(self) -> None:
        """Wait for the answer's status and headers."""
        while not self.headers_done:
            await self._wait()

    def take(self) -> bytes:
        """The body bytes that came since the last call (b"" when none did)."""
        if not self._body:
            return b""
        data = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        self._body.clear()
        self._buffered = 0
        if self._paused and self.transport is not None and not self.closed:
            self._paused = False
            self.transport.resume_reading()
        return data

    async def more(self, seconds: float | None = None) -> None:
        """Wait until more of the body came, or its end: at most `seconds` (default `read_timeout`)."""
        if not self._body and not self.complete:
            await self._wait(seconds)

    @property
    def reusable(self) -> bool:
        """Whether the answer was read to its end on a connection both sides keep open."""
        return self.complete and self.keep_alive and not self.closed and not self._body

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    # ------------------------------------------------------------ waiting

    async def _wait(self, seconds: float | None = None) -> None:
        # A timer on the waiter rather than `asyncio.timeout`: no cancellation of the task to undo.
        if self.failure is not None:
            raise self.failure
        waiter = self._waiter = self.loop.create_future()
        timer = self.loop.call_later(seconds or self.read_timeout, self._timed_out, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None
        if self.failure is not None:
            raise self.failure

    def _timed_out(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_exception(ReadTimeoutError(f"no data for {self.read_timeout:g} s"))

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, failure: Exception) -> None:
        if self.failure is None:
            self.failure = failure


class Decoder:
    """A `content-encoding: gzip` or `deflate` body decoded as it arrives (the client asks for
    `identity`, so only an upstream that ignores that needs it)."""

    def __init__(self) -> None:
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 32)  # | 32: a gzip or a zlib header

    def __call__(self, data: bytes) -> bytes:
        try:
            return self._zlib.decompress(data)
        except zlib.error as exc:
            raise BrokenConnectionError(f"a body that does not decode: {exc}") from None
