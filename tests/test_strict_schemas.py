"""Schemas sent with `strict: true` meet the real API's Structured Outputs limits: closed objects
with every property required, no unsupported keywords or formats, at most 10 levels of nesting,
5000 properties, 1000 enum values. A refusal is the API's 400 in its words, for tools and for
`response_format` alike; a schema within the limits is answered with a value that satisfies it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from server.generation.schemas import validator

USER = [{"role": "user", "content": "hi"}]


def closed(**properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def nested(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels - 1):
        schema = closed(inner=schema)
    return closed(inner=schema)


REFUSED = {
    "open-object": (
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
        "In context=(), 'additionalProperties' is required to be supplied and to be false.",
    ),
    "optional-property": (
        {
            "type": "object",
            "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
            "required": ["a"],
            "additionalProperties": False,
        },
        "In context=(), 'required' is required to be supplied and to be an array including every key in properties. Missing 'b'.",
    ),
    "nested-open-object": (
        closed(item={"type": "object", "properties": {}}),
        "In context=('properties', 'item'), 'additionalProperties' is required to be supplied and to be false.",
    ),
    "unique-items": (
        closed(ids={"type": "array", "items": {"type": "string"}, "uniqueItems": True}),
        "In context=('properties', 'ids'), 'uniqueItems' is not permitted.",
    ),
    "not": (
        closed(a={"type": "string", "not": {"const": "x"}}),
        "In context=('properties', 'a'), 'not' is not permitted.",
    ),
    "all-of": (
        closed(a={"allOf": [{"type": "string"}]}),
        "In context=('properties', 'a'), 'allOf' is not permitted.",
    ),
    "if": ({**closed(a={"type": "string"}), "if": {}}, "In context=(), 'if' is not permitted."),
    "format": (
        closed(url={"type": "string", "format": "uri"}),
        "In context=('properties', 'url'), 'uri' is not a valid format.",
    ),
    "eleven-levels": (nested(11), "11 levels of nesting exceeds limit of 10."),
    "too-many-properties": (
        closed(**{f"k{i}": closed(**{f"p{j}": {"type": "string"} for j in range(100)}) for i in range(51)}),
        "5151 object properties exceeds limit of 5000.",
    ),
    "too-many-enum-values": (
        closed(
            a={"type": "integer", "enum": list(range(600))}, b={"type": "integer", "enum": list(range(600))}
        ),
        "1200 enum values exceeds limit of 1000.",
    ),
}


def strict_tool(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function", "function": {"name": "f", "strict": True, "parameters": schema}}


@pytest.mark.parametrize(("schema", "message"), REFUSED.values(), ids=REFUSED.keys())
async def test_strict_tool_schemas_past_the_limits_are_refused_in_the_apis_words(
    client: httpx.AsyncClient, schema: dict[str, Any], message: str
) -> None:
    body = {"model": "gpt-4o", "messages": USER, "tools": [strict_tool(schema)]}
    response = await client.post("/v1/chat/completions", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == {
        "message": f"Invalid schema for function 'f': {message}",
        "type": "invalid_request_error",
        "param": "tools[0].function.parameters",
        "code": "invalid_function_parameters",
    }


@pytest.mark.parametrize(("schema", "message"), REFUSED.values(), ids=REFUSED.keys())
async def test_strict_response_formats_past_the_limits_are_refused_in_the_apis_words(
    client: httpx.AsyncClient, schema: dict[str, Any], message: str
) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "out", "strict": True, "schema": schema}}
    response = await client.post(
        "/v1/chat/completions", json={"model": "gpt-4o", "messages": USER, "response_format": fmt}
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["message"] == f"Invalid schema for response_format 'out': {message}"
    assert error["code"] == "invalid_json_schema"


@pytest.mark.parametrize(("schema", "message"), REFUSED.values(), ids=REFUSED.keys())
async def test_the_same_schemas_without_strict_are_answered(
    client: httpx.AsyncClient, schema: dict[str, Any], message: str
) -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": schema}}
    # A local model name: gpt-4o would cut the largest arguments at its 16,384-token output cap.
    response = await client.post(
        "/v1/chat/completions",
        json={"model": "local-model", "messages": USER, "tools": [tool], "tool_choice": "required"},
    )
    assert response.status_code == 200, response.text
    arguments = json.loads(response.json()["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"])
    assert list(validator(schema).iter_errors(arguments)) == []


async def test_a_strict_schema_at_the_limits_is_answered(client: httpx.AsyncClient) -> None:
    schema = {**nested(10), "$defs": {"pick": {"type": "string", "enum": [f"v{i}" for i in range(1000)]}}}
    schema["properties"] = {**schema["properties"], "choice": {"$ref": "#/$defs/pick"}}
    schema["required"] = [*schema["required"], "choice"]
    fmt = {"type": "json_schema", "json_schema": {"name": "out", "strict": True, "schema": schema}}
    response = await client.post(
        "/v1/chat/completions", json={"model": "gpt-4o", "messages": USER, "response_format": fmt}
    )
    assert response.status_code == 200, response.text
    content = json.loads(response.json()["choices"][0]["message"]["content"])
    assert list(validator(schema).iter_errors(content)) == []
