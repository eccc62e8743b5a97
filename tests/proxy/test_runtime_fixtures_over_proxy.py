"""Runtime fixtures on a proxy route that forwards (docs/admin.md#runtime-fixtures).

Proven, through a real loopback upstream (another chatdouble, captured byte for byte): on a
passthrough route a runtime fixture answers the chat, Responses, legacy completions and embeddings
requests it matches, and the upstream never sees them; every other request of the namespace is
forwarded and answered with the upstream's exact bytes, streamed or not, as without fixtures. Asking
whether a fixture matches uses up no sequence step, and a used-up fixture lets the request through
to the upstream. A Responses request continuing an upstream response, a body this server cannot read
and a legacy completion whose prompts are not all matched are forwarded. In record mode
the forwarded request is recorded and the fixture-answered one is not.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backends.fixtures import load
from tests.servers import LiveServer, serve
from tests.support import sse
from tests.support.proxies import Exchange, content_of, proxy_app, upstream_app
from tests.support.requests import user

HEADERS = {"Authorization": "Bearer sk-client", "X-Chatdouble-Session": "over-proxy"}
HELLO = {"match": {"last_user": {"contains": "hello"}}, "response": {"text": "Hi from a runtime fixture"}}
VECTOR = [0.5, -0.5, 0.25]
PINNED = {"match": {"last_user": {"contains": "hello"}}, "response": {"embedding": VECTOR}}

# Per endpoint: its path, a body the fixture matches and one it does not, and how to read the text.
CHAT = ("/chat/completions", lambda text: {"model": "gpt-4o", "messages": user(text)})
RESPONSES = ("/responses", lambda text: {"model": "gpt-4o", "input": text})
LEGACY = ("/completions", lambda text: {"model": "gpt-3.5-turbo-instruct", "prompt": text})


@pytest.fixture
def captured() -> list[Exchange]:
    return []


@pytest.fixture
def upstream(tmp_path: Path, captured: list[Exchange]) -> Iterator[LiveServer]:
    with serve(upstream_app(tmp_path, captured)) as live:
        yield live


@pytest.fixture
def proxy(upstream: LiveServer) -> Iterator[LiveServer]:
    with serve(proxy_app(upstream.base_url, mode="passthrough")) as live:
        yield live


def add(server: LiveServer, fixture: dict[str, Any]) -> None:
    response = httpx.post(server.url + "/_chatdouble/fixtures", json=fixture, headers=HEADERS)
    assert response.status_code == 200, response.text


def post(server: LiveServer, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(server.base_url + path, json=body, headers=HEADERS)


def posts(captured: list[Exchange], path: str) -> list[Exchange]:
    return [e for e in captured if e.method == "POST" and e.path == "/v1" + path]


def said(path: str, response: httpx.Response) -> str:
    """The reply's text, whole or streamed, on any of the three text endpoints."""
    if path == "/chat/completions":
        return content_of(response.content)
    streamed = response.headers["content-type"].startswith("text/event-stream")
    if path == "/completions":
        choices = (
            [c["choices"][0] for c in sse.chunks(response.text)] if streamed else response.json()["choices"]
        )
        return "".join(choice["text"] for choice in choices)
    if streamed:
        (done,) = [e for e in sse.chunks(response.text) if e["type"] == "response.completed"]
        return str(done["response"]["output"][0]["content"][0]["text"])
    return str(response.json()["output"][0]["content"][0]["text"])


@pytest.mark.parametrize("endpoint", [CHAT, RESPONSES, LEGACY], ids=["chat", "responses", "completions"])
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_a_match_is_answered_here_and_the_rest_is_forwarded_byte_for_byte(
    proxy: LiveServer, captured: list[Exchange], endpoint: Any, stream: bool
) -> None:
    path, body = endpoint
    add(proxy, HELLO)
    extra = {"stream": True} if stream else {}
    matched = post(proxy, path, {**body("hello there"), **extra})
    assert matched.status_code == 200, matched.text
    assert said(path, matched) == "Hi from a runtime fixture"
    assert posts(captured, path) == []  # the upstream never saw it

    other = post(proxy, path, {**body("something else"), **extra})
    assert other.status_code == 200, other.text
    (forwarded,) = posts(captured, path)
    assert forwarded.body == other.request.content
    assert other.content == forwarded.response  # the upstream's answer, byte for byte
    assert said(path, other) == "something else"  # the upstream echoes


