"""What a Responses request asks for, the reply honours: `text.format` json_schema content valid
against its schema, `tool_choice` required and named, function tools strict unless they say
otherwise, usage equal to `POST /v1/responses/input_tokens` for the same input, and `store: false`.
Every body is validated strictly against the SDK's `Response`."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema
import pytest

from tests.support.contract import ORDER, WEATHER
from tests.support.responses import PATH, stream_events, validate_response

PROMPT = "What is the weather like in Paris?"
TOOLS: list[dict[str, Any]] = [
    {"type": "function", "name": "get_weather", "parameters": WEATHER},
    {"type": "function", "name": "lookup_order", "parameters": ORDER, "description": "An order."},
]


async def create(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post(PATH, json={"model": "gpt-4o", "input": PROMPT, **fields})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    validate_response(body)
    return body


def valid(schema: dict[str, Any], value: Any) -> None:
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    jsonschema.Draft202012Validator(schema, format_checker=checker).validate(value)


@pytest.mark.parametrize("stream", [False, True])
async def test_json_schema_format_gives_content_valid_against_the_schema(
    client: httpx.AsyncClient, stream: bool
) -> None:
    fmt = {"type": "json_schema", "name": "weather", "schema": WEATHER, "strict": True}
    response = await client.post(
        PATH, json={"model": "gpt-4o", "input": PROMPT, "text": {"format": fmt}, "stream": stream}
    )
    final = stream_events(response.content)[-1]["response"] if stream else response.json()
    [message] = final["output"]
    valid(WEATHER, json.loads(message["content"][0]["text"]))
    assert final["text"]["format"] == {
        "type": "json_schema",
        "description": None,
        "name": "weather",
        "schema": WEATHER,
        "strict": True,
    }


async def test_required_tool_choice_calls_an_offered_function(client: httpx.AsyncClient) -> None:
    body = await create(client, tools=TOOLS, tool_choice="required")
    [call] = body["output"]
    assert call["type"] == "function_call"
    assert call["name"] == "get_weather"
    valid(WEATHER, json.loads(call["arguments"]))
    assert body["tool_choice"] == "required"


async def test_a_named_tool_choice_calls_that_function(client: httpx.AsyncClient) -> None:
    choice = {"type": "function", "name": "lookup_order"}
    body = await create(client, tools=TOOLS, tool_choice=choice)
    [call] = body["output"]
    assert call["name"] == "lookup_order"
    valid(ORDER, json.loads(call["arguments"]))
    assert body["tool_choice"] == choice


async def test_tool_choice_none_answers_in_text(client: httpx.AsyncClient) -> None:
    body = await create(client, tools=TOOLS, tool_choice="none")
    [message] = body["output"]
    assert message["type"] == "message"


async def test_function_tools_are_strict_unless_they_say_otherwise(client: httpx.AsyncClient) -> None:
    loose = {"type": "object", "properties": {"city": {"type": "string"}}}
    tools = [*TOOLS, {"type": "function", "name": "loose", "parameters": loose, "strict": False}]
    body = await create(client, tools=tools)
    assert [tool["strict"] for tool in body["tools"]] == [True, True, False]
    assert body["tools"][1] == {
        "type": "function",
        "description": "An order.",
        "name": "lookup_order",
        "output_schema": None,
        "parameters": ORDER,
        "strict": True,
    }


async def test_a_strict_tool_whose_schema_strict_mode_cannot_take_is_refused(
    client: httpx.AsyncClient,
) -> None:
    loose = {"type": "object", "properties": {"city": {"type": "string"}}}
    tools = [{"type": "function", "name": "loose", "parameters": loose, "strict": True}]
    response = await client.post(PATH, json={"model": "gpt-4o", "input": PROMPT, "tools": tools})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"].startswith("Invalid schema for function 'loose':")
    assert error["param"] == "tools[0].parameters"
    assert error["code"] == "invalid_function_parameters"


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"instructions": "Answer in French."},
        {"tools": TOOLS},
        {"input": [{"role": "developer", "content": "Be terse."}, {"role": "user", "content": PROMPT}]},
    ],
    ids=["string", "instructions", "tools", "messages"],
)
async def test_usage_input_tokens_equal_the_input_tokens_endpoint(
    client: httpx.AsyncClient, fields: dict[str, Any]
) -> None:
    body = await create(client, **fields)
    counted = await client.post(f"{PATH}/input_tokens", json={"model": "gpt-4o", "input": PROMPT, **fields})
    assert counted.status_code == 200
    assert counted.json() == {
        "object": "response.input_tokens",
        "input_tokens": body["usage"]["input_tokens"],
    }
    usage = body["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


async def test_a_response_with_store_false_is_not_kept(client: httpx.AsyncClient) -> None:
    body = await create(client, store=False)
    assert body["store"] is False
    for path in (f"{PATH}/{body['id']}", f"{PATH}/{body['id']}/input_items"):
        response = await client.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["message"] == f"Response with id '{body['id']}' not found."
    chained = await client.post(
        PATH, json={"model": "gpt-4o", "input": "again", "previous_response_id": body["id"]}
    )
    assert chained.status_code == 400
    assert chained.json()["error"]["code"] == "previous_response_not_found"


async def test_unknown_ids_are_404_in_the_apis_words(client: httpx.AsyncClient) -> None:
    for method in ("GET", "DELETE"):
        response = await client.request(method, f"{PATH}/resp_123")
        assert response.status_code == 404
        assert response.json() == {
            "error": {
                "message": "Response with id 'resp_123' not found.",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        }


@pytest.mark.parametrize("stream", [False, True])
async def test_a_reasoning_model_asked_for_a_summary_gives_one(
    client: httpx.AsyncClient, stream: bool
) -> None:
    response = await client.post(
        PATH, json={"model": "o4-mini", "input": "Hi", "reasoning": {"summary": "auto"}, "stream": stream}
    )
    assert response.status_code == 200, response.text
    if stream:
        events = stream_events(response.content)
        kinds = [event["type"] for event in events]
        assert kinds.index("response.reasoning_summary_text.done") < kinds.index("response.output_text.delta")
        final = events[-1]["response"]
    else:
        final = response.json()
    validate_response(final, whole=not stream)
    reasoning, message = final["output"]
    assert reasoning["type"] == "reasoning"
    assert reasoning["summary"] == [
        {
            "type": "summary_text",
            "text": "**Echoing the request**\n\nThe reply repeats the last user message.",
        }
    ]
    assert message["content"][0]["text"] == "Hi"


async def test_a_reasoning_model_not_asked_for_a_summary_gives_an_empty_one(
    client: httpx.AsyncClient,
) -> None:
    final = await create(client, model="o4-mini")
    assert final["output"][0]["type"] == "reasoning"
    assert final["output"][0]["summary"] == []


async def test_a_summary_is_not_invented_for_a_model_that_does_not_reason(client: httpx.AsyncClient) -> None:
    final = await create(client, reasoning={"summary": "auto"})
    assert [item["type"] for item in final["output"]] == ["message"]
