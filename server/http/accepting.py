"""Accept every waiting connection when the listening socket is ready, not one per turn of the loop.

Since libuv/libuv#3696 ("unix: don't accept() connections in a loop", 2022), a libuv server
accepts one connection each time the loop polls, and uvloop, uvicorn's loop, inherits that. On an
idle server it makes no difference. Under load, a turn of the loop takes milliseconds, so a burst of
new connections drains from the kernel's accept queue at a few hundred a second, and each of those
clients waits with its request already sent. Measured with 2,000 paced streams opened together on
one worker (`python -m bench.paced`): 2,002 accepts, none of them failing with EAGAIN (so never more
than one per poll), and spread over 7 seconds; the last streams got their first chunk 6.8 s after
their request.

`EagerAcceptLoop` is uvloop's loop whose TCP servers accept as asyncio's own loop does: each time
the listening socket is readable, accept until the queue is empty (at most `backlog` at a time),
and hand each socket to the loop as an accepted connection. What happens after the accept is
uvloop's as before: the same transport class, TCP_NODELAY, the same protocol.

It is used with one worker (`chatdouble serve`). With several workers sharing one listening socket,
accepting one at a time is what spreads a burst of connections between them, so they keep it.
A server with TLS or options this module does not handle is created by uvloop as before.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable
from typing import Any

import uvloop

log = logging.getLogger(__name__)

# Errors of an accept that say the process or the machine is out of something. asyncio pauses
# accepting for a second on these instead of retrying at once in a busy loop; so do we.
_EXHAUSTED = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_PAUSE_SECONDS = 1.0


class EagerAcceptLoop(uvloop.Loop):
    """uvloop, with TCP servers that accept every waiting connection at once (uvicorn's `loop`)."""

    async def create_server(  # type: ignore[override]  # asyncio's overloads; uvicorn calls these forms
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        host: str | None = None,
        port: int | None = None,
        *,
        sock: socket.socket | None = None,
        backlog: int = 100,
        ssl: Any = None,
        **options: Any,
    ) -> asyncio.AbstractServer:
        if ssl is not None or options or (sock is not None and sock.family == socket.AF_UNIX):
            return await super().create_server(
                protocol_factory,
                host,
                port,  # type: ignore[arg-type]  # passed on as uvicorn gave it
                sock=sock,  # type: ignore[arg-type]  # likewise
                backlog=backlog,
                ssl=ssl,
                **options,
            )
        sockets = [sock] if sock is not None else bind(host, port)
        return Listener(self, protocol_factory, sockets, backlog)


def bind(host: str | None, port: int | None) -> list[socket.socket]:
    """A socket bound to each address `host` resolves to (every interface for None or ""), as
    asyncio binds them: SO_REUSEADDR, and IPv6 sockets IPv6 only, so both families can share a port."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    bound: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            bound.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
    except OSError:
        for sock in bound:
            sock.close()
        raise
    return bound


class Listener(asyncio.AbstractServer):
    """Listening sockets whose waiting connections are accepted together."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        sockets: list[socket.socket],
        backlog: int,
    ) -> None:
        self.loop = loop
        self.protocol_factory = protocol_factory
        self.sockets = sockets
        self.backlog = backlog
        self.connecting: set[asyncio.Task[None]] = set()  # strong references until connected
        self.serving = True
        for sock in sockets:
            sock.setblocking(False)
            sock.listen(backlog)
            self.loop.add_reader(sock.fileno(), self.accept, sock)

    def accept(self, sock: socket.socket) -> None:
        for _ in range(self.backlog):
            try:
                conn, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue  # the client gave up before we got to it
            except OSError as exc:
                if exc.errno not in _EXHAUSTED:
                    raise
                log.error("accepting connections paused for %g s: %s", _PAUSE_SECONDS, exc)
                self.loop.remove_reader(sock.fileno())
                self.loop.call_later(_PAUSE_SECONDS, self.resume, sock)
                return
            conn.setblocking(False)
            task = self.loop.create_task(self.connect(conn))
            self.connecting.add(task)
            task.add_done_callback(self.connecting.discard)

    async def connect(self, conn: socket.socket) -> None:
        try:
            await self.loop.connect_accepted_socket(self.protocol_factory, conn)
        except OSError as exc:  # the client went away between the accept and the transport
            log.debug("accepted connection dropped: %s", exc)
            conn.close()

    def resume(self, sock: socket.socket) -> None:
        if self.serving:
            self.loop.add_reader(sock.fileno(), self.accept, sock)

    # asyncio.AbstractServer

    def close(self) -> None:
        if not self.serving:
            return
        self.serving = False
        for sock in self.sockets:
            self.loop.remove_reader(sock.fileno())
            sock.close()

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self.loop

    def is_serving(self) -> bool:
        return self.serving

    async def start_serving(self) -> None:
        pass  # serving from the start, as uvicorn asks

    async def serve_forever(self) -> None:
        raise NotImplementedError("uvicorn runs its own main loop")

    async def wait_closed(self) -> None:
        if self.connecting:
            await asyncio.gather(*self.connecting, return_exceptions=True)
