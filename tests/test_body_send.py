"""The send our middleware leaves in the scope for streams is taken back when the request ends:
uvicorn's send holds its request cycle, which holds the scope, so left there every request would be
a reference cycle that only the garbage collector frees (issue 14: p99 at c=16 tripled). On a real
server, nothing holds the cycle once the response is over: when the next request on the connection
begins, the one before it is gone, the collector off."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from server.app import create_app
from server.config import load_settings
from server.http.middleware import BODY_SEND
from tests.servers import serve
from tests.support.requests import chat_body, in_process


@pytest.mark.parametrize("stream", [False, True])
async def test_the_scope_holds_no_send_once_the_request_is_over(stream: bool) -> None:
    app = create_app(load_settings(env={}))
    scopes: list[dict[str, Any]] = []
    during: list[bool] = []

    async def keeping_the_scope(scope: Scope, receive: Receive, send: Send) -> None:
        scopes.append(scope)

        async def noting(message: Any) -> None:
            during.append(BODY_SEND in scope)
            await send(message)

        await app(scope, receive, noting)

    async with in_process(keeping_the_scope) as client:
        reply = await client.post("/v1/chat/completions", json=chat_body("hi", stream=stream))
    assert reply.status_code == 200
    assert during
    assert all(during)  # there while the response is sent
    assert BODY_SEND not in scopes[0]


@pytest.mark.parametrize("stream", [False, True])
def test_on_a_real_server_a_requests_cycle_is_freed_without_the_collector(stream: bool) -> None:
    app = create_app(load_settings(env={}))
    cycles: list[weakref.ref[Any]] = []
    kept: list[bool] = []  # at each request, whether the one before it is still in memory

    async def noting(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            kept.extend(cycle() is not None for cycle in cycles[-1:])
            cycles.append(weakref.ref(send.__self__))  # type: ignore[attr-defined]  # uvicorn's cycle
        await app(scope, receive, send)

    gc.disable()  # only reference counting frees anything meanwhile
    try:
        with serve(noting) as server, httpx.Client(base_url=server.base_url) as http:  # type: ignore[arg-type]  # an ASGI app around ours
            for _ in range(3):  # one connection: each request's cycle replaces the one before
                reply = http.post("/chat/completions", json=chat_body("hi", stream=stream))
                assert reply.status_code == 200
    finally:
        gc.enable()
    assert kept == [False, False]
