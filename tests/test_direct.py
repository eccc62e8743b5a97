"""The creating endpoints are answered without FastAPI's stack (server/http/direct.py).

Proven: a chat request is answered, with our headers and the API's error envelope, even when the
router would not route it (so it took the short way); a middleware the app's user adds sees the
creating requests all the same (then everything takes the full stack); other methods on the same
path, and other paths, still go through the router.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from server.app import create_app
from server.config import load_settings
from server.http.direct import _Headers
from tests.support.requests import chat_client, in_process, text_of

PATH = "/v1/chat/completions"


def _unrouted() -> ASGIApp:
    """The default app with no route for POST /v1/chat/completions left in its router."""
    app = create_app(load_settings(env={}))
    app.router.routes = [
        route
        for route in app.router.routes
        if not (isinstance(route, Route) and route.name == "create_chat_completion")
    ]
    return app


async def test_a_chat_request_is_answered_without_the_router() -> None:
    async with chat_client(_unrouted()) as chat:
        body = await chat.ask("straight through")
    assert text_of(body) == "straight through"


async def test_the_short_way_keeps_our_headers_and_the_error_envelope() -> None:
    async with in_process(_unrouted()) as http:
        fine = await http.post(PATH, json={"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]})
        refused = await http.post(PATH, json={"model": "gpt-4o"})
    assert fine.headers["x-request-id"].startswith("req_")
    assert fine.headers["openai-version"] == "2020-10-01"
    assert "openai-processing-ms" in fine.headers
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "messages"
    assert refused.headers["x-request-id"].startswith("req_")


async def test_a_middleware_the_user_adds_sees_the_creating_requests() -> None:
    seen: list[str] = []

    class Paths:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            seen.append(scope.get("path", ""))
            await self.app(scope, receive, send)

    app = create_app(load_settings(env={}))
    app.add_middleware(Paths)
    async with chat_client(app) as chat:
        await chat.ask("x")
    assert PATH in seen


async def test_other_methods_on_a_creating_path_still_go_through_the_router() -> None:
    async with in_process(create_app(load_settings(env={}))) as http:
        listed = await http.get(PATH)
        unknown = await http.put(PATH, json={})
    assert listed.status_code == 200
    assert listed.json()["object"] == "list"  # the stored completions, routed by the router
    assert unknown.status_code in (404, 405)
    assert "error" in unknown.json()


def test_the_short_ways_headers_read_as_starlettes_do() -> None:
    raw = [(b"content-type", b"application/json"), (b"x-seen", b"first"), (b"x-seen", b"second")]
    scope: Scope = {"type": "http", "headers": raw}
    ours, theirs = _Headers(scope), Headers(scope=scope)
    for name in ("content-type", "Content-Type", "x-seen", "X-SEEN", "missing"):
        assert ours.get(name) == theirs.get(name), name
    assert ours.get("x-seen") == "first"  # the first of a repeated name
    assert ours.get("missing", "none") == "none"
    assert ours.getlist("x-seen") == theirs.getlist("x-seen") == ["first", "second"]
    assert ours.raw == theirs.raw
    assert list(ours.items()) == list(theirs.items())


def test_the_short_ways_headers_read_a_scope_whose_headers_are_not_a_list() -> None:
    raw = ((b"x-seen", b"first"), (b"x-seen", b"second"))
    ours = _Headers({"type": "http", "headers": raw})
    assert ours.get("x-seen") == "first"
    assert ours.getlist("x-seen") == ["first", "second"]
    assert ours.raw == list(raw)
