"""The official `openai` SDK's sync client against a real server on loopback.

Every non-stream body and every chunk is read raw and validated strictly against the SDK's models
(no unknown keys at any level) before the SDK's parsed view is checked.
"""

from __future__ import annotations

from collections.abc import Iterator
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


def connect(server: LiveServer, api_key: str = API_KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key=api_key, max_retries=0)


@pytest.fixture
def sdk(live_server: LiveServer) -> Iterator[openai.OpenAI]:
    with connect(live_server) as client:
        yield client


def create(sdk: openai.OpenAI, **params: Any) -> tuple[dict[str, Any], ChatCompletion]:
    params = {"model": MODEL, "messages": MESSAGES, **params}
    return completion_from_raw(sdk.chat.completions.with_raw_response.create(**params))


def stream(sdk: openai.OpenAI, **params: Any) -> list[dict[str, Any]]:
    params = {"model": MODEL, "messages": MESSAGES, **params}
    with sdk.chat.completions.with_streaming_response.create(stream=True, **params) as response:
        check_headers(response.headers)
        assert response.headers["content-type"].startswith("text/event-stream")
        return sse_chunks(b"".join(response.iter_bytes()))


def sdk_chunks(sdk: openai.OpenAI, **params: Any) -> list[ChatCompletionChunk]:
    """The same stream through the SDK's own SSE decoding and parsing."""
    params = {"model": MODEL, "messages": MESSAGES, **params}
    with sdk.chat.completions.create(stream=True, **params) as chunks:
        return list(chunks)


def test_create_returns_the_last_user_message(sdk: openai.OpenAI) -> None:
    _, completion = create(sdk)
    [choice] = completion.choices
    assert choice.index == 0
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content == PROMPT
    assert choice.message.tool_calls is None
    assert choice.message.function_call is None
    usage = completion.usage
    assert usage is not None
    assert usage.prompt_tokens > 0
    assert usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert completion.model == MODEL


def test_stream_carries_the_same_message(sdk: openai.OpenAI) -> None:
    _, completion = create(sdk)
    chunks = stream(sdk)
    [assembled] = check_stream(chunks)
    same_as_message(assembled, completion.choices[0])
    assert len(chunks) > 4, "content arrives in token-sized pieces"
    parsed = sdk_chunks(sdk)
    assert all(isinstance(chunk, ChatCompletionChunk) for chunk in parsed)
    assert "".join(chunk.choices[0].delta.content or "" for chunk in parsed) == PROMPT
    assert parsed[-1].choices[0].finish_reason == "stop"


def test_two_choices_streamed_and_not(sdk: openai.OpenAI) -> None:
    _, one = create(sdk)
    _, two = create(sdk, n=2)
    assert [choice.index for choice in two.choices] == [0, 1]
    assert [choice.message.content for choice in two.choices] == [PROMPT, PROMPT]
    assert one.usage is not None
    assert two.usage is not None
    assert two.usage.prompt_tokens == one.usage.prompt_tokens
    assert two.usage.completion_tokens == 2 * one.usage.completion_tokens
    chunks = stream(sdk, n=2)
    assembled = check_stream(chunks, n=2)
    assert interleaved(chunks), "choices are streamed side by side"
    for streamed, choice in zip(assembled, two.choices, strict=True):
        same_as_message(streamed, choice)


@pytest.mark.parametrize("n", [1, 2])
def test_include_usage_reports_the_non_stream_usage(sdk: openai.OpenAI, n: int) -> None:
    data, completion = create(sdk, n=n)
    options = {"include_usage": True}
    chunks = stream(sdk, n=n, stream_options=options)
    check_stream(chunks, n=n, include_usage=True)
    assert chunks[-1]["usage"] == data["usage"]
    parsed = sdk_chunks(sdk, n=n, stream_options=options)
    assert all(chunk.usage is None for chunk in parsed[:-1])
    assert parsed[-1].choices == []
    assert parsed[-1].usage == completion.usage


@pytest.mark.parametrize("kind", sorted(TOOL_CHOICES))
def test_forced_tool_call(sdk: openai.OpenAI, kind: str) -> None:
    tool_choice, names = TOOL_CHOICES[kind]
    forced = {"tools": TOOLS, "tool_choice": tool_choice, "n": 2}
    _, completion = create(sdk, **forced)
    check_forced_calls(completion, names)
    chunks = stream(sdk, **forced)
    for streamed, choice in zip(check_stream(chunks, n=2), completion.choices, strict=True):
        same_as_message(streamed, choice)
    fragments = [c for c in chunks if c["choices"] and "tool_calls" in c["choices"][0]["delta"]]
    assert len(fragments) > 4, "arguments are streamed in fragments"


def test_the_cookbook_tool_loop_with_a_named_tool_result(sdk: openai.OpenAI) -> None:
    """OpenAI's function-calling cookbook appends the SDK's own message object, then a tool result
    carrying the function's `name`, and asks again."""
    messages: list[Any] = list(MESSAGES)
    _, first = create(sdk, messages=messages, tools=TOOLS, tool_choice="required")
    message = first.choices[0].message
    assert message.tool_calls
    call = message.tool_calls[0]
    assert call.type == "function"
    messages.append(message)
    messages.append({"role": "tool", "tool_call_id": call.id, "name": call.function.name, "content": "12 C"})
    _, answer = create(sdk, messages=messages, tools=TOOLS)
    assert answer.choices[0].message.content == PROMPT


