"""What a connection writes in one turn of the event loop goes out in one write
(server/http/joined_writes.py).

Proven, on a recording transport: a response's headers and body written in one turn reach the
socket as one write of the same bytes, in order; writes in different turns stay apart; closing
sends what is held first; aborting drops it; nothing is written once the transport is closing. `chatdouble
serve` runs uvicorn with the protocol, and through it a chat response arrives whole.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

import server.__main__ as cli
from server.app import create_app
from server.config import load_settings
from server.http.joined_writes import JoinedWrites, JoinedWritesProtocol
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
