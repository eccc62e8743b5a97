"""A backend that replays a fixed list of events, for pipeline and contract tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
from fastapi import FastAPI

from backends.base import Backend, Event, GenerationRequest


class ScriptedBackend(Backend):
    name = "scripted"

    def __init__(self, events: Sequence[Event]) -> None:
        self.events = list(events)

    async def stream(self, request: GenerationRequest) -> AsyncIterator[Event]:
        for event in self.events:
            yield event


def with_backend(app: FastAPI, backend: Backend) -> FastAPI:
    backend.name = "scripted"
    app.state.runtime.backends["echo"] = backend
    return app


async def post(app: FastAPI, **request: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], **request}
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        return await http.post("/v1/chat/completions", json=body)
