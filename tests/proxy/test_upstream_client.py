"""The proxy's own HTTP/1.1 client (backends/http1/, backends/upstream.py) against another chatdouble
on loopback: requests in turn share one keep-alive connection; a connection the upstream closed
while it sat idle is replaced without the request failing or going twice; chunked bodies arrive
byte for byte; a stream that stalls past `read_timeout` ends with an error frame; a client that
leaves closes the upstream request with it; https works against a certificate made here."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from pathlib import Path

import httpx
import orjson
import pytest

from backends.base import BackendError, ForwardCall, Frames, Payload, Together
from backends.proxy_config import ProxyConfig
from backends.upstream import UpstreamClient
from tests.servers import LiveServer, serve
from tests.support import sse
from tests.support.proxies import Exchange, chat_posts, proxy_app, upstream_app
from tests.support.requests import post_chat, user


def client_for(base_url: str, tls: ssl.SSLContext | None = None, **options: float) -> UpstreamClient:
    return UpstreamClient(ProxyConfig(type="proxy", base_url=base_url, **options), api_key=None, tls=tls)


def call(text: str, *, stream: bool = False) -> ForwardCall:
    body = {"model": "gpt-4o", "messages": user(text), "stream": stream}
    return ForwardCall(orjson.dumps(body), body, {})


async def reply(client: UpstreamClient, text: str) -> str:
    answer = await client.post(call(text))
    assert answer.status == 200, answer.body
    content: str = json.loads(answer.body)["choices"][0]["message"]["content"]
    return content


async def streamed(client: UpstreamClient, text: str) -> list[Payload]:
    """The stream's payloads, one by one (those that came together too)."""
    answer = await client.post(call(text, stream=True))
    assert answer.status == 200
    assert answer.chunks is not None
    out: list[Payload] = []
    async for payload in answer.chunks:
        out.extend(payload.payloads if isinstance(payload, Together | Frames) else [payload])
    return out


async def test_requests_in_turn_share_one_keep_alive_connection(
    upstream: LiveServer, captured: list[Exchange]
) -> None:
    client = client_for(upstream.base_url)
    before = len(chat_posts(captured))
    try:
        assert await reply(client, "one") == "one"
        assert len(await streamed(client, "two three four")) > 3
        assert await reply(client, "five") == "five"
    finally:
        await client.aclose()
    posts = chat_posts(captured)[before:]
    assert len(posts) == 3
    assert len({post.client for post in posts}) == 1  # one client port: one connection


def close_its_connections(live: LiveServer) -> None:
    """The upstream closes every connection it holds, as its keep-alive timeout would, and this
    returns once their sockets are closed. It blocks: the caller's event loop reads nothing meanwhile."""
    assert live.server is not None
    connections = list(live.server.server_state.connections)
    assert connections
    loop = connections[0].loop
    closed = threading.Event()

    def close() -> None:
        for connection in connections:
            connection.transport.close()
        loop.call_soon(closed.set)  # after the close callbacks the transports queued

    loop.call_soon_threadsafe(close)
    assert closed.wait(5)


async def test_a_connection_closed_by_the_upstream_while_idle_is_replaced(tmp_path: Path) -> None:
    log: list[Exchange] = []
    with serve(upstream_app(tmp_path, log)) as upstream:
        client = client_for(upstream.base_url)
        try:
            assert await reply(client, "first") == "first"
            # Closed while idle, and this client has not read the close yet: the next request is
            # written to the dead connection, which ends without an answer, and goes again on a new one.
            close_its_connections(upstream)
            assert await reply(client, "second") == "second"
            assert await reply(client, "third") == "third"
        finally:
            await client.aclose()
    posts = chat_posts(log)
    assert [json.loads(post.body)["messages"][0]["content"] for post in posts] == ["first", "second", "third"]
    assert posts[0].client != posts[1].client == posts[2].client


