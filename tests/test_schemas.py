"""JSON Schemas carried by a request (tool parameters) are checked once and never fetched.

Proven: a remote `$ref` is refused with the real API's error and no connection is made; a schema that
is not a valid JSON Schema is a 400 naming the function's parameters, never a 500.
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
