"""Upstreams and proxies for the proxy tests: an upstream is another chatdouble (fixtures with an echo
fallback) on a real loopback socket, wrapped in a capturing ASGI layer that keeps the exact bytes it
received and sent; a proxy is a chatdouble whose routes lead to a proxy backend pointing at it."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.app import create_app
from server.config import load_settings
from tests.support import sse

UPSTREAM_FIXTURES = """
fixtures:
  - id: story
    match: {last_user: {contains: story}}
    response: {chunks: ["Once", " upon", " a", " time", "."]}
    timing: {ttft: 0.3, chunk_delay: 0.1}
  - id: weather
    match: {tools: [get_weather], tool_result: false}
    response: {tool_calls: [{name: get_weather, arguments: {city: Paris, unit: celsius}}]}
  - id: weather-answer
    match: {tool_result: {name: get_weather}}
    response: {text: It is sunny in Paris.}
  - id: limited
    match: {last_user: flaky}
    times: 1
    response: {error: {status: 429, headers: {retry-after-ms: 10}}}
  - id: recovered
    match: {last_user: flaky}
    response: {text: Worked on the second try.}
  - id: refused
    match: {last_user: forbidden}
    response: {error: {status: 403, message: You may not., code: forbidden_here}}
  - id: slow
    match: {last_user: slow}
    response: {text: too late}
    timing: {ttft: 0.8}
  - id: drop
    match: {last_user: drop}
    response: {chunks: ["one", " two", " three"]}
    fault: {kind: drop, after_chunks: 2}
  - id: crashed
    match: {last_user: crash}
    response: {error: {status: 500, message: The upstream crashed.}}
  - id: broke-midway
    match: {last_user: break midway}
    response: {chunks: ["one", " two", " three"]}
    fault: {kind: error, after_chunks: 2, error: {status: 500, message: The model broke., code: model_broke}}
  - id: dated
    match: {last_user: dated}
    response: {text: A dated answer.}
    recorded: {model: gpt-4o-mini-2024-07-18}  # answered as a dated model, as OpenAI does for an alias
  - id: research
    match: {last_user: {contains: research}}
    response:
      reasoning: ["Planning the **search**.", "Reading the results."]
      items: [{type: web_search_call, status: completed, action: {type: search, query: chatdouble}}]
      chunks: ["Found", " it", "."]
      tool_calls: [{name: save, arguments: {note: found}}]
  - id: scored  # its own logprobs, unlike the server's synthesized ones, so replay shows whose it gives
    match: {last_user: {contains: scored}}
    response:
      chunks: ["Once", " upon", " a", " time", "."]
      logprobs:
        - {token: Once, logprob: -0.5, top_logprobs: [{token: Once, logprob: -0.5}, {token: Twice, logprob: -2.5}]}
        - {token: " upon", logprob: -0.25, top_logprobs: [{token: " upon", logprob: -0.25}, {token: " on", logprob: -3.0}]}
        - {token: " a", logprob: -0.125, top_logprobs: [{token: " a", logprob: -0.125}, {token: " the", logprob: -4.0}]}
        - {token: " time", logprob: -1.0, top_logprobs: [{token: " time", logprob: -1.0}, {token: " day", logprob: -1.5}]}
        - {token: ".", logprob: -0.0625, top_logprobs: [{token: ".", logprob: -0.0625}, {token: "!", logprob: -2.0}]}
  - id: paced
    match: {last_user: paced}
    response: {chunks: ["one", " two", " three"]}
    timing: {chunk_delay: 0.3}
"""


@dataclass
class Exchange:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    parts: list[bytes] = field(default_factory=list)  # each http.response.body message
    client: tuple[str, int] | None = None  # the connection's far end: the same port, the same connection
    gone: threading.Event = field(default_factory=threading.Event)  # its client left (`http.disconnect`)

    @property
    def response(self) -> bytes:
        return b"".join(self.parts)

    @property
    def chunks(self) -> list[dict[str, Any]]:
        """What a streamed response carried, `[DONE]` left out."""
        return sse.chunks(self.response)


class Capture:
    """Pure ASGI middleware keeping every HTTP exchange, bytes exact."""

    def __init__(self, app: ASGIApp, log: list[Exchange]) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        client = scope.get("client")
        exchange = Exchange(scope["method"], scope["path"], headers, client=tuple(client) if client else None)
        self.log.append(exchange)

        async def receive_and_keep() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                exchange.body += message.get("body", b"")
            elif message["type"] == "http.disconnect":
                exchange.gone.set()
            return message

        async def send_and_keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                exchange.response_headers = {
                    k.decode("latin-1"): v.decode("latin-1") for k, v in message.get("headers", [])
                }
            elif message["type"] == "http.response.body" and message.get("body"):
                exchange.parts.append(message["body"])
            await send(message)

        await self.app(scope, receive_and_keep, send_and_keep)


def upstream_app(tmp_path: Path, log: list[Exchange] | None = None, **settings: Any) -> FastAPI:
    """A chatdouble answering from UPSTREAM_FIXTURES, else echoing; captured into `log` if given."""
    path = tmp_path / "upstream-fixtures.yaml"
    path.write_text(UPSTREAM_FIXTURES, encoding="utf-8")
    backends = {
        "scripted": {"type": "fixtures", "paths": [str(path)], "fallback": "echo", "reload": False},
        "echo": {"type": "echo"},
    }
    routes = [{"model": "*", "backend": "scripted", "models": ["gpt-4o", "gpt-4o-mini"]}]
    overrides = {"backends": backends, "routes": routes, **settings}
    app = create_app(load_settings(env={}, overrides=overrides))
    if log is not None:
        app.add_middleware(Capture, log=log)
    return app


def proxy_app(
    base_url: str,
    *,
    routes: list[dict[str, Any]] | None = None,
    settings: dict[str, Any] | None = None,
    **backend: Any,
) -> FastAPI:
    """A chatdouble whose models go to the proxy backend `upstream` (and `local-*` to echo)."""
    backends = {"upstream": {"type": "proxy", "base_url": base_url, **backend}, "echo": {"type": "echo"}}
    routes = routes or [{"model": "local-*", "backend": "echo"}, {"model": "*", "backend": "upstream"}]
    overrides = {"backends": backends, "routes": routes, **(settings or {})}
    return create_app(load_settings(env={}, overrides=overrides))


def chat_posts(log: list[Exchange]) -> list[Exchange]:
    return [e for e in log if e.path == "/v1/chat/completions"]


def responses_posts(log: list[Exchange]) -> list[Exchange]:
    return [e for e in log if e.path == "/v1/responses"]


def deltas(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a stream said, chunk by chunk: each chunk's delta and finish reason, without ids."""
    out = []
    for chunk in chunks:
        for choice in chunk.get("choices") or []:
            out.append({"delta": choice["delta"], "finish_reason": choice["finish_reason"]})
    return out


def content_of(body: bytes) -> str:
    """The reply's text, from a `chat.completion` body or a stream of chunks."""
    if not body.startswith(b"data: "):
        text: str = json.loads(body)["choices"][0]["message"]["content"]
        return text
    return "".join(
        chunk["choices"][0]["delta"].get("content") or ""
        for chunk in sse.chunks(body)
        if chunk.get("choices")
    )
