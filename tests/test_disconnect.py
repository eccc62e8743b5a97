"""A client that disconnects mid-stream stops the generation (on a real socket)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from backends.base import TextDelta
from tests.servers import serve
from tests.support.backends import Pause, ScriptedBackend
from tests.support.requests import leave_a_stream


@pytest.mark.parametrize("pace", [0.001, None], ids=["paced", "never-awaits"])
async def test_disconnect_cancels_backend(make_app: Any, pace: float | None) -> None:
    # Generates until closed; with `pace` None it never awaits at all.
    backend = ScriptedBackend([TextDelta("tick "), *([] if pace is None else [Pause(pace)])], forever=True)
    with serve(make_app(backend=backend)) as server:
        request = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "go"}]}
        await leave_a_stream(server.url, request)
        stopped = await asyncio.to_thread(backend.stopped.wait, 20)
        assert stopped, "the backend kept generating after the client left"


@pytest.mark.parametrize("stream", [True, False])
async def test_client_leaving_before_the_first_byte_releases_the_backend(make_app: Any, stream: bool) -> None:
    backend = ScriptedBackend([Pause(None)])  # waits on something that never comes
    with serve(make_app(backend=backend)) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=0.5) as http:
            request = {"model": "gpt-4o", "stream": stream, "messages": [{"role": "user", "content": "go"}]}
            with pytest.raises(httpx.ReadTimeout):
                await http.post("/v1/chat/completions", json=request)
        assert await asyncio.to_thread(backend.stopped.wait, 20), "the request outlived its client"
