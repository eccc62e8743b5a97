"""One socket write for everything a connection writes in one turn of the event loop.

uvicorn writes a response's status line and headers as soon as the app sends
`http.response.start`, and then the body in a second write. A small JSON answer therefore costs two
system calls and two TCP segments. On loopback, the kernel runs the receiving side of each segment
on the sender's core as well. Measured on the benchmark's non-stream chat request, those writes took
about a tenth of the server's CPU time (bench/README.md). The baseline pays the same cost, but it
weighs less there because it does little else.

`JoinedWritesProtocol` is uvicorn's httptools protocol with a transport that keeps what is written
until the current turn of the loop ends (`call_soon`) and then writes it all at once. The bytes and
their order do not change, and nothing waits on a timer: the flush runs before the loop polls the
sockets again. Frames of a stream that are sent in one turn go out together too. Closing flushes
first and aborting drops what is held, as a real transport would do with its own buffer.

A stream's own task that stops to wait has written all it will write in this turn, and then flushes
at once (`FLUSH`, a key of the request's scope): a stream that starts in a busy turn, behind many
others setting up, writes its first frames when it waits, not after all of them (at 2,000 paced
streams starting together, its first chunk went out up to 110 ms after its time, and the next ones
came that much sooner after it).

The pacer (server/http/pacer.py) writes the frames of every stream due in a tick from one callback;
there the writes are flushed when that callback ends (`Later`), one connection after another,
instead of each connection scheduling a flush of its own.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class Later:
    """Flushes put off until the callback under way ends; its owner runs them (`flushes`, None when
    no such callback is under way)."""

    __slots__ = ("flushes",)

    def __init__(self) -> None:
        self.flushes: list[Callable[[], None]] | None = None


# The scope's key for the connection's `JoinedWrites.flush`: what it holds goes out now.
FLUSH = "chatdouble.flush"

# Set in the context the pacer runs its streams in: their writes wait for the end of its tick.
LATER: contextvars.ContextVar[Later | None] = contextvars.ContextVar("chatdouble_later", default=None)


class JoinedWrites(asyncio.Transport):
    """A transport that joins the writes of one loop turn into one write of `transport`."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.transport = transport
        self.loop = loop
        self.held: list[bytes | bytearray | memoryview] = []
        # The flush reads no context variable: it runs in this one, not a copy of the writer's.
        self.context = contextvars.Context()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self.held:
            later = LATER.get()
            if later is not None and later.flushes is not None:
                later.flushes.append(self.flush)  # no callback scheduled per connection
            else:
                self.loop.call_soon(self.flush, context=self.context)
        self.held.append(data)

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        held, self.held = self.held, []
        if held and not self.transport.is_closing():
            self.transport.write(held[0] if len(held) == 1 else b"".join(held))

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def abort(self) -> None:
        self.held = []
        self.transport.abort()

    def write_eof(self) -> None:
        self.flush()
        self.transport.write_eof()

    def can_write_eof(self) -> bool:
        return self.transport.can_write_eof()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.transport.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self.transport.get_protocol()

    def is_reading(self) -> bool:
        return self.transport.is_reading()

    def pause_reading(self) -> None:
        self.transport.pause_reading()

    def resume_reading(self) -> None:
        self.transport.resume_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self.transport.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size() + sum(len(data) for data in self.held)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self.transport.get_write_buffer_limits()


class JoinedWritesProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, writing through `JoinedWrites` (the `http` of `uvicorn.run`)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as uvicorn declares it
        self.joined = JoinedWrites(transport, asyncio.get_running_loop())
        super().connection_made(self.joined)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope[FLUSH] = self.joined.flush  # type: ignore[literal-required]  # our own key
