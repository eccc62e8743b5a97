"""Upstream failures through the proxy, each answered quickly and in OpenAI's shape: upstream errors
pass through with their status, body and retry headers; an upstream that refuses connections is a
502, one that never accepts or never answers a 504; a stream broken off midway ends with an error
frame and `[DONE]`."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.servers import LiveServer, serve
from tests.support import sse
from tests.support.proxies import Exchange, chat_posts, proxy_app, upstream_app
from tests.support.requests import post_chat, user

UPSTREAM_KEY = "sk-upstream-only-key-000000"


@pytest.fixture(scope="module")
def proxy(upstream: LiveServer) -> Iterator[LiveServer]:
    with serve(proxy_app(upstream.base_url, read_timeout=0.3)) as live:
        yield live


def test_upstream_401_passes_through(tmp_path_factory: pytest.TempPathFactory) -> None:
    locked = upstream_app(tmp_path_factory.mktemp("locked"), api_keys=[UPSTREAM_KEY])
    with (
        serve(locked) as upstream,
        serve(proxy_app(upstream.base_url, api_key="sk-wrong-key-99999999")) as proxy,
    ):
        direct = httpx.post(
            upstream.base_url + "/chat/completions",
            json={"model": "gpt-4o", "messages": user("hi")},
            headers={"authorization": "Bearer sk-wrong-key-99999999"},
        )
        proxied = post_chat(proxy, "hi")
        with (
            openai.OpenAI(base_url=proxy.base_url, api_key="x", max_retries=0) as sdk,
            pytest.raises(openai.AuthenticationError),
        ):
            sdk.chat.completions.create(model="gpt-4o", messages=user("hi"))  # type: ignore[arg-type]
    assert proxied.status_code == direct.status_code == 401
    assert proxied.content == direct.content
    assert proxied.json()["error"]["code"] == "invalid_api_key"


def test_upstream_4xx_body_passes_through(proxy: LiveServer) -> None:
    response = post_chat(proxy, "forbidden")
    assert response.status_code == 403
    assert response.json()["error"] == {
        "message": "You may not.",
        "type": "invalid_request_error",
        "param": None,
        "code": "forbidden_here",
    }


def test_upstream_429_with_retry_after_ms_and_the_sdk_retries(
    proxy: LiveServer, captured: list[Exchange]
) -> None:
    before = len(chat_posts(captured))
    with openai.OpenAI(base_url=proxy.base_url, api_key="sk-retrying", max_retries=2) as sdk:
        started = time.perf_counter()
        reply = sdk.chat.completions.with_raw_response.create(model="gpt-4o", messages=user("flaky"))  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
    assert reply.parse().choices[0].message.content == "Worked on the second try."
    assert reply.retries_taken == 1
    assert elapsed < 0.375  # the SDK waited the 10 ms retry-after-ms, not its own backoff
    attempts = chat_posts(captured)[before:]
    assert [a.status for a in attempts] == [429, 200]
    assert attempts[0].response_headers["retry-after-ms"] == "10"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_is_502() -> None:
    with serve(proxy_app(f"http://127.0.0.1:{closed_port()}/v1")) as proxy:
        started = time.perf_counter()
        plain, streamed = post_chat(proxy, "anyone?"), post_chat(proxy, "anyone?", stream=True)
        assert time.perf_counter() - started < 2
    for response in (plain, streamed):
        assert response.status_code == 502
        assert response.json()["error"]["code"] == "upstream_unreachable"
        assert response.json()["error"]["type"] == "server_error"


@contextlib.contextmanager
def unaccepting_port() -> Iterator[int]:
    """A listening socket whose accept queue is full, so new connections are never established: with
    `listen(0)` and connections nobody accepts, Linux drops further SYNs and the client's connect
    times out."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = int(server.getsockname()[1])
    fillers = []
    try:
        for _ in range(8):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        yield port
    finally:
        for filler in fillers:
            filler.close()
        server.close()


def test_connect_timeout_is_504() -> None:
    with (
        unaccepting_port() as port,
        serve(proxy_app(f"http://127.0.0.1:{port}/v1", connect_timeout=0.3)) as proxy,
    ):
        started = time.perf_counter()
        response = post_chat(proxy, "hello?")
        elapsed = time.perf_counter() - started
    assert response.status_code == 504, response.text
    assert response.json()["error"]["code"] == "upstream_timeout"
    assert "connecting to" in response.json()["error"]["message"]
    assert 0.3 <= elapsed < 1.5


def test_read_timeout_is_504_before_the_first_byte(proxy: LiveServer) -> None:
    for stream in (False, True):
        started = time.perf_counter()
        response = post_chat(proxy, "slow", stream=stream)
        elapsed = time.perf_counter() - started
        assert response.status_code == 504, response.text
        assert response.json()["error"]["code"] == "upstream_timeout"
        assert 0.3 <= elapsed < 0.75


def test_stream_dropped_midway_ends_with_an_error_frame_and_done(proxy: LiveServer) -> None:
    response = post_chat(proxy, "drop", stream=True)
    assert response.status_code == 200
    assert response.text.endswith("\n\ndata: [DONE]\n\n")
    payloads = sse.data(response.text)
    assert payloads[-1] == "[DONE]"
    assert '"code":"upstream_disconnected"' in payloads[-2]
    received: list[str] = []

    def read_all(sdk: openai.OpenAI) -> None:
        for chunk in sdk.chat.completions.create(model="gpt-4o", messages=user("drop"), stream=True):  # type: ignore[arg-type]
            received.extend([chunk.choices[0].delta.content or ""] if chunk.choices else [])

    with (
        openai.OpenAI(base_url=proxy.base_url, api_key="sk-drop", max_retries=0) as sdk,
        pytest.raises(openai.APIError) as caught,
    ):
        read_all(sdk)
    assert "".join(received) == "one two"
    assert not isinstance(caught.value, openai.APIConnectionError)
    assert "broke off the stream" in caught.value.message


def test_non_stream_dropped_is_502(proxy: LiveServer) -> None:
    response = post_chat(proxy, "drop")
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_unreachable"
