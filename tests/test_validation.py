"""Each class of validation error answers 400 in OpenAI's envelope, worded as the real API words it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server.http.validation import JSON_PARSE_ERROR
from tests.support.requests import ChatClient, function_tool, in_process, user

USER = user("hi")


def body(**fields: Any) -> dict[str, Any]:
    """A raw body, as sent: unlike `chat_body`, a string here stays a string (a case below)."""
    return {"model": "gpt-4o", "messages": USER, **fields}


CASES: list[tuple[str, Any, str | None, str | None, str]] = [
    # (id, request body, param, code, message)
    ("missing-model", {"messages": USER}, None, None, "you must provide a model parameter"),
    (
        "missing-messages",
        {"model": "gpt-4o"},
        "messages",
        "missing_required_parameter",
        "Missing required parameter: 'messages'.",
    ),
    (
        "empty-messages",
        body(messages=[]),
        "messages",
        "empty_array",
        "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
    ),
    (
        "messages-not-array",
        body(messages="hi"),
        "messages",
        "invalid_type",
        "Invalid type for 'messages': expected an array of objects, but got a string instead.",
    ),
    (
        "temperature-type",
        body(temperature="hot"),
        "temperature",
        "invalid_type",
        "Invalid type for 'temperature': expected a decimal, but got a string instead.",
    ),
    (
        "temperature-range",
        body(temperature=3),
        "temperature",
        "decimal_above_max_value",
        "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 instead.",
    ),
    (
        "top-p-range",
        body(top_p=1.5),
        "top_p",
        "decimal_above_max_value",
        "Invalid 'top_p': decimal above maximum value. Expected a value <= 1, but got 1.5 instead.",
    ),
    (
        "presence-penalty-range",
        body(presence_penalty=-3),
        "presence_penalty",
        "decimal_below_min_value",
        "Invalid 'presence_penalty': decimal below minimum value. Expected a value >= -2, but got -3 instead.",
    ),
    (
        "n-zero",
        body(n=0),
        "n",
        "integer_below_min_value",
        "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead.",
    ),
    (
        "n-string",
        body(n="2"),
        "n",
        "invalid_type",
        "Invalid type for 'n': expected an integer, but got a string instead.",
    ),
    (
        "too-many-stops",
        body(stop=["a", "b", "c", "d", "e"]),
        "stop",
        "array_above_max_length",
        "Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length 5 instead.",
    ),
    (
        "stop-type",
        body(stop=5),
        "stop",
        "invalid_type",
        "Invalid type for 'stop': expected one of a string or array of strings, but got an integer instead.",
    ),
    (
        "top-logprobs-range",
        body(logprobs=True, top_logprobs=21),
        "top_logprobs",
        "integer_above_max_value",
        "Invalid 'top_logprobs': integer above maximum value. Expected a value <= 20, but got 21 instead.",
    ),
    (
        "top-logprobs-without-logprobs",
        body(top_logprobs=2),
        "top_logprobs",
        None,
        "The 'top_logprobs' parameter is only allowed when 'logprobs' is enabled.",
    ),
    (
        "stream-options-without-stream",
        body(stream_options={"include_usage": True}),
        "stream_options",
        None,
        "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
    ),
    (
        "logit-bias-value",
        body(logit_bias={"1234": 101}),
        "logit_bias",
        "invalid_value",
        "Invalid value in 'logit_bias': 101. Bias values must be between -100 and 100.",
    ),
    (
        "logit-bias-key",
        body(logit_bias={"hello": 1}),
        "logit_bias",
        "invalid_value",
        "Invalid key in 'logit_bias': hello. You should only be submitting non-negative integers.",
    ),
    (
        "invalid-role",
        body(messages=[{"role": "robot", "content": "x"}]),
        "messages[0].role",
        "invalid_value",
        "Invalid value: 'robot'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.",
    ),
    (
        "content-type",
        body(messages=[{"role": "user", "content": 7}]),
        "messages[0].content",
        "invalid_type",
        "Invalid type for 'messages[0].content': expected one of a string or array of objects, but got an integer instead.",
    ),
    (
        "content-part-missing-text",
        body(messages=[{"role": "user", "content": [{"type": "text"}]}]),
        "messages[0].content[0].text",
        "missing_required_parameter",
        "Missing required parameter: 'messages[0].content[0].text'.",
    ),
    (
        "content-part-type",
        body(messages=[{"role": "user", "content": [{"type": "video"}]}]),
        "messages[0].content[0].type",
        "invalid_value",
        "Invalid value: 'video'. Supported values are: 'text', 'image_url', 'input_audio', and 'file'.",
    ),
    (
        "tool-message-without-id",
        body(messages=[{"role": "tool", "content": "42"}]),
        "messages.[0].tool_call_id",
        None,
        "Missing parameter 'tool_call_id': messages with role 'tool' must have a 'tool_call_id'.",
    ),
    (
        "tool-message-without-call",
        body(
            messages=[
                {"role": "user", "content": "x"},
                {"role": "tool", "content": "42", "tool_call_id": "c"},
            ]
        ),
        "messages.[1].role",
        None,
        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
    ),
    (
        "unanswered-tool-call",
        body(
            messages=[
                {
                    "role": "assistant",
                    "tool_calls": [
                        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                    ],
                },
                {"role": "user", "content": "x"},
            ]
        ),
        "messages.[1].role",
        None,
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
        "'tool_call_id'. The following tool_call_ids did not have response messages: call_1",
    ),
    ("unknown-field", body(foo=1), "foo", "unknown_parameter", "Unknown parameter: 'foo'."),
    (
        # Inside most messages the API drops unknown keys (tests/test_unknown_keys.py); inside a
        # developer message's parts it answers this 400 (recorded for `cache_control`).
        "unknown-nested-field",
        body(messages=[{"role": "developer", "content": [{"type": "text", "text": "x", "foo": 1}]}]),
        "messages[0].content[0].foo",
        "unknown_parameter",
        "Unknown parameter: 'messages[0].content[0].foo'.",
    ),
    # Top-level names other providers take; the real API answers this 400 (e.g. for `reasoning`,
    # teabranch/open-responses-server#41).
    (
        "unknown-reasoning-object",
        body(reasoning={"effort": "low"}),
        "reasoning",
        "unknown_parameter",
        "Unknown parameter: 'reasoning'.",
    ),
    (
        "null-for-non-nullable",
        body(parallel_tool_calls=None),
        "parallel_tool_calls",
        "invalid_type",
        "Invalid type for 'parallel_tool_calls': expected a boolean, but got null instead.",
    ),
    (
        "bad-enum",
        body(reasoning_effort="huge"),
        "reasoning_effort",
        "invalid_value",
        "Invalid value: 'huge'. Supported values are: 'none', 'minimal', 'low', 'medium', 'high', 'xhigh', and 'max'.",
    ),
    (
        "tool-choice-without-tools",
        body(tool_choice="required"),
        "tool_choice",
        None,
        "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
    ),
]


@pytest.mark.parametrize(
    ("payload", "param", "code", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_validation_error(
    client: httpx.AsyncClient, payload: Any, param: str | None, code: str | None, message: str
) -> None:
    response = await client.post("/v1/chat/completions", json=payload)
    assert response.status_code == 400
    assert response.json() == {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    }
    assert response.headers["x-request-id"].startswith("req_")


@pytest.mark.parametrize("raw", [b"{bad", b"", b"[1, 2]", b'"text"'])
async def test_body_that_is_not_a_json_object(client: httpx.AsyncClient, raw: bytes) -> None:
    response = await client.post(
        "/v1/chat/completions", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "message": JSON_PARSE_ERROR,
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


async def test_wrong_content_type(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/chat/completions", content=b'{"model": "gpt-4o"}', headers={"content-type": "text/plain"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert "text/plain" in error["message"]
    assert "application/json" in error["message"]


async def test_unknown_fields_accepted_when_configured(make_app: Any) -> None:
    async with in_process(make_app(unknown_fields="accept")) as http:
        response = await http.post("/v1/chat/completions", json=body(foo=1, top_k=5))
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "hi"


async def test_never_fastapi_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/chat/completions", json={"model": 1, "messages": 2})
    assert response.status_code == 400
    assert "detail" not in response.json()


async def test_a_tool_message_may_carry_the_function_name(client: httpx.AsyncClient) -> None:
    """OpenAI's function-calling cookbook sends `name` on its tool message and shows the model's
    answer; instructor's retry loop sends it on every retry. The API accepts and ignores it."""
    messages = [
        {"role": "user", "content": "Weather in Glasgow?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": "12 C, rain"},
    ]
    response = await client.post("/v1/chat/completions", json=body(messages=messages))
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "Weather in Glasgow?"


