"""JSON Schemas carried by a request (tool parameters) are checked once and never fetched.

Proven: a remote `$ref` is refused with the real API's error and no connection is made; a schema that
is not a valid JSON Schema is a 400 naming the function's parameters, never a 500; and a schema no
value can satisfy within the server's caps is a 400 naming the constraint, for tools and response
formats alike.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from tests.support.requests import ChatClient, function_tool


async def test_a_remote_ref_is_refused_without_fetching_it(chat: ChatClient) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/schema.json"
    try:
        schema = {"type": "object", "properties": {"a": {"$ref": url}}, "required": ["a"]}
        response = await chat.post("hi", tools=[function_tool(schema)], tool_choice="required")
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected: the schema was never fetched
    finally:
        listener.close()
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_function_parameters"
    assert error["param"] == "tools[0].function.parameters"
    assert url in error["message"]


@pytest.mark.parametrize(
    "parameters",
    [
        {"type": "object", "properties": {"a": {"type": "string", "minLength": "x"}}},
        {"type": "object", "properties": "abc"},
        {"type": "object", "required": 5},
        {"type": "foo"},
        {"anyOf": 5},
    ],
)
async def test_an_invalid_parameters_schema_is_a_400(chat: ChatClient, parameters: Any) -> None:
    response = await chat.post("hi", tools=[function_tool(parameters)], tool_choice="required")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_function_parameters"


def _required(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties)}


def _nested(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = _required(inner=schema)
    return schema


IMPOSSIBLE = {
    "min-items-past-cap": (
        _required(xs={"type": "array", "minItems": 10**9}),
        "'minItems' at '#/properties/xs' is 1000000000",
    ),
    "min-length-past-cap": (
        _required(s={"type": "string", "minLength": 10**6}),
        "'minLength' at '#/properties/s' is 1000000",
    ),
    "min-properties-past-cap": (
        _required(o={"type": "object", "minProperties": 5000}),
        "'minProperties' at '#/properties/o'",
    ),
    "deeper-than-cap": (_nested(70), "nested deeper than 64 levels"),
    "empty-range": (
        _required(n={"type": "integer", "minimum": 5, "maximum": 3}),
        "'minimum' 5 and 'maximum' 3",
    ),
    "no-multiple-in-range": (
        _required(x={"type": "number", "multipleOf": 0.1, "minimum": 0.25, "maximum": 0.29}),
        "'multipleOf' 0.1",
    ),
    "too-few-distinct": (
        _required(flags={"type": "array", "items": {"type": "boolean"}, "minItems": 3, "uniqueItems": True}),
        "'uniqueItems' at '#/properties/flags'",
    ),
    "false-schema": (_required(a=False), "'#/properties/a' is false"),
    "bare-self-ref": ({"$ref": "#"}, "'$ref' at '#' leads back to itself"),
    "required-self-ref": (_required(parent={"$ref": "#"}), "only recurses"),
    "pattern-within-max-length": (
        _required(s={"type": "string", "pattern": "^[0-9]{5}$", "maxLength": 3}),
        "'pattern'",
    ),
    "not-everything": (_required(a={"not": {}}), "'not' at '#/properties/a'"),
}


@pytest.mark.parametrize(("schema", "named"), IMPOSSIBLE.values(), ids=IMPOSSIBLE.keys())
async def test_unsatisfiable_or_oversized_schemas_are_400_naming_the_constraint(
    chat: ChatClient, schema: dict[str, Any], named: str
) -> None:
    response = await chat.post("hi", tools=[function_tool(schema)], tool_choice="required", max_tokens=5)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_function_parameters"
    assert error["param"] == "tools[0].function.parameters"
    assert error["message"].startswith("Invalid schema for function 'f': ")
    assert named in error["message"]
    fmt = {"type": "json_schema", "json_schema": {"name": "out", "schema": schema}}
    response = await chat.post("hi", response_format=fmt)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_json_schema"
    assert named in response.json()["error"]["message"]
