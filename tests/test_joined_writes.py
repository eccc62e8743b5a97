"""What a connection writes in one turn of the event loop goes out in one write
(server/http/joined_writes.py).

Proven, on a recording transport: a response's headers and body written in one turn reach the
socket as one write of the same bytes, in order; writes in different turns stay apart; closing
sends what is held first; aborting drops it; nothing is written once the transport is closing. A
stream that stops to wait sends what it wrote at once, before the other tasks of the turn run.
`chatdouble serve` runs uvicorn with the protocol, which gives each request the connection's flush,
and through it a chat response arrives whole.

A stream's frames are written without uvicorn's `send` (`BodyWriter`), paced or not, and arrive as
the same bytes as through it; on a full connection the writer declines, and uvicorn's `send` waits
for the connection to drain; a middleware of the app's user still sees every frame.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from collections.abc import AsyncGenerator
from typing import Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

import server.__main__ as cli
from backends.base import TextDelta
from server.app import create_app
from server.config import load_settings
from server.http.event_stream import EventStream, StreamOptions
from server.http.joined_writes import FLUSH, WRITE_BODY, BodyWriter, JoinedWrites, JoinedWritesProtocol
from tests.servers import serve
from tests.support.backends import Paced, ScriptedBackend
from tests.support.requests import chat_body


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


def _stream_on_a_real_server(app: Any) -> str:
    with serve(app) as server:
        body = chat_body("go", stream=True, stream_options={"include_obfuscation": False})
        response = httpx.post(server.base_url + "/chat/completions", json=body)
    assert response.status_code == 200
    text = re.sub(r'"id":"chatcmpl-[A-Za-z0-9]+"', '"id":"x"', response.text)
    return re.sub(r'"created":\d+', '"created":0', text)


@pytest.mark.parametrize("paced", [False, True])
def test_a_streams_frames_are_written_without_uvicorns_send_as_it_would_send_them(
    make_app: Any, monkeypatch: pytest.MonkeyPatch, paced: bool
) -> None:
    texts = [f"w{k} " for k in range(5)]
    script: list[Any] = []
    for text in texts:
        script += [Paced(0.002), TextDelta(text)] if paced else [TextDelta(text)]
    bodies: list[bytes] = []
    send = RequestResponseCycle.send

    async def counted(self: RequestResponseCycle, message: Any) -> None:
        if message["type"] == "http.response.body" and message.get("more_body"):
            bodies.append(message["body"])
        await send(self, message)

    monkeypatch.setattr(RequestResponseCycle, "send", counted)
    written = _stream_on_a_real_server(make_app(backend=ScriptedBackend(script)))
    assert bodies == []  # every frame was written by the writer
    assert written.count("data: ") == len(texts) + 3  # role, pieces, finish, [DONE]
    monkeypatch.setattr(BodyWriter, "__call__", lambda self, body: False)  # every frame through `send`
    sent = _stream_on_a_real_server(make_app(backend=ScriptedBackend(script)))
    assert bodies
    assert written == sent


def test_on_a_full_connection_the_writer_declines_and_send_waits_for_it_to_drain() -> None:
    piece = b"x" * 65536
    declined = threading.Event()
    written: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})  # chunked
        write: BodyWriter = scope[WRITE_BODY]
        while len(written) < 1000 and write(piece):  # the client reads nothing yet: it fills up
            written.append(len(piece))
            await asyncio.sleep(0)  # a turn: what is held goes to the socket
        declined.set()
        await send({"type": "http.response.body", "body": piece, "more_body": True})  # waits
        written.append(len(piece))
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    with (
        serve(app, lifespan="off") as server,  # type: ignore[arg-type]  # a bare ASGI app
        socket.create_connection(("127.0.0.1", server.port)) as client,
    ):
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        client.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        assert declined.wait(30)
        assert len(written) < 1000  # declined, not given up on
        received = b""
        while not received.endswith(b"\r\n0\r\n\r\n"):
            more = client.recv(1 << 20)
            assert more
            received += more
    head, _, chunked = received.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head
    assert chunked == b"".join(b"%x\r\n%s\r\n" % (size, piece) for size in written) + b"0\r\n\r\n"


def test_a_middleware_of_the_apps_user_sees_every_frame_of_a_stream(make_app: Any) -> None:
    seen: list[bytes] = []

    class Bodies:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            async def watched(message: Message) -> None:
                if message["type"] == "http.response.body":
                    seen.append(message.get("body", b""))
                await send(message)

            await self.app(scope, receive, watched)

    app = make_app(backend=ScriptedBackend([TextDelta(f"w{k} ") for k in range(5)]))
    app.add_middleware(Bodies)
    written = _stream_on_a_real_server(app)
    assert written.count("data: ") == 8
    assert b"".join(seen).count(b"data: ") == 8
