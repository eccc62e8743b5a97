"""What a connection writes in one turn of the event loop goes out in one write
(server/http/joined_writes.py).

Proven, on a recording transport: a response's headers and body written in one turn reach the
socket as one write of the same bytes, in order; writes in different turns stay apart; closing
sends what is held first; aborting drops it; nothing is written once the transport is closing. A
stream that stops to wait sends what it wrote at once, before the other tasks of the turn run.
`chatdouble serve` runs uvicorn with the protocol, which gives each request the connection's flush,
and through it a chat response arrives whole.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncGenerator
from typing import Any

import pytest

import server.__main__ as cli
from server.app import create_app
from server.config import load_settings
from server.http.event_stream import EventStream, StreamOptions
from server.http.joined_writes import FLUSH, JoinedWrites, JoinedWritesProtocol
from tests.servers import serve


class Recording(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def is_closing(self) -> bool:
        return self.closed or self.aborted


async def _turn() -> None:
    await asyncio.sleep(0)  # one turn of the loop: what was scheduled with call_soon has run


async def test_writes_of_one_turn_are_one_write_of_the_same_bytes() -> None:
    socket_side = Recording()
    joined = JoinedWrites(socket_side, asyncio.get_running_loop())
    joined.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    joined.write(b"{}")
    assert socket_side.writes == []
    await _turn()
    assert socket_side.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]


async def test_writes_of_different_turns_stay_apart() -> None:
    socket_side = Recording()
    joined = JoinedWrites(socket_side, asyncio.get_running_loop())
    joined.write(b"data: 1\n\n")
    await _turn()
    joined.writelines([b"data: 2\n\n", b"data: 3\n\n"])
    await _turn()
    assert socket_side.writes == [b"data: 1\n\n", b"data: 2\n\ndata: 3\n\n"]


async def test_closing_sends_what_is_held_first_and_aborting_drops_it() -> None:
    loop = asyncio.get_running_loop()
    closed, aborted = Recording(), Recording()
    first, second = JoinedWrites(closed, loop), JoinedWrites(aborted, loop)
    first.write(b"last words")
    first.close()
    second.write(b"never sent")
    second.abort()
    await _turn()
    assert (closed.writes, closed.closed) == ([b"last words"], True)
    assert (aborted.writes, aborted.aborted) == ([], True)


async def test_nothing_is_written_to_a_transport_that_is_closing() -> None:
    socket_side = Recording()
    joined = JoinedWrites(socket_side, asyncio.get_running_loop())
    joined.write(b"too late")
    socket_side.closed = True  # the client left meanwhile
    await _turn()
    assert socket_side.writes == []


@pytest.mark.parametrize("ping_seconds", [0, 15])
async def test_a_stream_that_stops_to_wait_sends_what_it_wrote_before_the_turn_goes_on(
    ping_seconds: float,
) -> None:
    """At 2,000 paced streams starting together, a stream's first chunk waited for every other
    stream setting up in the same turn, up to 110 ms after its time; its next chunks, on time,
    then came that much sooner after it. Its headers and first frame are one write all the same,
    keep-alive pings or not."""
    loop = asyncio.get_running_loop()
    socket_side = Recording()
    joined = JoinedWrites(socket_side, loop)
    later: asyncio.Future[None] = loop.create_future()
    never: asyncio.Future[Any] = loop.create_future()

    async def frames() -> AsyncGenerator[bytes, None]:
        yield b"data: 1\n\n"
        await later  # the next frame has to be waited for
        yield b"data: 2\n\n"

    async def send(message: Any) -> None:  # as uvicorn's writes a chunked response
        if message["type"] == "http.response.start":
            joined.write(b"HTTP/1.1 200 OK\r\n\r\n")
        elif body := message["body"]:
            joined.write(b"%x\r\n%s\r\n" % (len(body), body))
        else:
            joined.write(b"0\r\n\r\n")

    async def receive() -> Any:
        return await never

    scope = {"type": "http", "method": "POST", FLUSH: joined.flush}
    options = StreamOptions(ping_seconds=ping_seconds)
    task = loop.create_task(EventStream(frames(), options)(scope, receive, send))
    await asyncio.sleep(0)  # the stream's task ran first in this turn, and waits now
    # Before this task went on, not when the turn's end flushed: headers and the first frame.
    assert socket_side.writes == [b"HTTP/1.1 200 OK\r\n\r\n9\r\ndata: 1\n\n\r\n"]
    later.set_result(None)
    await task
    await asyncio.sleep(0)  # the end, written as the stream's task ended, goes out as its turn ends
    assert socket_side.writes[1:] == [b"9\r\ndata: 2\n\n\r\n0\r\n\r\n"]


def test_each_request_is_given_its_connections_flush() -> None:
    flushes: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        flushes.append(scope.get(FLUSH))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with (
        serve(app, lifespan="off") as server,  # type: ignore[arg-type]  # a bare ASGI app
        socket.create_connection(("127.0.0.1", server.port)) as client,
    ):
        client.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        assert client.recv(65536).startswith(b"HTTP/1.1 204")
    (flush,) = flushes
    assert isinstance(flush.__self__, JoinedWrites)
    assert flush.__func__ is JoinedWrites.flush


def test_chatdouble_serve_runs_uvicorn_with_the_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    given: dict[str, Any] = {}
    monkeypatch.setattr(cli.uvicorn, "run", lambda app, **options: given.update(options))
    monkeypatch.setattr(cli, "_settle_collector", lambda: None)  # not this test process's collector
    monkeypatch.setattr(cli.signal, "signal", lambda *args: None)
    assert cli.main(["serve", "--port", "0", "--log-level", "warning"]) == 0
    assert given["http"] is JoinedWritesProtocol


def test_a_chat_response_arrives_whole_in_one_read_from_a_real_server() -> None:
    body = b'{"model":"gpt-4o","messages":[{"role":"user","content":"one piece"}]}'
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    with (
        serve(create_app(load_settings(env={}))) as server,
        socket.create_connection(("127.0.0.1", server.port)) as client,
    ):
        client.sendall(request)
        first = client.recv(65536)  # what the first segment brought: the headers and the body, joined
    head, _, rest = first.partition(b"\r\n\r\n")
    length = next(
        int(line[15:]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
    )
    assert head.startswith(b"HTTP/1.1 200")
    assert len(rest) == length
    assert b'"content": "one piece"' in rest
