"""The creating endpoints' short way in: our headers, the API's error envelope, then the endpoint.

Through FastAPI's full stack a request passes eight layers before its endpoint: the server-error
middleware, telemetry, a body limit, our headers, the exception handlers, an exit stack, the router
and the route's own exception wrapper, each a coroutine and most wrapping `send` once more. The
creating endpoints (`POST /v1/chat/completions` and its kind) use two of them: our headers, with
their last-resort 500, and the handler that renders an `APIError`. They read their body within
our own limit and have no dependencies, so `Application` answers them with just those two; on
the benchmark's chat request the other layers were about a seventh of its cost (bench/README.md).
Everything else, and any request under a root path, goes through the full stack, where the same
endpoints are still routed (and documented). So does every request once the app's user has added a
middleware of their own (tests do): it must see every request.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from server.errors import APIError
from server.http.json_response import error_response
from server.http.middleware import OpenAIHeaders
from server.http.turns import Turns

Endpoint = Callable[[Request], Awaitable[Response]]


class Application(FastAPI):
    """FastAPI with our headers as its middleware, and some POST endpoints of fixed paths answered
    directly."""

    def __init__(self, turns: Turns, **options: Any) -> None:
        super().__init__(**options)
        self.add_middleware(OpenAIHeaders)
        self.ours = list(self.user_middleware)
        self.direct: dict[str, ASGIApp] = {}
        # The app's `Runtime` (server/runtime.py), also at `app.state.runtime`: read from here on
        # every request, since an attribute of Starlette's `State` costs a failed lookup first.
        self.runtime: Any = None
        # While requests are under way, a burst of new ones sets up a few at a time.
        self.turns = turns

    def answer_directly(self, path: str, endpoint: Endpoint) -> None:
        """POST `path` goes straight to `endpoint` (also add it as a route, to document it)."""
        self.direct[path] = OpenAIHeaders(_answering(endpoint))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        direct = self.direct.get(scope["path"]) if scope["type"] == "http" else None
        if direct is None or scope["method"] != "POST" or self.root_path or self.user_middleware != self.ours:
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self  # what `request.app` reads, as Starlette sets it
        turns = self.turns
        wait = turns.wait()
        while wait is not None:
            wait = turns.again(await wait)
        turns.active += 1
        try:
            await direct(scope, receive, send)
        finally:
            turns.active -= 1


class _Headers(Headers):
    """Starlette's request headers, read through a dict made once: its `get` scans the list and
    raises a `KeyError` for a missing name, and an endpoint reads five or so (the key, the session,
    the content type and length)."""

    def __init__(self, scope: Scope) -> None:
        # What `Headers(scope=scope)` does, without its checks of which argument was given (half
        # the cost of making these): the scope's list, a list as Starlette makes sure.
        raw = scope["headers"]
        if raw.__class__ is not list:
            raw = scope["headers"] = list(raw)
        self._list = raw
        # reversed, so the first of a repeated name is put in last and wins, as in `Headers`
        self._first: dict[bytes, bytes] = dict(reversed(raw))

    def get(self, key: str, default: Any = None) -> Any:
        value = self._first.get(_raw_name(key))
        return default if value is None else value.decode("latin-1")


@functools.lru_cache(maxsize=64)
def _raw_name(key: str) -> bytes:
    """A header name as the scope holds it; the endpoints ask for the same few names every request."""
    return key.lower().encode("latin-1")


class _Request(Request):
    @property
    def headers(self) -> Headers:
        if self._direct_headers is None:
            self._direct_headers = _Headers(self.scope)
        return self._direct_headers

    _direct_headers: Headers | None = None


def _answering(endpoint: Endpoint) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = _Request(scope, receive, send)
        try:
            response = await endpoint(request)
        except APIError as exc:
            response = error_response(exc)
            exc.__traceback__ = None  # as Starlette's handler does: an error may be raised again
        await response(scope, receive, send)

    return app
