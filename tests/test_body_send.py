"""The send our middleware leaves in the scope for streams is taken back when the request ends:
uvicorn's send holds its request cycle, which holds the scope, so left there every request would be
a reference cycle that only the garbage collector frees (issue 14: p99 at c=16 tripled)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from server.app import create_app
from server.config import load_settings
from server.http.middleware import BODY_SEND
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