async def test_a_chunked_body_arrives_byte_for_byte(upstream: LiveServer, captured: list[Exchange]) -> None:
    client = client_for(upstream.base_url)
    try:
        body = orjson.dumps({"model": "gpt-4o", "messages": user("a story"), "stream": True})  # paced
        headers = client.headers({}, "text/event-stream")
        answer = await client.pool.request(client.message(b"POST", "chat/completions", headers, body))
        assert answer.header(b"transfer-encoding") == b"chunked"
        received = await answer.read()
        again = await reply(client, "and the connection is reused")
    finally:
        await client.aclose()
    sent = chat_posts(captured)[-2]
    assert len(sent.parts) > 1  # more than one chunk
    assert received == sent.response
    assert again == "and the connection is reused"
    assert chat_posts(captured)[-1].client == sent.client


def test_a_stream_that_stalls_past_read_timeout_ends_with_an_error_frame(
    upstream: LiveServer, captured: list[Exchange]
) -> None:
    with serve(proxy_app(upstream.base_url, read_timeout=0.1)) as proxy:
        response = post_chat(proxy, "paced", stream=True)  # a chunk every 0.3 s
    assert response.status_code == 200
    payloads = sse.data(response.text)
    assert payloads[-1] == "[DONE]"
    error = json.loads(payloads[-2])["error"]
    assert error["code"] == "upstream_disconnected"
    assert error["type"] == "server_error"
    assert "no data for 0.1 s" in error["message"]
    assert chat_posts(captured)[-1].gone.wait(5)  # the proxy hung up on the upstream


def test_a_client_leaving_mid_stream_ends_the_upstream_request(
    upstream: LiveServer, captured: list[Exchange]
) -> None:
    request = {"model": "gpt-4o", "messages": user("paced"), "stream": True}
    with serve(proxy_app(upstream.base_url)) as proxy, httpx.Client(timeout=10) as http:
        with http.stream("POST", proxy.base_url + "/chat/completions", json=request) as response:
            first = next(response.iter_bytes())
            assert first.startswith(b"data: ")
        # The response is closed with its connection, the stream unread.
        assert chat_posts(captured)[-1].gone.wait(5)


def test_a_client_leaving_before_the_answer_ends_the_upstream_request(
    upstream: LiveServer, captured: list[Exchange]
) -> None:
    with serve(proxy_app(upstream.base_url)) as proxy, pytest.raises(httpx.ReadTimeout):
        httpx.post(
            proxy.base_url + "/chat/completions",
            json={"model": "gpt-4o", "messages": user("slow")},  # answered after 0.8 s
            timeout=httpx.Timeout(5, read=0.2),
        )
    assert chat_posts(captured)[-1].gone.wait(5)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, made by the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed")
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    names = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    files = ["-keyout", str(key), "-out", str(cert)]
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", *names, *files],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_an_https_upstream_answers_over_one_verified_connection(
    tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    log: list[Exchange] = []
    with serve(upstream_app(tmp_path, log), ssl_certfile=str(cert), ssl_keyfile=str(key)) as upstream:
        assert upstream.base_url.startswith("https://")
        client = client_for(upstream.base_url, tls=ssl.create_default_context(cafile=str(cert)))
        try:
            assert await reply(client, "over tls") == "over tls"
            payloads = await streamed(client, "streamed over tls")
            assert await reply(client, "again") == "again"
        finally:
            await client.aclose()
    assert b"".join(p for p in payloads if isinstance(p, bytes)).count(b"chat.completion.chunk") > 3
    assert len({post.client for post in chat_posts(log)}) == 1


async def test_an_https_upstream_whose_certificate_is_not_trusted_is_a_502(
    tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    with serve(upstream_app(tmp_path), ssl_certfile=str(cert), ssl_keyfile=str(key)) as upstream:
        client = client_for(upstream.base_url)  # the default authorities, which never signed it
        try:
            with pytest.raises(BackendError) as caught:
                await client.post(call("hello"))
        finally:
            await client.aclose()
    envelope = caught.value.envelope()["error"]
    assert caught.value.status == 502
    assert envelope["code"] == "upstream_unreachable"
    assert "SSLCertVerificationError" in envelope["message"]