async def test_a_deeply_nested_body_is_a_parse_error(client: httpx.AsyncClient) -> None:
    raw = b'{"model": "gpt-4o", "messages": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = await client.post(
        "/v1/chat/completions", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


async def test_an_empty_model_is_a_missing_model(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/chat/completions", json={"model": "", "messages": USER})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "you must provide a model parameter"


@pytest.mark.parametrize("key", ["²", "١٢", "9" * 5000])
async def test_a_logit_bias_key_that_is_not_a_plain_number_is_a_400(chat: ChatClient, key: str) -> None:
    response = await chat.post(USER, logit_bias={key: 1})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "logit_bias"


@pytest.mark.parametrize(
    "fields",
    [
        {
            "tools": [function_tool({"type": "object"})],
            "tool_choice": {"type": "function", "function": {"name": "zzz"}},
        },
        {"functions": [{"name": "f"}], "function_call": {"name": "zzz"}},
        {
            "tools": [function_tool({"type": "object"})],
            "tool_choice": {
                "type": "allowed_tools",
                "allowed_tools": {
                    "mode": "required",
                    "tools": [{"type": "function", "function": {"name": "zzz"}}],
                },
            },
        },
    ],
)
async def test_forcing_a_tool_not_offered_is_a_400(chat: ChatClient, fields: dict[str, Any]) -> None:
    response = await chat.post(USER, **fields)
    assert response.status_code == 400
    assert "zzz" in response.json()["error"]["message"]


async def test_free_form_allowed_tools_entries_are_accepted(chat: ChatClient) -> None:
    choice = {
        "type": "allowed_tools",
        "allowed_tools": {"mode": "auto", "tools": [{"type": "function", "function": "f"}]},
    }
    response = await chat.post(USER, tools=[function_tool({"type": "object"})], tool_choice=choice)
    assert response.status_code == 200


async def test_null_tools_are_accepted_as_no_tools(chat: ChatClient) -> None:
    # crewAI sends `"tools": null`, and the real API answers it (tests/data/usage_corpus.jsonl).
    response = await chat.post(USER, tools=None)
    assert response.status_code == 200, response.text


BREAKPOINT = {"type": "text", "text": "hi", "prompt_cache_breakpoint": {"mode": "explicit"}}


async def test_a_prompt_cache_breakpoint_on_a_text_part_is_accepted(chat: ChatClient) -> None:
    response = await chat.post([{"role": "user", "content": [BREAKPOINT]}])
    assert response.status_code == 200, response.text


async def test_a_prompt_cache_breakpoint_on_a_responses_input_text_is_accepted(
    client: httpx.AsyncClient,
) -> None:
    part = {**BREAKPOINT, "type": "input_text"}
    body = {"model": "gpt-4o", "input": [{"role": "user", "content": [part]}]}
    response = await client.post("/v1/responses", json=body)
    assert response.status_code == 200, response.text
