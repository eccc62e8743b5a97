"""Headers the SDKs read on every response: `x-request-id`, `openai-processing-ms`, `openai-version`."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.ids import request_id

OPENAI_VERSION = b"2020-10-01"


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
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed = int((time.perf_counter() - started) * 1000)
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-request-id", rid.encode()),
                    (b"openai-version", OPENAI_VERSION),
                    (b"openai-processing-ms", str(elapsed).encode()),
                    (b"access-control-expose-headers", b"X-Request-ID"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
