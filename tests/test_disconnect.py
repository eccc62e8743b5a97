"""A client that disconnects mid-stream stops the generation (on a real socket)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from backends.base import Backend, Event, GenerationRequest, TextDelta
from tests.servers import serve


class Endless(Backend):
    """Generates until closed, recording that it was stopped; `pace` None never awaits at all."""

    def __init__(self, pace: float | None) -> None:
        self.pace = pace
        self.stopped = threading.Event()
        self.sent = 0

    async def stream(self, request: GenerationRequest) -> AsyncIterator[Event]:
        try:
            while True:
                self.sent += 1
                yield TextDelta("tick ")
                if self.pace is not None:
                    await asyncio.sleep(self.pace)  # generation pace, not synchronisation
        finally:
            self.stopped.set()


@pytest.mark.parametrize("pace", [0.001, None], ids=["paced", "never-awaits"])
async def test_disconnect_cancels_backend(make_app: Any, pace: float | None) -> None:
    app = make_app()
    backend = Endless(pace)
    app.state.runtime.backends["echo"] = backend
    with serve(app) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            request = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "go"}]}
            async with http.stream("POST", "/v1/chat/completions", json=request) as response:
                received = 0
                async for _ in response.aiter_bytes():
                    received += 1
                    if received >= 3:
                        break
        stopped = await asyncio.to_thread(backend.stopped.wait, 20)
        assert stopped, "the backend kept generating after the client left"


class Stalling(Backend):
    """Never produces anything (a backend waiting on something), recording when it is closed."""

    instant = False

    def __init__(self) -> None:
        self.stopped = threading.Event()

    async def stream(self, request: GenerationRequest) -> AsyncIterator[Event]:
        try:
            await asyncio.get_running_loop().create_future()
            yield TextDelta("never")  # pragma: no cover
        finally:
            self.stopped.set()


@pytest.mark.parametrize("stream", [True, False])
async def test_client_leaving_before_the_first_byte_releases_the_backend(make_app: Any, stream: bool) -> None:
    app = make_app()
    backend = Stalling()
    app.state.runtime.backends["echo"] = backend
    with serve(app) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=0.5) as http:
            request = {"model": "gpt-4o", "stream": stream, "messages": [{"role": "user", "content": "go"}]}
            with pytest.raises(httpx.ReadTimeout):
                await http.post("/v1/chat/completions", json=request)
        assert await asyncio.to_thread(backend.stopped.wait, 20), "the request outlived its client"
