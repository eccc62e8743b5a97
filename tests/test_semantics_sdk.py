"""Generation semantics through the official SDK, streamed and not: length, stop, n, seed,
logprobs, structured outputs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from tests.servers import LiveServer

TEXT = "The quick brown fox jumps over the lazy dog, then naps in the sun."


@pytest.fixture
def sdk(live_server: LiveServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=live_server.base_url, api_key="sk-test", max_retries=0) as client:
        yield client


def ask(sdk: openai.OpenAI, **fields: Any) -> openai.types.chat.ChatCompletion:
    return sdk.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": TEXT}], **fields)


def ask_stream(sdk: openai.OpenAI, **fields: Any) -> list[openai.types.chat.ChatCompletionChunk]:
    stream = sdk.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": TEXT}],
        stream=True,
        stream_options={"include_usage": True},
        **fields,
    )
    return list(stream)


def streamed_text(chunks: list[openai.types.chat.ChatCompletionChunk], index: int = 0) -> str:
    return "".join(
        c.choices[0].delta.content or "" for c in chunks if c.choices and c.choices[0].index == index
    )


def finish(chunks: list[openai.types.chat.ChatCompletionChunk], index: int = 0) -> str | None:
    return next(
        c.choices[0].finish_reason
        for c in chunks
        if c.choices and c.choices[0].index == index and c.choices[0].finish_reason
    )


def test_max_tokens_streamed_and_not(sdk: openai.OpenAI) -> None:
    whole = ask(sdk, max_completion_tokens=5)
    chunks = ask_stream(sdk, max_completion_tokens=5)
    assert whole.choices[0].message.content == "The quick brown fox jumps"
    assert whole.choices[0].finish_reason == "length"
    assert whole.usage is not None
    assert whole.usage.completion_tokens == 5
    assert streamed_text(chunks) == whole.choices[0].message.content
    assert finish(chunks) == "length"
    assert chunks[-1].usage == whole.usage


def test_stop_streamed_and_not(sdk: openai.OpenAI) -> None:
    whole = ask(sdk, stop=[" lazy", "naps"])
    chunks = ask_stream(sdk, stop=[" lazy", "naps"])
    assert whole.choices[0].message.content == "The quick brown fox jumps over the"
    assert whole.choices[0].finish_reason == "stop"
    assert streamed_text(chunks) == whole.choices[0].message.content
    assert finish(chunks) == "stop"


def test_n_streamed_and_not(sdk: openai.OpenAI) -> None:
    whole = ask(sdk, n=3, max_tokens=3)
    chunks = ask_stream(sdk, n=3, max_tokens=3)
    assert [c.index for c in whole.choices] == [0, 1, 2]
    assert whole.usage is not None
    assert whole.usage.completion_tokens == 9
    for index in range(3):
        assert streamed_text(chunks, index) == whole.choices[index].message.content
        assert finish(chunks, index) == "length"
    assert chunks[-1].usage == whole.usage


def test_seed_gives_same_output_and_fingerprint(sdk: openai.OpenAI) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "pick",
                "parameters": {
                    "type": "object",
                    "properties": {"colour": {"type": "string", "enum": ["red", "green", "blue"]}},
                    "required": ["colour"],
                },
            },
        }
    ]
    first = ask(sdk, seed=7, tools=tools, tool_choice="required")
    again = ask(sdk, seed=7, tools=tools, tool_choice="required")
    other = ask(sdk, seed=8, tools=tools, tool_choice="required")

    def calls(completion: openai.types.chat.ChatCompletion) -> list[tuple[str, str]]:
        return [
            (c.function.name, c.function.arguments) for c in completion.choices[0].message.tool_calls or []
        ]  # type: ignore[union-attr]

    assert calls(first) == calls(again)  # ids are random, as the API's; the call itself is seeded
    assert first.system_fingerprint == again.system_fingerprint == other.system_fingerprint
    assert first.system_fingerprint is not None
    assert first.system_fingerprint.startswith("fp_")
    calls = [c.choices[0].message.tool_calls for c in (first, other)]
    assert all(call is not None for call in calls)


def test_logprobs_streamed_and_not(sdk: openai.OpenAI) -> None:
    whole = ask(sdk, logprobs=True, top_logprobs=3)
    chunks = ask_stream(sdk, logprobs=True, top_logprobs=3)
    assert whole.choices[0].logprobs is not None
    entries = whole.choices[0].logprobs.content
    assert entries is not None
    assert "".join(e.token for e in entries) == whole.choices[0].message.content
    for entry in entries:
        assert entry.logprob <= 0
        assert entry.bytes == list(entry.token.encode())
        assert len(entry.top_logprobs) == 3
        assert entry.top_logprobs[0].token == entry.token
        assert [t.logprob for t in entry.top_logprobs] == sorted(
            (t.logprob for t in entry.top_logprobs), reverse=True
        )
    streamed = [
        e for c in chunks if c.choices and c.choices[0].logprobs for e in c.choices[0].logprobs.content or []
    ]
    assert [(e.token, e.logprob) for e in streamed] == [(e.token, e.logprob) for e in entries]
    role_chunk = chunks[0].choices[0]
    assert role_chunk.logprobs is not None
    assert role_chunk.logprobs.content == []


class Address(BaseModel):
    street: str
    city: str
    postcode: str


class Person(BaseModel):
    name: str
    age: int
    addresses: list[Address]
    nickname: str | None


def test_parse_with_nested_pydantic_model(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.parse(
        model="gpt-4o", messages=[{"role": "user", "content": "Who lives here?"}], response_format=Person
    )
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, Person)
    assert parsed.addresses
    assert isinstance(parsed.addresses[0], Address)


def test_json_object_format(sdk: openai.OpenAI) -> None:
    import json

    content = ask(sdk, response_format={"type": "json_object"}).choices[0].message.content
    assert content is not None
    assert isinstance(json.loads(content), dict)
