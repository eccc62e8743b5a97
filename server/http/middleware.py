"""The outermost layer of our own: headers the SDKs read on every response (`x-request-id`,
`openai-processing-ms`, `openai-version`), a last-resort 500 in OpenAI's envelope so that no
traceback or bare-text error ever reaches a client, and scripted connection drops."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backends.base import DropConnection
from server.errors import server_error
from server.generation.ids import request_id
from server.http.json_response import error_response

OPENAI_VERSION = b"2020-10-01"
OURS = frozenset(
    (b"x-request-id", b"openai-version", b"openai-processing-ms", b"access-control-expose-headers")
)
# Where this middleware leaves, in the request's scope, the `send` it was given. Below it, once a
# response has started, every wrapper of `send` (ours; Starlette's exception handlers, which note
# that it started) passes a body message on untouched: a stream may send its body there directly,
# a pass through three coroutines fewer per message (server/http/event_stream.py).
BODY_SEND = "chatdouble.body_send"
log = logging.getLogger("chatdouble")


class OpenAIHeaders:
    """Pure ASGI middleware: cheap enough for the hot path, and it sees streamed responses too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        state["arrived"] = started  # a latency profile's time to first token counts from here
        response_started = False
        scope[BODY_SEND] = send

        async def send_with_headers(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                elapsed = int((time.perf_counter() - started) * 1000)
                headers = list(message.get("headers", ()))
                ours = [
                    (b"x-request-id", rid.encode()),
                    (b"openai-version", OPENAI_VERSION),
                    (b"openai-processing-ms", str(elapsed).encode()),
                    (b"access-control-expose-headers", b"X-Request-ID"),
                ]
                for given, _ in headers:
                    if given.lower() in OURS:  # a forwarded answer keeps its own id and timing
                        present = {name.lower() for name, _ in headers}
                        ours = [(name, value) for name, value in ours if name not in present]
                        break
                message["headers"] = headers + ours
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except DropConnection:
            # A backend's scripted network fault: uvicorn aborts a response that has started, so
            # before the first byte send headers announcing a body that never comes.
            if not response_started:
                headers = [(b"content-type", b"application/json"), (b"content-length", b"64")]
                await send_with_headers({"type": "http.response.start", "status": 200, "headers": headers})
            raise
        except Exception:
            log.exception("unhandled error on %s %s (%s)", scope.get("method"), scope.get("path"), rid)
            if response_started:
                raise
            await error_response(server_error())(scope, receive, send_with_headers)
        finally:
            # uvicorn's send holds its request cycle, which holds this scope: left here, every
            # request would be a reference cycle that only the garbage collector frees (issue 14:
            # the collections' pauses tripled p99 at c=16).
            del scope[BODY_SEND]


@dataclass(frozen=True, slots=True)
class Arrival:
    """What this middleware noted of a request: its `x-request-id` (a fresh one outside it) and
    when it came in (`time.perf_counter()`; None when unknown, as for a WebSocket message)."""

    request_id: str
    at: float | None = None


def arrival_of(scope: Mapping[str, Any] | None) -> Arrival:
    state = scope.get("state", {}) if scope is not None else {}
    rid, at = state.get("request_id"), state.get("arrived")
    return Arrival(rid if isinstance(rid, str) else request_id(), at if isinstance(at, float) else None)
