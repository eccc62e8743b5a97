"""The official `openai` SDK's async client against a real server on loopback.

The same contract as test_sdk_sync.py, through `AsyncOpenAI`, its async SSE decoder and its async
stream helper; raw bodies and chunks are validated strictly against the SDK's models.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from tests.servers import LiveServer
from tests.support.contract import (
    API_KEY,
    LEGACY_FUNCTIONS,
    MESSAGES,
    MODEL,
    PROMPT,
    RIGHT_KEY,
    TOOL_CHOICES,
    TOOLS,
    check_arguments,
    check_error,
    check_forced_calls,
    check_headers,
    check_stream,
    completion_from_raw,
    interleaved,
    same_as_message,
    sse_chunks,
)


def connect(server: LiveServer, api_key: str = API_KEY) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.base_url, api_key=api_key, max_retries=0)


@pytest.fixture
async def sdk(live_server: LiveServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with connect(live_server) as client:
        yield client


async def create(sdk: openai.AsyncOpenAI, **params: Any) -> tuple[dict[str, Any], ChatCompletion]:
    params = {"model": MODEL, "messages": MESSAGES, **params}
    return completion_from_raw(await sdk.chat.completions.with_raw_response.create(**params))


async def stream(sdk: openai.AsyncOpenAI, **params: Any) -> list[dict[str, Any]]:
    params = {"model": MODEL, "messages": MESSAGES, **params}
    async with sdk.chat.completions.with_streaming_response.create(stream=True, **params) as response:
        check_headers(response.headers)
        assert response.headers["content-type"].startswith("text/event-stream")
        return sse_chunks(b"".join([part async for part in response.iter_bytes()]))


async def sdk_chunks(sdk: openai.AsyncOpenAI, **params: Any) -> list[ChatCompletionChunk]:
    """The same stream through the SDK's own async SSE decoding and parsing."""
    params = {"model": MODEL, "messages": MESSAGES, **params}
    async with await sdk.chat.completions.create(stream=True, **params) as chunks:
        return [chunk async for chunk in chunks]


async def test_create_returns_the_last_user_message(sdk: openai.AsyncOpenAI) -> None:
    _, completion = await create(sdk)
    [choice] = completion.choices
    assert choice.index == 0
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content == PROMPT
    usage = completion.usage
    assert usage is not None
    assert usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


async def test_stream_carries_the_same_message(sdk: openai.AsyncOpenAI) -> None:
    _, completion = await create(sdk)
    chunks = await stream(sdk)
    [assembled] = check_stream(chunks)
    same_as_message(assembled, completion.choices[0])
    assert len(chunks) > 4, "content arrives in token-sized pieces"
    parsed = await sdk_chunks(sdk)
    assert "".join(chunk.choices[0].delta.content or "" for chunk in parsed) == PROMPT
    assert parsed[-1].choices[0].finish_reason == "stop"


async def test_two_choices_streamed_and_not(sdk: openai.AsyncOpenAI) -> None:
    _, one = await create(sdk)
    _, two = await create(sdk, n=2)
    assert [choice.index for choice in two.choices] == [0, 1]
    assert [choice.message.content for choice in two.choices] == [PROMPT, PROMPT]
    assert one.usage is not None
    assert two.usage is not None
    assert two.usage.completion_tokens == 2 * one.usage.completion_tokens
    chunks = await stream(sdk, n=2)
    assembled = check_stream(chunks, n=2)
    assert interleaved(chunks), "choices are streamed side by side"
    for streamed, choice in zip(assembled, two.choices, strict=True):
        same_as_message(streamed, choice)


@pytest.mark.parametrize("n", [1, 2])
async def test_include_usage_reports_the_non_stream_usage(sdk: openai.AsyncOpenAI, n: int) -> None:
    data, completion = await create(sdk, n=n)
    options = {"include_usage": True}
    chunks = await stream(sdk, n=n, stream_options=options)
    check_stream(chunks, n=n, include_usage=True)
    assert chunks[-1]["usage"] == data["usage"]
    parsed = await sdk_chunks(sdk, n=n, stream_options=options)
    assert all(chunk.usage is None for chunk in parsed[:-1])
    assert parsed[-1].choices == []
    assert parsed[-1].usage == completion.usage


@pytest.mark.parametrize("kind", sorted(TOOL_CHOICES))
async def test_forced_tool_call(sdk: openai.AsyncOpenAI, kind: str) -> None:
    tool_choice, names = TOOL_CHOICES[kind]
    forced = {"tools": TOOLS, "tool_choice": tool_choice, "n": 2}
    _, completion = await create(sdk, **forced)
    check_forced_calls(completion, names)
    chunks = await stream(sdk, **forced)
    for streamed, choice in zip(check_stream(chunks, n=2), completion.choices, strict=True):
        same_as_message(streamed, choice)


