"""The one way the tests post a chat request, and read the reply.

`ChatClient` wraps an httpx client (in process or on a socket) and posts chat requests: `post` gives
the response, `ask` the body of a 200, `chunks` the chunks of a streamed 200. `chat_client(app)` opens
one on an app in process; `post_chat(server, ...)` is the same request, blocking, to a live server.
Messages are a list, or a string standing for one user message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.types import ASGIApp

from tests.servers import LiveServer
from tests.support import sse

CHAT = "/v1/chat/completions"
Messages = str | list[dict[str, Any]]


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def function_tool(parameters: Any, name: str = "f") -> dict[str, Any]:
    """A `tools` entry offering function `name` with these parameters."""
    return {"type": "function", "function": {"name": name, "parameters": parameters}}


def chat_body(messages: Messages = "x", **fields: Any) -> dict[str, Any]:
    """A chat request for `gpt-4o`; `fields` add to it or override it (`model` too)."""
    return {
        "model": "gpt-4o",
        "messages": user(messages) if isinstance(messages, str) else messages,
        **fields,
    }


def post_scope(body: bytes, path: str = CHAT) -> dict[str, Any]:
    """The ASGI scope a server gives a JSON POST of `body` to `path`, for a test that calls an app
    as a server does (httpx's in-process transport reads a whole response before it returns)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 5000),
        "state": {},
    }


def in_process(app: ASGIApp, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    """An httpx client calling `app` in process; an exception in the app is its 500, not the test's."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers or {})


class ChatClient:
    """Posts chat requests, streamed and not."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post(self, messages: Messages = "x", **fields: Any) -> httpx.Response:
        return await self.http.post(CHAT, json=chat_body(messages, **fields))

    async def ask(self, messages: Messages = "x", **fields: Any) -> dict[str, Any]:
        """The body of a reply that must be a 200."""
        response = await self.post(messages, **fields)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def chunks(self, messages: Messages = "x", **fields: Any) -> list[dict[str, Any]]:
        """The chunks (and any error frame) of a streamed reply that must be a 200."""
        response = await self.post(messages, stream=True, **fields)
        assert response.status_code == 200, response.text
        return sse.chunks(response.text)


@asynccontextmanager
async def chat_client(app: ASGIApp, headers: dict[str, str] | None = None) -> AsyncIterator[ChatClient]:
    async with in_process(app, headers) as http:
        yield ChatClient(http)


def post_chat(server: LiveServer, messages: Messages = "x", **fields: Any) -> httpx.Response:
    """The same request, blocking, to a server on loopback."""
    return httpx.post(server.url + CHAT, json=chat_body(messages, **fields), timeout=10)


# ---------------------------------------------------------------- reading replies


def text_of(body: dict[str, Any], index: int = 0) -> str | None:
    content = body["choices"][index]["message"]["content"]
    assert content is None or isinstance(content, str)
    return content


def streamed_text(chunks: list[dict[str, Any]], index: int = 0) -> str:
    return "".join(
        c["choices"][0]["delta"].get("content") or ""
        for c in chunks
        if c.get("choices") and c["choices"][0]["index"] == index
    )


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


async def leave_a_stream(base_url: str, body: dict[str, Any], pieces: int = 3) -> None:
    """POST a streamed chat `body` to a live server, read `pieces` pieces of the answer, and leave:
    the connection closes mid-stream."""
    async with (
        httpx.AsyncClient(base_url=base_url) as http,
        http.stream("POST", "/v1/chat/completions", json=body) as response,
    ):
        received = 0
        async for _ in response.aiter_bytes():
            received += 1
            if received >= pieces:
                break