def test_embeddings_a_match_is_answered_here_and_the_rest_is_forwarded(
    proxy: LiveServer, captured: list[Exchange]
) -> None:
    add(proxy, PINNED)
    body = {"model": "text-embedding-3-small", "dimensions": 3}
    matched = post(proxy, "/embeddings", {**body, "input": "hello"})
    assert matched.json()["data"][0]["embedding"] == VECTOR
    assert posts(captured, "/embeddings") == []
    other = post(proxy, "/embeddings", {**body, "input": "something else"})
    (forwarded,) = posts(captured, "/embeddings")
    assert other.status_code == 200
    assert other.content == forwarded.response
    assert other.json()["data"][0]["embedding"] != VECTOR


def test_asking_uses_up_no_step_and_a_used_up_fixture_lets_requests_through(
    proxy: LiveServer, captured: list[Exchange]
) -> None:
    add(
        proxy, {"match": {"last_user": {"contains": "hello"}}, "sequence": [{"text": "one"}, {"text": "two"}]}
    )
    path, body = CHAT
    answers = [said(path, post(proxy, path, body("hello"))) for _ in range(3)]
    assert answers == ["one", "two", "hello"]  # the third is the upstream's echo
    assert len(posts(captured, path)) == 1


def test_a_responses_request_continuing_an_upstream_response_is_forwarded(
    proxy: LiveServer, captured: list[Exchange]
) -> None:
    add(proxy, HELLO)
    first = post(proxy, "/responses", {"model": "gpt-4o", "input": "remember this"})
    follow = post(
        proxy,
        "/responses",
        {"model": "gpt-4o", "input": "and this", "previous_response_id": first.json()["id"]},
    )
    assert follow.status_code == 200, follow.text
    assert follow.content == posts(captured, "/responses")[-1].response
    assert len(posts(captured, "/responses")) == 2


def test_the_journal_says_who_answered(proxy: LiveServer) -> None:
    add(proxy, HELLO)
    path, body = CHAT
    post(proxy, path, body("hello"))
    post(proxy, path, body("something else"))
    entries = httpx.get(proxy.url + "/_chatdouble/requests", headers=HEADERS).json()["data"]
    assert [e["answered_by"]["kind"] for e in entries] == ["runtime_fixture", "proxy"]
    assert [e["status"] for e in entries] == [200, 200]


def test_record_mode_records_the_forwarded_request_and_not_the_fixture_answered_one(
    tmp_path: Path, upstream: LiveServer, captured: list[Exchange]
) -> None:
    cassettes = tmp_path / "cassettes"
    with serve(proxy_app(upstream.base_url, mode="record", cassettes=str(cassettes))) as proxy:
        add(proxy, HELLO)
        path, body = CHAT
        matched = post(proxy, path, {**body("hello"), "stream": True})
        other = post(proxy, path, {**body("something else"), "stream": True})
    assert content_of(matched.content) == "Hi from a runtime fixture"
    assert other.content == posts(captured, path)[-1].response
    (recording,) = load([str(cassettes)])
    assert recording.fixture.match.request is not None
    assert recording.fixture.match.request["messages"] == user("something else")


def test_a_body_this_server_cannot_read_is_left_to_the_upstream(
    proxy: LiveServer, captured: list[Exchange]
) -> None:
    add(proxy, HELLO)
    refused = post(proxy, "/chat/completions", {"model": "gpt-4o", "messages": "hello"})
    (forwarded,) = posts(captured, "/chat/completions")
    assert refused.status_code == forwarded.status == 400
    assert refused.content == forwarded.response


def test_a_completion_is_answered_here_only_when_every_prompt_matches(
    proxy: LiveServer, captured: list[Exchange]
) -> None:
    add(proxy, HELLO)
    both = post(proxy, "/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": ["hello", "hello you"]})
    assert [c["text"] for c in both.json()["choices"]] == ["Hi from a runtime fixture"] * 2
    assert posts(captured, "/completions") == []
    mixed = post(proxy, "/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": ["hello", "other"]})
    (forwarded,) = posts(captured, "/completions")
    assert mixed.content == forwarded.response
    assert [c["text"] for c in mixed.json()["choices"]] == ["hello", "other"]
