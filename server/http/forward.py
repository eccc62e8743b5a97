"""Passing a forwarding backend's upstream answer to the client untouched.

The request is routed on its `model` alone and sent upstream byte for byte (fields this server does
not know included); the answer keeps the upstream's status, body, ids, usage and finish reasons.
Streams are re-framed chunk by chunk as they arrive: chat's end with `data: [DONE]`; the Responses
API's keep each event's `event:` line and just end, as the upstream's did.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive

from backends.base import Backend, ForwardCall, NamedEvent, Notes, Payload, Together, Upstream
from server.errors import APIError
from server.http.disconnect import ClientGoneError, client_gone, unless_disconnected
from server.http.event_stream import StreamOptions
from server.http.sse import CHAT, Framing, frame, open_stream


def peek(raw: bytes) -> dict[str, object] | None:
    """The body as JSON when it is an object naming a model; None leaves it to full validation."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) and isinstance(body.get("model"), str) else None


async def try_forward(
    backend: Backend,
    call: ForwardCall,
    request: Request,
    options: StreamOptions,
) -> Response | None:
    """The upstream's answer, when the forwarding `backend` takes the request; None when it leaves
    it to the pipeline (a proxy that replays)."""
    try:
        upstream = await unless_disconnected(backend.forward(call), request.receive)
        if upstream is None:
            return None
        return await render(upstream, options, request.receive)
    except ClientGoneError:
        return client_gone()  # the upstream request was cancelled with it


async def forward_models(
    backend: Backend, model: str | None, headers: Mapping[str, str], options: StreamOptions
) -> Response | None:
    """`GET /v1/models` (model None) or `GET /v1/models/{model}` answered by `backend`'s upstream."""
    path = "models" if model is None else "models/" + quote(model, safe="/:@")
    upstream = await backend.forward_models(path, headers)
    return None if upstream is None else await render(upstream, options)


class NamedEvents(Framing):
    """An upstream's Responses stream passed on: each event under its `event:` line, comments in
    their place, no `[DONE]`. A break after the first byte is an `error` event numbered after the
    last one passed on, as the API tells a failure inside a stream."""

    end = b""

    def __init__(self) -> None:
        self.last = b""

    def frame(self, data: Payload) -> bytes:
        if isinstance(data, NamedEvent):
            self.last = data.data
        elif isinstance(data, Together):
            self.last = next(
                (p.data for p in reversed(data.payloads) if isinstance(p, NamedEvent)), self.last
            )
        return frame(data)

    def failure(self, error: APIError) -> bytes:
        try:
            number = orjson.loads(self.last).get("sequence_number") if self.last else None
        except (orjson.JSONDecodeError, AttributeError):
            number = None
        shown = error.envelope()["error"]
        event: dict[str, object] = {
            "type": "error",
            "error": {k: shown.get(k) for k in ("type", "code", "message", "param")},
        }
        if isinstance(number, int):
            event["sequence_number"] = number + 1
        return b"event: error\ndata: " + orjson.dumps(event) + b"\n\n"


async def render(upstream: Upstream, options: StreamOptions, receive: Receive | None = None) -> Response:
    headers = dict(upstream.headers)
    if upstream.chunks is None:
        media = headers.pop("content-type", "application/json")
        return Response(upstream.body, upstream.status, headers, media_type=media)
    framing = CHAT if upstream.done else NamedEvents()
    return await open_stream(upstream.chunks, headers, options, receive, framing)


def forward_call(
    raw: bytes, request: Request, namespace: str, notes: Notes | None, path: str = "chat/completions"
) -> ForwardCall | None:
    """The request as a forwarding backend takes it, when its body names a model; `path` is where it
    goes upstream, relative to the API root."""
    body = peek(raw)
    return None if body is None else ForwardCall(raw, body, request.headers, namespace, notes, path)