async def test_forced_legacy_function_call(sdk: openai.AsyncOpenAI) -> None:
    forced = {"functions": LEGACY_FUNCTIONS, "function_call": {"name": "get_weather"}}
    _, completion = await create(sdk, **forced)
    [choice] = completion.choices
    assert choice.finish_reason == "function_call"
    assert choice.message.tool_calls is None
    call = choice.message.function_call
    assert call is not None
    assert call.name == "get_weather"
    check_arguments(call.name, call.arguments)
    chunks = await stream(sdk, **forced)
    [assembled] = check_stream(chunks)
    same_as_message(assembled, choice)
    deltas = [
        c["choices"][0]["delta"]["function_call"]
        for c in chunks
        if "function_call" in c["choices"][0]["delta"]
    ]
    assert deltas[0]["name"] == "get_weather", "the name comes first"
    assert len(deltas) > 2
    assert all(set(delta) == {"arguments"} for delta in deltas[1:])


async def test_request_id_and_openai_headers(sdk: openai.AsyncOpenAI) -> None:
    raw = await sdk.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES)
    request_id = check_headers(raw.headers)
    assert raw.parse()._request_id == request_id
    async with await sdk.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True) as chunks:
        assert check_headers(chunks.response.headers) != request_id
        assert len([chunk async for chunk in chunks]) > 1


async def test_stream_helper_accumulates_to_the_non_stream_message(sdk: openai.AsyncOpenAI) -> None:
    _, completion = await create(sdk, n=2)
    async with sdk.chat.completions.stream(model=MODEL, messages=MESSAGES, n=2) as helper:
        events = [event async for event in helper]
        final = await helper.get_final_completion()
    assert [event.content for event in events if event.type == "content.done"] == [PROMPT, PROMPT]
    for streamed, choice in zip(final.choices, completion.choices, strict=True):
        assert streamed.message.role == "assistant", "role is sent once per choice"
        assert streamed.message.content == choice.message.content
        assert streamed.finish_reason == choice.finish_reason == "stop"


async def test_stream_helper_parses_strict_tool_arguments(sdk: openai.AsyncOpenAI) -> None:
    tool_choice, [name] = TOOL_CHOICES["named"]
    _, completion = await create(sdk, tools=TOOLS, tool_choice=tool_choice)
    [expected] = completion.choices[0].message.tool_calls or []
    async with sdk.chat.completions.stream(
        model=MODEL, messages=MESSAGES, tools=TOOLS, tool_choice=tool_choice
    ) as helper:
        done = [event async for event in helper if event.type == "tool_calls.function.arguments.done"]
        final = await helper.get_final_completion()
    [call] = final.choices[0].message.tool_calls or []
    assert call.id.startswith("call_")
    assert len(call.id) == len(expected.id), "the id is sent once"
    assert call.function.name == name
    assert call.function.arguments == expected.function.arguments
    assert call.function.parsed_arguments == check_arguments(name, call.function.arguments)
    assert [(event.name, event.parsed_arguments) for event in done] == [
        (name, call.function.parsed_arguments)
    ]


async def test_bad_request_error(sdk: openai.AsyncOpenAI) -> None:
    for streamed in (False, True):
        with pytest.raises(openai.BadRequestError) as info:
            await sdk.chat.completions.create(model=MODEL, messages=MESSAGES, temperature=3, stream=streamed)
        check_error(info.value, 400, "decimal_above_max_value", "temperature")


async def test_unknown_model_not_found(restricted_server: LiveServer) -> None:
    async with connect(restricted_server) as client:
        known = await client.chat.completions.create(model=MODEL, messages=MESSAGES)
        assert known.choices[0].message.content == PROMPT
        for streamed in (False, True):
            with pytest.raises(openai.NotFoundError) as info:
                await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=streamed)
            check_error(info.value, 404, "model_not_found")
            assert "`gpt-4o-mini`" in info.value.message


async def test_wrong_api_key_authentication_error(keyed_server: LiveServer) -> None:
    async with connect(keyed_server, "sk-wrong-key-abcdefghijkl") as client:
        with pytest.raises(openai.AuthenticationError) as info:
            await client.chat.completions.create(model=MODEL, messages=MESSAGES)
    check_error(info.value, 401, "invalid_api_key")
    async with connect(keyed_server, RIGHT_KEY) as client:
        completion = await client.chat.completions.create(model=MODEL, messages=MESSAGES)
        assert completion.choices[0].message.content == PROMPT