def test_forced_legacy_function_call(sdk: openai.OpenAI) -> None:
    forced = {"functions": LEGACY_FUNCTIONS, "function_call": {"name": "lookup_order"}}
    _, completion = create(sdk, **forced)
    [choice] = completion.choices
    assert choice.finish_reason == "function_call"
    assert choice.message.content is None
    assert choice.message.tool_calls is None
    call = choice.message.function_call
    assert call is not None
    assert call.name == "lookup_order"
    check_arguments(call.name, call.arguments)
    chunks = stream(sdk, **forced)
    [assembled] = check_stream(chunks)
    same_as_message(assembled, choice)
    deltas = [
        c["choices"][0]["delta"]["function_call"]
        for c in chunks
        if "function_call" in c["choices"][0]["delta"]
    ]
    assert deltas[0]["name"] == "lookup_order", "the name comes first"
    assert len(deltas) > 2
    assert all(set(delta) == {"arguments"} for delta in deltas[1:])


def test_request_id_and_openai_headers(sdk: openai.OpenAI) -> None:
    raw = sdk.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES)
    request_id = check_headers(raw.headers)
    assert raw.parse()._request_id == request_id
    again = sdk.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES)
    assert check_headers(again.headers) != request_id, "every request gets its own id"
    with sdk.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True) as chunks:
        assert check_headers(chunks.response.headers) not in (request_id, again.headers["x-request-id"])
        assert sum(1 for _ in chunks) > 1


def test_stream_helper_accumulates_to_the_non_stream_message(sdk: openai.OpenAI) -> None:
    _, completion = create(sdk, n=2)
    with sdk.chat.completions.stream(model=MODEL, messages=MESSAGES, n=2) as helper:
        events = list(helper)
        final = helper.get_final_completion()
    assert [event.content for event in events if event.type == "content.done"] == [PROMPT, PROMPT]
    assert sum(1 for event in events if event.type == "content.delta") > 4
    assert final.id.startswith("chatcmpl-")
    assert final.id != completion.id
    for streamed, choice in zip(final.choices, completion.choices, strict=True):
        assert streamed.message.role == "assistant", "role is sent once per choice"
        assert streamed.message.content == choice.message.content
        assert streamed.finish_reason == choice.finish_reason == "stop"


def test_stream_helper_parses_strict_tool_arguments(sdk: openai.OpenAI) -> None:
    tool_choice, [name] = TOOL_CHOICES["named"]
    _, completion = create(sdk, tools=TOOLS, tool_choice=tool_choice)
    [expected] = completion.choices[0].message.tool_calls or []
    with sdk.chat.completions.stream(
        model=MODEL, messages=MESSAGES, tools=TOOLS, tool_choice=tool_choice
    ) as helper:
        done = [event for event in helper if event.type == "tool_calls.function.arguments.done"]
        final = helper.get_final_completion()
    [call] = final.choices[0].message.tool_calls or []
    assert final.choices[0].finish_reason == "tool_calls"
    assert call.id.startswith("call_")
    assert len(call.id) == len(expected.id), "the id is sent once"
    assert call.function.name == name, "the name is sent once"
    assert call.function.arguments == expected.function.arguments
    assert call.function.parsed_arguments == check_arguments(name, call.function.arguments)
    assert [(event.name, event.parsed_arguments) for event in done] == [
        (name, call.function.parsed_arguments)
    ]


def test_bad_request_error(sdk: openai.OpenAI) -> None:
    for streamed in (False, True):
        with pytest.raises(openai.BadRequestError) as info:
            sdk.chat.completions.create(model=MODEL, messages=MESSAGES, temperature=3, stream=streamed)
        check_error(info.value, 400, "decimal_above_max_value", "temperature")


def test_unknown_model_not_found(restricted_server: LiveServer) -> None:
    with connect(restricted_server) as client:
        known = client.chat.completions.create(model=MODEL, messages=MESSAGES)
        assert known.choices[0].message.content == PROMPT
        for streamed in (False, True):
            with pytest.raises(openai.NotFoundError) as info:
                client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=streamed)
            check_error(info.value, 404, "model_not_found")
            assert "`gpt-4o-mini`" in info.value.message


def test_wrong_api_key_authentication_error(keyed_server: LiveServer) -> None:
    wrong = "sk-wrong-key-abcdefghijkl"
    with connect(keyed_server, wrong) as client, pytest.raises(openai.AuthenticationError) as info:
        client.chat.completions.create(model=MODEL, messages=MESSAGES)
    check_error(info.value, 401, "invalid_api_key")
    assert wrong not in info.value.message, "the key is masked"
    assert wrong[-4:] in info.value.message
    with connect(keyed_server, RIGHT_KEY) as client:
        assert (
            client.chat.completions.create(model=MODEL, messages=MESSAGES).choices[0].message.content
            == PROMPT
        )
