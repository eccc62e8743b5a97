"""`create_app(settings)`: the one place an application is assembled."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Protocol

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from backends.base import Backend
from server import __version__
from server.chat import route as chat
from server.chat import stored as chat_stored
from server.chat.conversation import conversation_of
from server.completions import route as completions
from server.config import Settings
from server.control import admin, chaos, fixtures_api, requests_api, verify
from server.control.entries import Recorder
from server.control.journal import Endpoint, Sinks, journaled
from server.embeddings import route as embeddings
from server.errors import APIError, invalid_request
from server.generation.conversation import Conversation
from server.generation.shaping import Sleep
from server.http.direct import Application
from server.http.json_response import error_response
from server.http.ratelimit import limited
from server.http.trace import Trace
from server.http.turns import Turns
from server.openapi import build_openapi
from server.responses import route as responses
from server.responses.websocket import responses_socket
from server.routes import health, models
from server.runtime import Runtime

log = logging.getLogger("chatdouble")
# The endpoints that create an answer: the hot path, answered without FastAPI's stack (server/http/direct.py).
CREATING = ("create_chat_completion", "create_completion", "create_response", "create_embedding")


class _Handler(Protocol):
    """A generation endpoint: given a trace when a journal is kept."""

    def __call__(self, request: Request, trace: Trace | None = None) -> Awaitable[Response]: ...


def create_app(
    settings: Settings,
    backends: Mapping[str, Backend] | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Sleep | None = None,
    pace_clock: Callable[[], float] | None = None,
) -> FastAPI:
    """The application for `settings`; `backends` replace configured backends by name (tests
    inject a scripted backend here rather than reaching into the runtime). `clock` is what rate
    limits replenish by (a test's own, which it moves); `sleep` takes every pause of a latency
    profile and every chaos hold, and `pace_clock` is what the pauses are counted against (a test
    records the pauses instead of waiting, on a clock its sleeps advance)."""
    runtime = Runtime.build(settings, backends, clock)
    if sleep is not None:
        runtime.sleep = sleep
    if pace_clock is not None:
        runtime.clock = pace_clock
    runtime.warm()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await runtime.aclose()

    pacer = runtime.stream_options.pacer
    app = Application(
        Turns(lambda: pacer.busy),
        title="chatdouble",
        version=__version__,
        description="An OpenAI Chat Completions stand-in: echo, scripted fixtures and an upstream proxy.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # FastAPI's built-in OpenTelemetry hooks ask the global providers on every request; a test
        # stand-in has no use for them, and the hot path is measured (bench/).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.runtime = app.runtime = runtime
    endpoints = [
        _chat_route(runtime),
        *_stored_chat_routes(),
        _completions_route(runtime),
        *_responses_routes(runtime),
        _embeddings_route(runtime),
    ]
    for position, route in enumerate(endpoints):
        app.router.routes.insert(position, route)
    for route in endpoints:
        if isinstance(route, Route) and route.name in CREATING:
            app.answer_directly(route.path, route.endpoint)
    # `/v1/chat/completions/` is an unknown URL to the API (404), not a redirect.
    app.router.redirect_slashes = False
    app.include_router(models.router)
    app.include_router(health.router)
    app.include_router(admin.router)
    app.include_router(fixtures_api.router)
    app.include_router(requests_api.router)
    app.include_router(verify.router)
    app.include_router(chaos.router)
    _install_error_handlers(app, settings)
    document: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not document:
            document.update(build_openapi(app))
        return document

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _endpoint(
    handler: _Handler,
    runtime: Runtime,
    name: str,
    rebuild: Callable[[bytes], Conversation] | None = None,
) -> Endpoint:
    """A generation endpoint, journaled when a journal is kept (file or memory) and carrying
    rate-limit headers when limits are set; without either, the handler itself, so neither is on the
    hot path. `rebuild`: how its conversation is made again from a body (`Recorder.rebuild`)."""
    endpoint: Endpoint = handler
    if runtime.journal is not None or runtime.requests is not None:
        memory = (
            Recorder.of(runtime.requests, runtime.settings, name, rebuild)
            if runtime.requests is not None
            else None
        )
        endpoint = journaled(handler, Sinks(runtime.settings, runtime.journal, memory))
    if runtime.limiter is not None:
        endpoint = limited(endpoint)
    return endpoint


def _chat_route(runtime: Runtime) -> Route:
    """A plain Starlette route for the hot path; with a journal, the endpoint runs inside it, and
    without one nothing of the journal is on the path."""
    endpoint = _endpoint(chat.create_chat_completion, runtime, "chat.completions", conversation_of)
    return Route(chat.PATH, endpoint, methods=["POST"], name="create_chat_completion")


def _stored_chat_routes() -> list[BaseRoute]:
    one = chat.PATH + "/{completion_id}"
    return [
        Route(chat.PATH, chat_stored.list_chat_completions, methods=["GET"], name="list_chat_completions"),
        Route(one, chat_stored.retrieve_chat_completion, methods=["GET"], name="get_chat_completion"),
        Route(one, chat_stored.update_chat_completion, methods=["POST"], name="update_chat_completion"),
        Route(one, chat_stored.delete_chat_completion, methods=["DELETE"], name="delete_chat_completion"),
        Route(
            one + "/messages",
            chat_stored.list_chat_completion_messages,
            methods=["GET"],
            name="get_chat_completion_messages",
        ),
    ]


def _completions_route(runtime: Runtime) -> Route:
    endpoint = _endpoint(completions.create_completion, runtime, "completions")
    return Route(completions.PATH, endpoint, methods=["POST"], name="create_completion")


def _embeddings_route(runtime: Runtime) -> Route:
    endpoint = _endpoint(embeddings.create_embedding, runtime, "embeddings")
    return Route(embeddings.PATH, endpoint, methods=["POST"], name="create_embedding")


def _responses_routes(runtime: Runtime) -> list[BaseRoute]:
    create = _endpoint(responses.create_response, runtime, "responses")
    one = responses.PATH + "/{response_id}"
    return [
        Route(responses.PATH, create, methods=["POST"], name="create_response"),
        WebSocketRoute(responses.PATH, responses_socket, name="responses_websocket"),
        Route(responses.PATH + "/input_tokens", responses.count_input_tokens, methods=["POST"]),
        Route(responses.PATH + "/compact", responses.compact_response, methods=["POST"]),
        Route(one, responses.retrieve_response, methods=["GET"], name="retrieve_response"),
        Route(one, responses.delete_response, methods=["DELETE"], name="delete_response"),
        Route(one + "/cancel", responses.cancel_response, methods=["POST"], name="cancel_response"),
        Route(one + "/input_items", responses.list_input_items, methods=["GET"], name="list_input_items"),
    ]


def _install_error_handlers(app: FastAPI, settings: Settings) -> None:
    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, APIError)
        return error_response(exc)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        invalid_url = APIError(404, f"Invalid URL ({request.method} {request.url.path})")
        if exc.status_code == 405 and settings.method_not_allowed == "405":
            allow = (exc.headers or {}).get("Allow", "")
            return error_response(
                APIError(
                    405,
                    f"Method Not Allowed ({request.method} {request.url.path})",
                    headers={"Allow": allow} if allow else None,
                )
            )
        if exc.status_code in (404, 405):
            return error_response(invalid_url)
        return error_response(APIError(exc.status_code, str(exc.detail)))

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        return error_response(invalid_request(str(exc)))

    app.add_exception_handler(APIError, on_api_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
