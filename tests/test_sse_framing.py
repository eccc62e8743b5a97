"""Byte-level stream framing: exactly `data: <compact json>\\n\\n` frames and `data: [DONE]\\n\\n`."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import httpx
from sse_starlette.sse import EventSourceResponse

from server.http.event_stream import EventStream, StreamOptions
from tests.servers import LiveServer
from tests.support import sse

REQUEST = {
    "model": "gpt-4o",
    "stream": True,
    "messages": [{"role": "user", "content": "Bonjour, ça va? 你好"}],
}
HEAD_KEYS = ["id", "object", "created", "model", "service_tier", "system_fingerprint", "choices"]


async def test_stream_bytes_are_framed_like_openai(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        response = await http.post("/v1/chat/completions", json=REQUEST)
    raw = response.content
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert b"\r" not in raw
    assert not raw.startswith(b":")
    assert b"\n:" not in raw
    assert b"event:" not in raw
    assert b"\nid:" not in raw
    payloads = sse.openai_stream(raw)
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    for payload in payloads[:-1]:
        # compact JSON, non-ASCII as UTF-8 (not \u escapes), as the API writes it
        assert payload == json.dumps(json.loads(payload), ensure_ascii=False, separators=(",", ":"))
    assert len({(c["id"], c["created"], c["system_fingerprint"]) for c in chunks}) == 1
    for chunk in chunks:
        assert list(chunk)[: len(HEAD_KEYS)] == HEAD_KEYS
        assert set(chunk) <= {*HEAD_KEYS, "usage", "obfuscation"}
        assert len(chunk["choices"]) == 1
        assert list(chunk["choices"][0]) == ["index", "delta", "logprobs", "finish_reason"]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    assert chunks[-1]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert content == REQUEST["messages"][0]["content"]  # type: ignore[index]
    middle = [c["choices"][0]["delta"] for c in chunks[1:-1]]
    assert middle
    assert all(list(delta) == ["content"] for delta in middle)


async def test_usage_chunk_and_usage_null(live_server: LiveServer) -> None:
    request = {**REQUEST, "stream_options": {"include_usage": True, "include_obfuscation": False}}
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        raw = (await http.post("/v1/chat/completions", json=request)).content
        plain = (await http.post("/v1/chat/completions", json={**REQUEST, "stream": False})).json()
    chunks = [json.loads(p) for p in sse.openai_stream(raw)[:-1]]
    assert all(list(c)[-1] == "usage" and c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == plain["usage"]
    assert all("obfuscation" not in c for c in chunks)


async def test_obfuscation_is_on_by_default(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        raw = (await http.post("/v1/chat/completions", json=REQUEST)).content
    chunks = [json.loads(p) for p in sse.openai_stream(raw)[:-1]]
    assert all(re.fullmatch(r"[A-Za-z0-9]{0,15}", c["obfuscation"]) for c in chunks)
    assert all(list(c)[-1] == "obfuscation" for c in chunks)


async def _no_frames() -> AsyncIterator[bytes]:
    return
    yield


async def test_a_stream_has_the_headers_sse_starlette_gives_it_in_its_order(live_server: LiveServer) -> None:
    given = EventSourceResponse(_no_frames()).raw_headers  # the library's own, made as it makes them
    assert EventStream(_no_frames(), StreamOptions()).raw_headers == given
    proxied = EventStream(_no_frames(), StreamOptions(), {"x-upstream": "1"}).raw_headers
    assert proxied == EventSourceResponse(_no_frames(), headers={"x-upstream": "1"}).raw_headers
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        response = await http.post("/v1/chat/completions", json=REQUEST)
    names = [name.encode() for name in response.headers]
    assert [name for name in names if name in dict(given)] == [name for name, _ in given]
    for name, value in given:
        assert response.headers[name.decode()] == value.decode()
