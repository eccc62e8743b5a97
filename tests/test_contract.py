"""The contract guard: replies the real API could not give fail loudly, naming backend and violation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backends.base import Event, Finish, FunctionCallDelta, TextDelta, ToolCallDelta
from tests.support import sse
from tests.support.backends import ScriptedBackend
from tests.support.requests import chat_client

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "strict": True,
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
            "required": ["city", "days"],
            "additionalProperties": False,
        },
    },
}
TIME = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
}


def call(name: str, arguments: str, index: int = 0) -> list[Event]:
    return [ToolCallDelta(index, "", id=f"call_{index}", name=name), ToolCallDelta(index, arguments)]


VIOLATIONS: list[tuple[str, list[Event], dict[str, Any], str]] = [
    (
        "unoffered-tool",
        call("launch_rockets", "{}"),
        {"tools": [WEATHER]},
        "the reply calls tool 'launch_rockets', which the request did not offer (offered: 'get_weather')",
    ),
    (
        "call-under-none",
        call("get_weather", '{"city": "Paris", "days": 1}'),
        {"tools": [WEATHER], "tool_choice": "none"},
        "the reply calls tool 'get_weather' although tool_choice is 'none'",
    ),
    (
        "wrong-named-tool",
        call("get_time", "{}"),
        {"tools": [WEATHER, TIME], "tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
        "the reply calls tool 'get_time' but tool_choice forces 'get_weather'",
    ),
    (
        "required-but-text",
        [TextDelta("no call")],
        {"tools": [WEATHER], "tool_choice": "required"},
        "tool_choice requires a tool call but the reply has none",
    ),
    (
        "parallel-disabled",
        [*call("get_time", "{}", 0), *call("get_time", "{}", 1)],
        {"tools": [TIME], "parallel_tool_calls": False},
        "more than one tool call although parallel_tool_calls is false",
    ),
    (
        "arguments-not-json",
        call("get_weather", "{city: Paris"),
        {"tools": [WEATHER]},
        "the arguments of tool 'get_weather' are not valid JSON",
    ),
    (
        "arguments-fail-schema",
        call("get_weather", '{"city": "Paris", "days": 0}'),
        {"tools": [WEATHER]},
        "the arguments of tool 'get_weather' fail its parameters schema: 0 is less than the minimum of 1",
    ),
    (
        "arguments-missing-required",
        call("get_weather", '{"city": "Paris"}'),
        {"tools": [WEATHER]},
        "'days' is a required property",
    ),
    (
        "legacy-unoffered",
        [FunctionCallDelta("", "nope"), FunctionCallDelta("{}")],
        {"functions": [WEATHER["function"]]},
        "the reply calls function 'nope', which the request did not offer",
    ),
    (
        "json-object-format",
        [TextDelta("plain words")],
        {"response_format": {"type": "json_object"}},
        "response_format is json_object but the content is not JSON",
    ),
    (
        "json-schema-format",
        [TextDelta('{"answer": "forty-two"}')],
        {
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "answer",
                    "schema": {
                        "type": "object",
                        "properties": {"answer": {"type": "integer"}},
                        "required": ["answer"],
                    },
                },
            }
        },
        "the content fails response_format schema 'answer': 'forty-two' is not of type 'integer'",
    ),
]


@pytest.mark.parametrize(
    ("events", "request_fields", "expected"), [v[1:] for v in VIOLATIONS], ids=[v[0] for v in VIOLATIONS]
)
@pytest.mark.parametrize("stream", [False, True])
async def test_violation_is_labelled_error(
    make_app: Any, events: list[Event], request_fields: dict[str, Any], expected: str, stream: bool
) -> None:
    async with chat_client(make_app(backend=ScriptedBackend([*events, Finish()]))) as chat:
        response = await chat.post(stream=stream, **request_fields)
    if response.status_code == 200:
        # The violation surfaced after the first byte: an error frame, then [DONE].
        assert stream
        frames = sse.data(response.text)
        assert frames[-1] == "[DONE]"
        error = json.loads(frames[-2])["error"]
    else:
        assert response.status_code == 500
        assert response.headers["x-should-retry"] == "false"
        error = response.json()["error"]
    assert error["code"] == "contract_violation"
    assert error["type"] == "server_error"
    assert error["message"].startswith("chatdouble contract violation by backend 'echo': ")
    assert expected in error["message"]


async def test_warn_mode_passes_the_reply_through(make_app: Any, caplog: pytest.LogCaptureFixture) -> None:
    backend = ScriptedBackend([*call("launch_rockets", "{}"), Finish()])
    async with chat_client(make_app(contract="warn", backend=backend)) as chat:
        response = await chat.post(tools=[WEATHER])
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "launch_rockets"
    assert "launch_rockets" in caplog.text


async def test_valid_reply_passes(make_app: Any) -> None:
    backend = ScriptedBackend([*call("get_weather", '{"city": "Oslo", "days": 2}'), Finish()])
    async with chat_client(make_app(backend=backend)) as chat:
        response = await chat.post(tools=[WEATHER], tool_choice="required")
    assert response.status_code == 200
    assert response.json()["choices"][0]["finish_reason"] == "tool_calls"


async def test_truncated_arguments_are_not_a_violation(make_app: Any) -> None:
    backend = ScriptedBackend([*call("get_weather", '{"city": "Oslo", "days": 2}'), Finish()])
    async with chat_client(make_app(backend=backend)) as chat:
        response = await chat.post(tools=[WEATHER], max_tokens=4)
    assert response.status_code == 200
    choice = response.json()["choices"][0]
    assert choice["finish_reason"] == "length"
    assert response.json()["usage"]["completion_tokens"] == 4


@pytest.mark.parametrize(
    "allowed",
    [[], [{"type": "custom", "custom": {"name": "grep"}}]],
    ids=["empty", "no-function"],
)
async def test_required_allowed_tools_that_allow_no_function_do_not_demand_a_call(
    make_app: Any, allowed: list[dict[str, Any]]
) -> None:
    # No call could satisfy both `required` and an allowed set naming no offered function: a text
    # reply is the backend's only answer, not a contract violation (found by schemathesis as a 500).
    choice = {"type": "allowed_tools", "allowed_tools": {"mode": "required", "tools": allowed}}
    async with chat_client(make_app()) as chat:
        response = await chat.post(tools=[WEATHER], tool_choice=choice)
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["finish_reason"] == "stop"


async def test_decimal_multiples_pass_as_json_schema_defines_them(make_app: Any) -> None:
    """0.3 is a multiple of 0.1 in JSON Schema's decimal sense, though 0.3 / 0.1 is not an integer
    in floats: a model answering 0.3 is not a violation."""
    step = {
        "type": "function",
        "function": {
            "name": "dose",
            "parameters": {
                "type": "object",
                "properties": {"ml": {"type": "number", "multipleOf": 0.1}},
                "required": ["ml"],
            },
        },
    }
    async with chat_client(
        make_app(backend=ScriptedBackend([*call("dose", '{"ml": 0.3}'), Finish()]))
    ) as chat:
        response = await chat.post("hi", tools=[step], tool_choice="required")
    assert response.status_code == 200, response.text
    bad = make_app(backend=ScriptedBackend([*call("dose", '{"ml": 0.35}'), Finish()]))
    async with chat_client(bad) as chat:
        refused = await chat.post("hi", tools=[step], tool_choice="required")
    assert refused.status_code == 500
    assert "0.35 is not a multiple of 0.1" in refused.json()["error"]["message"]
