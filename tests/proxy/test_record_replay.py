"""Record once, replay offline: recordings made through a real upstream replay with the upstream
stopped, with the same content, tool calls (ids included) and chunking, at the recorded timing times
the factor; secrets never reach a recorded byte; concurrent recordings lose nothing; `auto` records
only misses; a miss in `replay` says how to record it."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml

from backends.fixtures import load
from backends.request_key import normalize, request_key
from tests.servers import serve
from tests.support import sse
from tests.support.fixture_apps import WEATHER_TOOL
from tests.support.proxies import Exchange, chat_posts, content_of, proxy_app, upstream_app
from tests.support.requests import user

DEAD_UPSTREAM = "http://127.0.0.1:9/v1"  # replay never connects


def converse(base_url: str, key: str = "sk-replay-test") -> list[Any]:
    """A fixed script through the SDK: what each answer said, chunk by chunk for streams (ids aside)."""
    said: list[Any] = []
    with openai.OpenAI(base_url=base_url, api_key=key, max_retries=0) as sdk:

        def stream(**request: Any) -> list[dict[str, Any]]:
            chunks = sdk.chat.completions.create(model="gpt-4o", stream=True, **request)
            return [c.choices[0].model_dump(exclude_unset=True) for c in chunks if c.choices]

        said.append(stream(messages=user("tell me a story")))
        said.append(sdk.chat.completions.create(model="gpt-4o", messages=user("an echo, please")).choices[0])  # type: ignore[arg-type]
        # A two-turn tool loop: the second request holds the first answer's call id.
        ask = user("What is the weather in Paris?")
        turn = stream(messages=ask, tools=[WEATHER_TOOL])
        said.append(turn)
        call = turn[0]["delta"]["tool_calls"][0]
        messages = [
            *ask,
            {"role": "assistant", "content": None, "tool_calls": [{**call, "function": call["function"]}]},
            {"role": "tool", "tool_call_id": call["id"], "content": "sunny"},
        ]
        messages[1]["tool_calls"][0].pop("index")
        messages[1]["tool_calls"][0]["function"]["arguments"] = "".join(
            c["delta"]["tool_calls"][0]["function"]["arguments"] for c in turn if c["delta"].get("tool_calls")
        )
        said.append(stream(messages=messages, tools=[WEATHER_TOOL]))
    return [s if isinstance(s, list) else s.model_dump(exclude_unset=True) for s in said]


def test_record_then_replay_with_the_upstream_stopped(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    log: list[Exchange] = []
    with (
        serve(upstream_app(tmp_path, log)) as upstream,
        serve(proxy_app(upstream.base_url, mode="record", cassettes=str(cassettes))) as proxy,
    ):
        recorded = converse(proxy.base_url)
    assert len(chat_posts(log)) == 4
    assert len(list(cassettes.glob("*.yaml"))) == 4
    with serve(
        proxy_app(upstream.base_url, mode="replay", cassettes=str(cassettes), timing_factor=0)
    ) as proxy:
        replayed = converse(proxy.base_url)
    assert len(chat_posts(log)) == 4  # nothing reached the (stopped) upstream
    assert replayed == recorded
    assert [c["delta"].get("content") for c in recorded[0]][1:6] == ["Once", " upon", " a", " time", "."]
    assert recorded[2][0]["delta"]["tool_calls"][0]["id"].startswith("call_")


def stream_seconds(base_url: str) -> float:
    with openai.OpenAI(base_url=base_url, api_key="sk-timing", max_retries=0) as sdk:
        started = time.perf_counter()
        list(sdk.chat.completions.create(model="gpt-4o", messages=user("tell me a story"), stream=True))  # type: ignore[arg-type]
        return time.perf_counter() - started


def test_replay_timing_is_scaled_by_the_factor(tmp_path: Path) -> None:
    cassettes = str(tmp_path / "cassettes")
    with (
        serve(upstream_app(tmp_path)) as upstream,
        serve(proxy_app(upstream.base_url, mode="record", cassettes=cassettes)) as proxy,
    ):
        original = stream_seconds(proxy.base_url)  # ttft 0.3 s, then 4 chunks 0.1 s apart
    timings = {}
    for factor in (1.0, 0.0):
        with serve(
            proxy_app(DEAD_UPSTREAM, mode="replay", cassettes=cassettes, timing_factor=factor)
        ) as proxy:
            timings[factor] = stream_seconds(proxy.base_url)
    # Lower bounds are what the pacing guarantees; upper bounds only leave a loaded machine room.
    assert 0.7 <= original < 1.5
    assert original - 0.1 <= timings[1.0] < original + 0.5
    assert timings[0.0] < 0.5


SECRET_UPSTREAM = "sk-upstream-9d8c7b6a5f4e3d2c1b0a"
SECRET_CLIENT = "client-token-Zq8Wm2Lk5Rt7"  # not key-shaped: only its literal value can find it
SCRUBBED_PATTERN = r"ACCT-\d{6}"


def test_secrets_never_reach_a_recorded_byte(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    cassettes, journal = tmp_path / "cassettes", tmp_path / "journal.jsonl"
    prompt = f"account ACCT-123456, my token {SECRET_CLIENT}, the upstream's {SECRET_UPSTREAM}"
    options = {"api_key": SECRET_UPSTREAM, "cassettes": str(cassettes), "scrub": [SCRUBBED_PATTERN]}
    settings = {"journal": str(journal)}
    body = {"model": "gpt-4o", "messages": user(prompt)}
    headers = {"authorization": f"Bearer {SECRET_CLIENT}"}
    upstream_settings = {"api_keys": [SECRET_UPSTREAM]}
    with (
        serve(upstream_app(tmp_path, **upstream_settings)) as upstream,
        serve(proxy_app(upstream.base_url, mode="record", settings=settings, **options)) as proxy,
    ):
        for stream in (False, True):
            response = httpx.post(
                proxy.base_url + "/chat/completions", json={**body, "stream": stream}, headers=headers
            )
            assert content_of(response.content) == prompt  # the echo says it all
    files = list(cassettes.iterdir())
    assert len(files) == 1  # stream is a volatile field: one recording answers both
    everything = b"".join(f.read_bytes() for f in [*files, journal])
    for secret in (SECRET_UPSTREAM, SECRET_CLIENT, "ACCT-123456"):
        assert secret.encode() not in everything
        assert secret not in caplog.text.replace(prompt, "")  # only the echo of the prompt may log it
    assert b"<scrubbed>" in files[0].read_bytes()
    # Streamed, a secret arrives split over chunks: no chunk holds it, but their join must not either.
    (item,) = load([str(cassettes)])
    assert item.fixture.response is not None
    said = "".join(item.fixture.response.chunks or [])
    assert said == "account <scrubbed>, my token <scrubbed>, the upstream's <scrubbed>"
    # The same request, scrubbed the same way, finds its recording offline.
    with serve(proxy_app(DEAD_UPSTREAM, mode="replay", **options)) as proxy:
        replayed = httpx.post(proxy.base_url + "/chat/completions", json=body, headers=headers)
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["choices"][0]["message"]["content"] == (
        "account <scrubbed>, my token <scrubbed>, the upstream's <scrubbed>"
    )


async def test_concurrent_recordings_of_different_requests_lose_none(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    with (
        serve(upstream_app(tmp_path)) as upstream,
        serve(proxy_app(upstream.base_url, mode="record", cassettes=str(cassettes))) as proxy,
    ):
        async with httpx.AsyncClient(base_url=proxy.base_url, timeout=30) as http:
            responses = await asyncio.gather(
                *(
                    http.post(
                        "/chat/completions",
                        json={
                            "model": "gpt-4o",
                            "messages": user(f"request number {i}"),
                            "stream": i % 2 == 0,
                        },
                    )
                    for i in range(20)
                )
            )
    assert [r.status_code for r in responses] == [200] * 20
    assert len(list(cassettes.iterdir())) == 20
    loaded = load([str(cassettes)])
    assert sorted(
        item.fixture.response.text or "".join(item.fixture.response.chunks or []) for item in loaded
    ) == sorted(  # type: ignore[union-attr]
        f"request number {i}" for i in range(20)
    )


def test_auto_records_misses_and_replays_hits(tmp_path: Path) -> None:
    cassettes = str(tmp_path / "cassettes")
    log: list[Exchange] = []
    with (
        serve(upstream_app(tmp_path, log)) as upstream,
        serve(proxy_app(upstream.base_url, mode="auto", cassettes=cassettes, timing_factor=0)) as proxy,
    ):
        answers = [
            httpx.post(proxy.base_url + "/chat/completions", json={"model": "gpt-4o", "messages": user(text)})
            for text in ("first", "first", "second", "first")
        ]
    assert [a.json()["choices"][0]["message"]["content"] for a in answers] == [
        "first",
        "first",
        "second",
        "first",
    ]
    assert [e.body for e in chat_posts(log)] == [answers[0].request.content, answers[2].request.content]
    assert answers[1].json()["id"] != answers[0].json()["id"]  # replayed through the pipeline


def test_replay_miss_says_how_to_record(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    cassettes.mkdir()
    with serve(proxy_app(DEAD_UPSTREAM, mode="replay", cassettes=str(cassettes))) as proxy:
        started = time.perf_counter()
        with (
            openai.OpenAI(base_url=proxy.base_url, api_key="sk-x", max_retries=2) as sdk,
            pytest.raises(openai.BadRequestError) as caught,
        ):
            sdk.chat.completions.create(model="gpt-4o", messages=user("never recorded"))  # type: ignore[arg-type]
        assert time.perf_counter() - started < 1  # a 400: the SDK does not retry
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["code"] == "recording_not_found"
    assert "mode `auto`" in error["message"]
    assert "CHATDOUBLE_RECORD_MODE=auto" in error["message"]
    assert "backend 'upstream'" in error["message"]


def test_volatile_and_ignored_fields_do_not_change_the_match(tmp_path: Path) -> None:
    cassettes = str(tmp_path / "cassettes")
    base = {"model": "gpt-4o", "messages": user("match me"), "temperature": 0.5}
    with (
        serve(upstream_app(tmp_path)) as upstream,
        serve(proxy_app(upstream.base_url, mode="record", cassettes=cassettes)) as proxy,
    ):
        httpx.post(proxy.base_url + "/chat/completions", json={**base, "user": "alice", "store": True})
    volatile = {
        "user": "bob",
        "metadata": {"run": "2"},
        "stream": True,
        "stream_options": {"include_usage": True},
        "service_tier": "auto",
        "prompt_cache_key": "k",
        "safety_identifier": "s",
    }
    with serve(proxy_app(DEAD_UPSTREAM, mode="replay", cassettes=cassettes)) as proxy:
        hit = httpx.post(proxy.base_url + "/chat/completions", json={**base, **volatile})
        warmer = httpx.post(proxy.base_url + "/chat/completions", json={**base, "temperature": 0.9})
    assert hit.status_code == 200
    assert content_of(hit.content) == "match me"
    assert warmer.status_code == 400
    assert "differs from the recorded one in temperature" in warmer.text
    with serve(
        proxy_app(DEAD_UPSTREAM, mode="replay", cassettes=cassettes, ignore_fields=["temperature"])
    ) as proxy:
        # Ignored on both sides: in the request and in the recording, made before it was ignored.
        cooler = httpx.post(proxy.base_url + "/chat/completions", json={**base, "temperature": 0})
    assert cooler.status_code == 200
    assert content_of(cooler.content) == "match me"


def test_errors_are_recorded_but_transient_ones_are_not(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    with (
        serve(upstream_app(tmp_path)) as upstream,
        serve(proxy_app(upstream.base_url, mode="record", cassettes=str(cassettes))) as proxy,
        openai.OpenAI(base_url=proxy.base_url, api_key="sk-errors", max_retries=2) as sdk,
    ):
        with pytest.raises(openai.PermissionDeniedError):
            sdk.chat.completions.create(model="gpt-4o", messages=user("forbidden"))  # type: ignore[arg-type]
        assert sdk.chat.completions.create(model="gpt-4o", messages=user("flaky")).choices[0].message.content  # type: ignore[arg-type]
    replies = {item.fixture.id.split("--")[1]: item.fixture.response for item in load([str(cassettes)])}
    assert set(replies) == {"forbidden", "flaky"}
    assert replies["forbidden"] is not None
    assert replies["forbidden"].error is not None
    assert replies["forbidden"].error.model_dump(exclude_none=True, exclude_defaults=True) == {
        "status": 403,
        "message": "You may not.",
        "type": "invalid_request_error",
        "code": "forbidden_here",
    }
    assert replies["flaky"] is not None
    assert replies["flaky"].text == "Worked on the second try."
    with (
        serve(proxy_app(DEAD_UPSTREAM, mode="replay", cassettes=str(cassettes))) as proxy,
        openai.OpenAI(base_url=proxy.base_url, api_key="sk-errors", max_retries=0) as sdk,
        pytest.raises(openai.PermissionDeniedError) as caught,
    ):
        sdk.chat.completions.create(model="gpt-4o", messages=user("forbidden"))  # type: ignore[arg-type]
    assert caught.value.code == "forbidden_here"


def test_a_stream_that_fails_midway_is_passed_on_but_not_recorded(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    log: list[Exchange] = []
    request = {"model": "gpt-4o", "messages": user("break midway"), "stream": True}
    with (
        serve(upstream_app(tmp_path, log)) as upstream,
        serve(proxy_app(upstream.base_url, mode="auto", cassettes=str(cassettes), timing_factor=0)) as proxy,
    ):
        answers = [httpx.post(proxy.base_url + "/chat/completions", json=request) for _ in range(2)]
    for answer in answers:  # the second went upstream too: nothing was recorded to replay
        chunks = sse.chunks(answer.content)
        assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1]) == "one two"
        assert chunks[-1]["error"]["code"] == "model_broke"
        assert answer.content.endswith(b"data: [DONE]\n\n")
    assert len(chat_posts(log)) == 2
    assert list(cassettes.iterdir()) == []


def test_replay_returns_the_recorded_model_fingerprint_and_padding(tmp_path: Path) -> None:
    cassettes = str(tmp_path / "cassettes")
    log: list[Exchange] = []
    base = {"model": "gpt-4o-mini", "messages": user("dated")}
    unpadded = {**base, "stream": True, "stream_options": {"include_obfuscation": False}}
    with (
        serve(upstream_app(tmp_path, log, system_fingerprint="fp_upstream01")) as upstream,
        serve(proxy_app(upstream.base_url, mode="record", cassettes=cassettes)) as proxy,
    ):
        httpx.post(proxy.base_url + "/chat/completions", json=unpadded)
    recorded = chat_posts(log)[0].chunks
    assert {c["model"] for c in recorded} == {"gpt-4o-mini-2024-07-18"}
    assert {c["system_fingerprint"] for c in recorded} == {"fp_upstream01"}
    assert not any("obfuscation" in c for c in recorded)
    with serve(proxy_app(DEAD_UPSTREAM, mode="replay", cassettes=cassettes, timing_factor=0)) as proxy:
        streamed = httpx.post(proxy.base_url + "/chat/completions", json={**base, "stream": True})
        whole = httpx.post(proxy.base_url + "/chat/completions", json=base)
    chunks = sse.chunks(streamed.content)
    assert {c["model"] for c in chunks} == {"gpt-4o-mini-2024-07-18"}
    assert {c["system_fingerprint"] for c in chunks} == {"fp_upstream01"}
    assert not any("obfuscation" in c for c in chunks)  # the upstream sent none: replay adds none
    body = whole.json()
    assert (body["model"], body["system_fingerprint"]) == ("gpt-4o-mini-2024-07-18", "fp_upstream01")
    assert body["choices"][0]["message"]["content"] == "A dated answer."


def test_a_recording_padded_upstream_replays_padded(tmp_path: Path) -> None:
    cassettes = str(tmp_path / "cassettes")
    request = {"model": "gpt-4o", "messages": user("tell me a story"), "stream": True}
    with (
        serve(upstream_app(tmp_path)) as upstream,
        serve(proxy_app(upstream.base_url, mode="record", cassettes=cassettes)) as proxy,
    ):
        httpx.post(proxy.base_url + "/chat/completions", json=request)
    with serve(proxy_app(DEAD_UPSTREAM, mode="replay", cassettes=cassettes, timing_factor=0)) as proxy:
        replayed = sse.chunks(httpx.post(proxy.base_url + "/chat/completions", json=request).content)
    assert all("obfuscation" in c for c in replayed)


def test_a_miss_names_the_closest_recordings_first(tmp_path: Path) -> None:
    cassettes = str(tmp_path / "cassettes")
    recorded = [
        ("alpha", 0.5),
        ("bravo", 0.5),
        ("charlie", 0.5),
        ("match me", 0.1),
        ("match me", 0.8),
    ]
    with (
        serve(upstream_app(tmp_path)) as upstream,
        serve(proxy_app(upstream.base_url, mode="record", cassettes=cassettes)) as proxy,
    ):
        for text, temperature in recorded:
            body = {"model": "gpt-4o", "messages": user(text), "temperature": temperature}
            assert httpx.post(proxy.base_url + "/chat/completions", json=body).status_code == 200
    keys = {
        temperature: request_key(
            normalize({"model": "gpt-4o", "messages": user("match me"), "temperature": temperature})
        )
        for temperature in (0.1, 0.8)
    }
    with serve(proxy_app(DEAD_UPSTREAM, mode="replay", cassettes=cassettes)) as proxy:
        miss = httpx.post(
            proxy.base_url + "/chat/completions",
            json={"model": "gpt-4o", "messages": user("match me"), "temperature": 0.9},
        )
    assert miss.json()["error"]["code"] == "recording_not_found"
    closest = miss.json()["error"]["message"].split("Closest: ")[1]
    named = re.findall(r"'(gpt-4o--[a-z-]+--[0-9a-f]+)'", closest)
    assert named == [
        f"gpt-4o--match-me--{keys[0.8]}",  # differs in temperature alone, by 0.1
        f"gpt-4o--match-me--{keys[0.1]}",  # differs in temperature alone, by 0.8
        named[2],
    ]
    assert "differs from the recorded one in temperature)" in closest.split(";")[0]


EMBEDDING_REQUESTS = [
    {"model": "text-embedding-3-small", "input": ["first text", "second text"], "dimensions": 8},
    {"model": "text-embedding-3-small", "input": "packed text", "dimensions": 8, "encoding_format": "base64"},
]


def post_all(base_url: str, path: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    return [httpx.post(base_url + path, json=body) for body in bodies]


def test_embeddings_replay_the_recorded_vectors_with_the_upstream_stopped(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    log: list[Exchange] = []
    with (
        serve(upstream_app(tmp_path, log)) as upstream,
        serve(proxy_app(upstream.base_url, mode="record", cassettes=str(cassettes))) as proxy,
    ):
        recorded = post_all(proxy.base_url, "/embeddings", EMBEDDING_REQUESTS)
    assert [r.status_code for r in recorded] == [200, 200]
    assert len([e for e in log if e.path == "/v1/embeddings"]) == 2
    assert len(list(cassettes.glob("*.yaml"))) == 2
    with serve(proxy_app(DEAD_UPSTREAM, mode="replay", cassettes=str(cassettes), timing_factor=0)) as proxy:
        replayed = post_all(proxy.base_url, "/embeddings", EMBEDDING_REQUESTS)
        missing = httpx.post(proxy.base_url + "/embeddings", json={**EMBEDDING_REQUESTS[0], "input": "new"})
    assert [r.status_code for r in replayed] == [200, 200]
    assert [r.json()["data"] for r in replayed] == [r.json()["data"] for r in recorded]
    assert replayed[1].content == recorded[1].content  # base64: the same float32 bytes
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "recording_not_found"


def test_replayed_embeddings_come_from_the_recording_not_the_server(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    with (
        serve(upstream_app(tmp_path)) as upstream,
        serve(proxy_app(upstream.base_url, mode="record", cassettes=str(cassettes))) as proxy,
    ):
        post_all(proxy.base_url, "/embeddings", EMBEDDING_REQUESTS[:1])
    (path,) = cassettes.glob("*.yaml")
    document = yaml.safe_load(path.read_text())
    recorded = document["fixtures"][0]["response"]["embedding"]
    assert [len(vector) for vector in recorded] == [8, 8]
    document["fixtures"][0]["response"]["embedding"] = [[1.0] + [0.0] * 7, [0.0, 1.0] + [0.0] * 6]
    path.write_text(yaml.safe_dump(document))
    with serve(proxy_app(DEAD_UPSTREAM, mode="replay", cassettes=str(cassettes), timing_factor=0)) as proxy:
        replayed = httpx.post(proxy.base_url + "/embeddings", json=EMBEDDING_REQUESTS[0])
    assert [item["embedding"] for item in replayed.json()["data"]] == [
        [1.0, 0, 0, 0, 0, 0, 0, 0],
        [0, 1.0, 0, 0, 0, 0, 0, 0],
    ]


def test_auto_records_an_embeddings_miss_and_replays_it(tmp_path: Path) -> None:
    cassettes = str(tmp_path / "cassettes")
    log: list[Exchange] = []
    with (
        serve(upstream_app(tmp_path, log)) as upstream,
        serve(proxy_app(upstream.base_url, mode="auto", cassettes=cassettes, timing_factor=0)) as proxy,
    ):
        answers = post_all(proxy.base_url, "/embeddings", [EMBEDDING_REQUESTS[0]] * 3)
    assert len([e for e in log if e.path == "/v1/embeddings"]) == 1
    assert answers[1].json()["data"] == answers[2].json()["data"] == answers[0].json()["data"]


COMPLETION_REQUESTS = [
    {"model": "gpt-3.5-turbo-instruct", "prompt": "a whole completion"},
    {"model": "gpt-3.5-turbo-instruct", "prompt": "tell me a story", "stream": True},
]


def completion_text(response: httpx.Response) -> str:
    if response.content.startswith(b"data: "):
        return "".join(c["choices"][0]["text"] for c in sse.chunks(response.content) if c.get("choices"))
    text: str = response.json()["choices"][0]["text"]
    return text


def test_completions_replay_the_recorded_text_with_the_upstream_stopped(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    log: list[Exchange] = []
    with (
        serve(upstream_app(tmp_path, log)) as upstream,
        serve(proxy_app(upstream.base_url, mode="record", cassettes=str(cassettes))) as proxy,
    ):
        recorded = post_all(proxy.base_url, "/completions", COMPLETION_REQUESTS)
    assert len([e for e in log if e.path == "/v1/completions"]) == 2
    assert len(list(cassettes.glob("*.yaml"))) == 2
    with serve(proxy_app(DEAD_UPSTREAM, mode="replay", cassettes=str(cassettes), timing_factor=0)) as proxy:
        replayed = post_all(proxy.base_url, "/completions", COMPLETION_REQUESTS)
    assert [r.status_code for r in replayed] == [200, 200]
    assert [completion_text(r) for r in replayed] == [completion_text(r) for r in recorded]
    assert completion_text(recorded[1]) == "Once upon a time."
    pieces = [c["choices"][0]["text"] for c in sse.chunks(replayed[1].content) if c.get("choices")]
    assert [p for p in pieces if p] == ["Once", " upon", " a", " time", "."]  # the recorded chunking
    assert all(c["object"] == "text_completion" for c in sse.chunks(replayed[1].content))
