"""Chaos: seeded faults per route, with the real API's bodies and headers; the SDK retries through
them; a drop and a timeout are seen by a real client on a real server; a stream error is the
dialect's in-stream error; and the admin routes switch chaos on and off at runtime, per namespace.

Holds are bounded by `chaos_timeout_seconds`, and no test asserts on time."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import openai
import pytest
from fastapi import FastAPI

from server.app import create_app
from server.config import ConfigError, load_settings
from tests.servers import serve
from tests.support import sse
from tests.support.requests import chat_body, in_process

CHAOS = "/_chatdouble/chaos"


def chaos_app(
    chaos: dict[str, Any] | None = None, route: dict[str, Any] | None = None, **settings: Any
) -> FastAPI:
    routes = [{"model": "gpt-4o-mini", "backend": "echo", **(route or {})}, {"model": "*", "backend": "echo"}]
    overrides: dict[str, Any] = {"routes": routes, "chaos": chaos, **settings}
    return create_app(load_settings(env={}, overrides=overrides))


async def statuses(app: FastAPI, model: str = "gpt-4o", count: int = 40, **headers: str) -> list[int]:
    async with in_process(app, headers) as http:
        return [
            (await http.post("/v1/chat/completions", json=chat_body(model=model))).status_code
            for _ in range(count)
        ]


async def test_seeded_chaos_strikes_the_same_requests_in_every_run() -> None:
    chaos = {"errors": {429: 0.2, 500: 0.1, 503: 0.1}, "seed": 11}
    first, second = await statuses(chaos_app(chaos)), await statuses(chaos_app(chaos))
    assert first == second
    counts = Counter(first)
    assert set(counts) == {200, 429, 500, 503}
    other = await statuses(chaos_app({**chaos, "seed": 12}))
    assert other != first


async def test_a_route_of_its_own_keeps_its_own_chaos() -> None:
    app = chaos_app({"errors": {500: 1}}, route={"chaos": {"errors": {503: 1}}})
    assert set(await statuses(app, "gpt-4o", 3)) == {500}
    assert set(await statuses(app, "gpt-4o-mini", 3)) == {503}
    quiet = chaos_app(None, route={"chaos": {"errors": {503: 1}}})
    assert set(await statuses(quiet, "gpt-4o", 3)) == {200}


async def test_errors_carry_the_api_bodies_and_headers() -> None:
    app = chaos_app({"errors": {429: 1}, "retry_after_ms": 1500})
    async with in_process(app) as http:
        limited = await http.post("/v1/chat/completions", json=chat_body())
    assert limited.status_code == 429
    assert limited.json()["error"] == {
        "message": "Rate limit reached for gpt-4o in organization org-chatdouble on requests per min (RPM): "
        "Limit 60, Used 60, Requested 1. Please try again in 1.5s. "
        "Visit https://platform.openai.com/account/rate-limits to learn more.",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    assert limited.headers["retry-after-ms"] == "1500"
    assert limited.headers["retry-after"] == "2"
    assert limited.headers["x-ratelimit-remaining-requests"] == "0"
    assert limited.headers["x-ratelimit-reset-requests"] == "1.5s"
    async with in_process(chaos_app({"errors": {503: 1}})) as http:
        overloaded = await http.post("/v1/responses", json={"model": "gpt-4o", "input": "hi", "stream": True})
    assert overloaded.status_code == 503
    error = overloaded.json()["error"]
    assert error["type"] == "server_error"
    assert error["message"].startswith("That model is currently overloaded with other requests.")
    assert overloaded.headers["x-request-id"] in error["message"]
    async with in_process(chaos_app({"errors": {500: 1}})) as http:
        failed = await http.post("/v1/completions", json={"model": "gpt-3.5-turbo-instruct", "prompt": "hi"})
    assert failed.status_code == 500
    assert (
        failed.json()["error"]["message"]
        == "The server had an error while processing your request. Sorry about that!"
    )


def test_the_sdk_retries_through_chaos_and_its_backoff_reads_the_headers() -> None:
    # Seed 0 fails the first two requests of namespace `sk-x` with a 429, then lets one through.
    app = chaos_app({"errors": {429: 0.6}, "seed": 0, "retry_after_ms": 5})
    with serve(app) as server:
        seen: list[int] = []
        http = httpx.Client(event_hooks={"response": [lambda r: seen.append(r.status_code)]})
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-x", max_retries=3, http_client=http)
        reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        assert reply.choices[0].message.content == "hi"
        assert seen == [429, 429, 200]
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-y", max_retries=0, http_client=http)
        seen.clear()
        for _ in range(10):
            try:
                client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
            except openai.RateLimitError:
                break
        assert seen[-1] == 429  # without retries the SDK raises at the first
        assert len(seen) == seen.count(200) + 1


async def test_a_stream_error_is_the_dialects_in_stream_error() -> None:
    app = chaos_app({"stream_error": 1, "after_chunks": 2})
    async with in_process(app) as http:
        chat = await http.post("/v1/chat/completions", json=chat_body("one two three four", stream=True))
        responses = await http.post(
            "/v1/responses", json={"model": "gpt-4o", "input": "one two three", "stream": True}
        )
        whole = await http.post("/v1/chat/completions", json=chat_body("one two three four"))
    assert chat.status_code == 200
    frames = sse.data(chat.content)
    assert frames[-1] == "[DONE]"
    assert '"type":"server_error"' in frames[-2]
    pieces = [c for c in sse.chunks(chat.content[: chat.content.index(b'{"error"') - 6]) if c["choices"]]
    assert [c["choices"][0]["delta"].get("content") for c in pieces] == ["", "one", " two"]
    kinds = [frame.event for frame in sse.frames(responses.content)]
    assert kinds[-2:] == ["error", "response.failed"]
    assert whole.status_code == 500


@pytest.mark.parametrize("stream", [True, False])
def test_a_dropped_connection_is_seen_by_a_real_client(stream: bool) -> None:
    app = chaos_app({"drop": 1, "after_chunks": 1})
    body = chat_body("a b c", stream=stream)
    with serve(app) as server, httpx.Client() as http, pytest.raises(httpx.RemoteProtocolError):
        http.post(server.url + "/v1/chat/completions", json=body).read()


def test_a_timeout_holds_until_the_client_gives_up_and_its_bound_ends_it() -> None:
    hold = chaos_app({"timeout": 1}, chaos_timeout_seconds=2)
    with serve(hold) as server, httpx.Client() as http, pytest.raises(httpx.ReadTimeout):
        http.post(server.url + "/v1/chat/completions", json=chat_body(), timeout=0.2)
    # With a bound of 0 the hold is over at once, and the server hangs up without an answer.
    bounded = chaos_app({"timeout": 1}, chaos_timeout_seconds=0)
    with serve(bounded) as server, httpx.Client() as http, pytest.raises(httpx.RemoteProtocolError):
        http.post(server.url + "/v1/chat/completions", json=chat_body(), timeout=30)


@pytest.mark.parametrize(
    ("chaos", "message"),
    [
        ({"errors": {418: 0.5}}, "chaos.errors[418]: chaos errors are 429, 500, 503, not 418"),
        ({"drop": 1.5}, "chaos.drop: Input should be less than or equal to 1"),
        ({"drop": 0.6, "timeout": 0.6}, "chaos: the probabilities add up to 1.2; at most 1"),
        ({"after_chunks": -1}, "chaos.after_chunks: Input should be greater than or equal to 0"),
        ({"dorp": 0.1}, "chaos.dorp: Extra inputs are not permitted"),
    ],
)
def test_bad_chaos_is_a_config_error_naming_the_field(chaos: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env={}, overrides={"chaos": chaos})
    assert message in str(caught.value)


# ------------------------------------------------------------ switched at runtime


async def test_chaos_is_switched_on_and_off_through_the_admin_routes() -> None:
    app = chaos_app()
    async with in_process(app, {"authorization": "Bearer sk-a"}) as http:
        assert (await http.get(CHAOS)).json() == {
            "object": "chatdouble.chaos",
            "all": False,
            "chaos": None,
            "routes": [],
        }
        assert app.state.runtime.chaos is None  # nothing on the request path
        put = await http.put(
            CHAOS, json={"routes": [{"model": "gpt-4o-mini", "chaos": {"errors": {"503": 1}}}]}
        )
        assert put.status_code == 200
        assert put.json()["routes"][0]["chaos"]["errors"] == {"503": 1.0}
        assert (await http.get(CHAOS)).json() == put.json()
        assert set(await statuses(app, "gpt-4o-mini", 3, authorization="Bearer sk-a")) == {503}
        assert set(await statuses(app, "gpt-4o", 3, authorization="Bearer sk-a")) == {200}
        # Another namespace (another key, or a session of the same key) is not touched.
        assert set(await statuses(app, "gpt-4o-mini", 3, authorization="Bearer sk-b")) == {200}
        session = {"authorization": "Bearer sk-a", "x-chatdouble-session": "t1"}
        assert set(await statuses(app, "gpt-4o-mini", 3, **session)) == {200}
        deleted = await http.delete(CHAOS)
        assert deleted.json()["routes"] == []
        assert set(await statuses(app, "gpt-4o-mini", 3, authorization="Bearer sk-a")) == {200}
        assert app.state.runtime.chaos is None


async def test_turning_chaos_off_for_a_namespace_wins_over_the_config() -> None:
    app = chaos_app({"errors": {500: 1}})
    async with in_process(app, {"x-chatdouble-session": "quiet"}) as http:
        await http.delete(CHAOS)
    assert set(await statuses(app, count=2, **{"x-chatdouble-session": "quiet"})) == {200}
    assert set(await statuses(app, count=2)) == {500}


async def test_chaos_for_all_namespaces_needs_the_admin_token() -> None:
    app = chaos_app(api_keys=["sk-a"], admin_token="admin")
    async with in_process(app, {"authorization": "Bearer sk-a"}) as http:
        refused = await http.put(CHAOS, json={"all": True, "chaos": {"errors": {500: 1}}})
        assert refused.status_code == 401
        assert "admin token" in refused.json()["error"]["message"]
        assert (await http.put(CHAOS, json={"key": "sk-other", "chaos": {"drop": 1}})).status_code == 401
    async with in_process(app, {"authorization": "Bearer admin"}) as http:
        assert (await http.put(CHAOS, json={"all": True, "chaos": {"errors": {500: 1}}})).status_code == 200
    assert set(await statuses(app, count=2, authorization="Bearer sk-a")) == {500}
    async with in_process(app, {"authorization": "Bearer admin"}) as http:
        assert (await http.get(CHAOS, params={"all": "true"})).json()["chaos"]["errors"] == {"500": 1.0}
        assert (await http.request("DELETE", CHAOS, json={"all": True})).status_code == 200
    assert set(await statuses(app, count=2, authorization="Bearer sk-a")) == {200}
    async with in_process(app) as http:
        assert (await http.get(CHAOS)).status_code == 401  # no key at all


async def test_a_bad_chaos_body_is_a_400_naming_the_field() -> None:
    async with in_process(chaos_app()) as http:
        bad = await http.put(CHAOS, json={"chaos": {"errors": {"429": 2}}})
        assert bad.status_code == 400
        assert bad.json()["error"]["param"] == "chaos.errors.429"
        assert (await http.put(CHAOS, content=b"[1]")).status_code == 400
        assert (await http.put(CHAOS, json={"all": False})).status_code == 400
