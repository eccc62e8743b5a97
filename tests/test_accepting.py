"""The one-worker server accepts a burst of connections in one turn of its loop (server/http/accepting.py).

Proven on real loopback sockets: connections made while the loop is busy all wait in the kernel's
accept queue; when the loop next polls, `EagerAcceptLoop` takes them all in one turn, where
uvloop's own server takes one per turn (the reason the module exists). Turns are counted by a
callback that puts itself back on the loop once per turn. Also: what it binds, that closing stops
it, that `chatdouble serve` uses it with one worker only, and that it leaves the client's address as
the socket gives it.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any, cast

import httpx
import pytest
import uvicorn
import uvloop

from server.__main__ import uvicorn_options
from server.config import load_settings
from server.http.accepting import EagerAcceptLoop, Listener, bind

BURST = 40


class Turns:
    """Counts the turns of the running loop: a callback that schedules itself again each turn."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop, self.count, self.running = loop, 0, True
        loop.call_soon(self.tick)

    def tick(self) -> None:
        self.count += 1
        if self.running:
            self.loop.call_soon(self.tick)


async def turns_of_connections(loop: asyncio.AbstractEventLoop) -> list[int]:
    """Connect `BURST` clients while the loop is held, then the loop turn in which each connected."""
    turns = Turns(loop)
    seen: list[int] = []
    all_in = loop.create_future()

    class Recorder(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            seen.append(turns.count)
            if len(seen) == BURST:
                all_in.set_result(None)

    server = await loop.create_server(Recorder, "127.0.0.1", 0, backlog=BURST * 2)
    port = server.sockets[0].getsockname()[1]
    # Blocking connects: the loop does not run meanwhile, so every connection waits to be accepted.
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(BURST)]
    try:
        await all_in
    finally:
        turns.running = False
        for client in clients:
            client.close()
        server.close()
        await server.wait_closed()
    return seen


def run_in(loop_factory: Callable[[], asyncio.AbstractEventLoop], coro: Callable[[Any], Any]) -> Any:
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(coro(runner.get_loop()))


def test_a_burst_of_waiting_connections_is_accepted_in_one_turn_of_the_loop() -> None:
    seen = run_in(EagerAcceptLoop, turns_of_connections)
    # accepted in one turn; connection_made is called soon after, so all fall in a turn or two
    assert max(seen) - min(seen) <= 2, seen


def test_uvloops_own_server_takes_one_connection_per_turn() -> None:
    # Why the module exists: with this, a busy server drains a burst at one connection per turn.
    seen = run_in(uvloop.new_event_loop, turns_of_connections)
    assert max(seen) - min(seen) >= BURST - 1, seen


def test_connections_carry_requests_and_answers_both_ways_with_nodelay() -> None:
    async def echo_once(loop: asyncio.AbstractEventLoop) -> tuple[bytes, int]:
        nodelay: list[int] = []

        class Echo(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = cast(asyncio.Transport, transport)
                sock = transport.get_extra_info("socket")
                nodelay.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

            def data_received(self, data: bytes) -> None:
                self.transport.write(data.upper())

        server = await loop.create_server(Echo, "127.0.0.1", 0)
        assert isinstance(server, Listener)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"ping")
        answer = await reader.readexactly(4)
        writer.close()
        server.close()
        await server.wait_closed()
        return answer, nodelay[0]

    answer, nodelay = run_in(EagerAcceptLoop, echo_once)
    assert answer == b"PING"
    assert nodelay  # set on the accepted side, as uvloop's own server does


def test_closing_the_server_stops_accepting_and_frees_the_port() -> None:
    async def close(loop: asyncio.AbstractEventLoop) -> tuple[bool, int]:
        server = await loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        return server.is_serving(), port

    serving, port = run_in(EagerAcceptLoop, close)
    assert not serving
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    with socket.create_server(("127.0.0.1", port)):  # bound again at once: SO_REUSEADDR
        pass


def test_a_host_is_bound_on_each_address_it_resolves_to() -> None:
    sockets = bind("localhost", 0)
    try:
        families = {sock.family for sock in sockets}
        assert socket.AF_INET in families
        for sock in sockets:
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
            if sock.family == socket.AF_INET6:
                assert sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
    finally:
        for sock in sockets:
            sock.close()


def test_a_taken_port_fails_to_bind_and_leaves_nothing_open() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match="in use"):
            bind("127.0.0.1", port)


def test_serve_accepts_eagerly_with_one_worker_only() -> None:
    one = uvicorn_options(load_settings(None, env={}, overrides={"workers": 1}))
    two = uvicorn_options(load_settings(None, env={}, overrides={"workers": 2}))
    assert one["loop"] == "server.http.accepting:EagerAcceptLoop"
    assert "loop" not in two  # uvicorn's default: uvloop, one connection at a time per worker


async def test_serve_leaves_the_client_address_as_the_socket_gives_it() -> None:
    """`chatdouble serve` runs uvicorn without its proxy-headers middleware: chatdouble reads nothing
    of the client's address or scheme, which that middleware rewrote from a local proxy's
    `X-Forwarded-*` headers on every request."""
    seen: list[Any] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append((scope["client"][0], scope["scheme"]))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    options = uvicorn_options(load_settings(None, env={}, overrides={"workers": 1}))
    kept = {name: options[name] for name in ("http", "proxy_headers", "access_log")}
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning", **kept))  # type: ignore[arg-type]
    listening = socket.create_server(("127.0.0.1", 0))
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    try:
        # The connection waits in the listening socket's queue until the server takes it.
        url = f"http://127.0.0.1:{listening.getsockname()[1]}/"
        async with httpx.AsyncClient() as client:
            answer = await client.get(url, headers=forwarded)
    finally:
        server.should_exit = True
        await serving
        listening.close()
    assert answer.status_code == 204
    assert seen == [("127.0.0.1", "http")]
