"""Passing a forwarding backend's upstream answer to the client untouched.

The request is routed on its `model` alone and sent upstream byte for byte (fields this server does
not know included); the answer keeps the upstream's status, body, ids, usage and finish reasons.
Streams are re-framed chunk by chunk as they arrive, and end with `data: [DONE]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive

from backends.base import ForwardCall, Notes, Upstream
from server.config import Settings
from server.http.disconnect import ClientGoneError, unless_disconnected
from server.http.sse import open_stream
from server.runtime import Runtime


def peek(raw: bytes) -> dict[str, object] | None:
    """The body as JSON when it is an object naming a model; None leaves it to full validation."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) and isinstance(body.get("model"), str) else None


async def try_forward(
    runtime: Runtime, raw: bytes, request: Request, namespace: str, notes: Notes | None = None
) -> Response | None:
    """The upstream's answer when the request's route leads to a forwarding backend that takes it."""
    body = peek(raw)
    if body is None:
        return None
    route = runtime.settings.route_for(str(body["model"]))
    if route is None or route.backend not in runtime.forwarders:
        return None
    backend = runtime.backends[route.backend]
    call = ForwardCall(raw, body, request.headers, namespace, notes)
    try:
        upstream = await unless_disconnected(backend.forward(call), request.receive)
        if upstream is None:
            return None
        return await render(upstream, runtime.settings, request.receive)
    except ClientGoneError:
        return Response(status_code=499)  # the upstream request was cancelled with it


async def forward_models(runtime: Runtime, model: str | None, headers: Mapping[str, str]) -> Response | None:
    """`GET /v1/models` (model None) from the first backend that forwards models, or
    `GET /v1/models/{model}` from the backend the model is routed to, if it forwards models."""
    if model is None:
        name, path = runtime.model_forwarders[0], "models"
    else:
        route = runtime.settings.route_for(model)
        if route is None or route.backend not in runtime.model_forwarders:
            return None
        name, path = route.backend, "models/" + quote(model, safe="/:@")
    upstream = await runtime.backends[name].forward_models(path, headers)
    return None if upstream is None else await render(upstream, runtime.settings)


async def render(upstream: Upstream, settings: Settings, receive: Receive | None = None) -> Response:
    headers = dict(upstream.headers)
    if upstream.chunks is None:
        media = headers.pop("content-type", "application/json")
        return Response(upstream.body, upstream.status, headers, media_type=media)
    return await open_stream(upstream.chunks, headers, settings, receive)
