"""Inputs a review found giving a 500, a hang or a wrong count; each now has a defined answer."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

USER = [{"role": "user", "content": "hi"}]


def tool(parameters: Any, name: str = "f") -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": parameters}}


async def post(client: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    return await client.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": USER, **fields})


async def test_remote_ref_is_refused_without_fetching(client: httpx.AsyncClient) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/schema.json"
    try:
        schema = {"type": "object", "properties": {"a": {"$ref": url}}, "required": ["a"]}
        response = await post(client, tools=[tool(schema)], tool_choice="required")
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
async def test_invalid_schemas_are_400(client: httpx.AsyncClient, parameters: Any) -> None:
    response = await post(client, tools=[tool(parameters)], tool_choice="required")
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
    client: httpx.AsyncClient, schema: dict[str, Any], named: str
) -> None:
    response = await post(client, tools=[tool(schema)], tool_choice="required", max_tokens=5)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_function_parameters"
    assert error["param"] == "tools[0].function.parameters"
    assert error["message"].startswith("Invalid schema for function 'f': ")
    assert named in error["message"]
    fmt = {"type": "json_schema", "json_schema": {"name": "out", "schema": schema}}
    response = await post(client, response_format=fmt)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_json_schema"
    assert named in response.json()["error"]["message"]


async def test_top_logprobs_never_fail_or_show_special_tokens(client: httpx.AsyncClient) -> None:
    for text in ("a,N", " தே", "hello"):
        body = {
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": text}],
            "logprobs": True,
            "top_logprobs": 20,
        }
        response = await client.post("/v1/chat/completions", json=body)
        assert response.status_code == 200
        tokens = [
            alt["token"]
            for e in response.json()["choices"][0]["logprobs"]["content"]
            for alt in e["top_logprobs"]
        ]
        assert len(tokens) % 20 == 0
        assert not any(t.startswith("<|") and t.endswith("|>") for t in tokens)


@pytest.mark.parametrize("key", ["²", "١٢", "9" * 5000])
async def test_odd_logit_bias_keys_are_400(client: httpx.AsyncClient, key: str) -> None:
    response = await post(client, logit_bias={key: 1})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "logit_bias"


@pytest.mark.parametrize(
    "fields",
    [
        {
            "tools": [tool({"type": "object"})],
            "tool_choice": {"type": "function", "function": {"name": "zzz"}},
        },
        {"functions": [{"name": "f"}], "function_call": {"name": "zzz"}},
        {
            "tools": [tool({"type": "object"})],
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
async def test_forcing_a_tool_not_offered_is_400(client: httpx.AsyncClient, fields: dict[str, Any]) -> None:
    response = await post(client, **fields)
    assert response.status_code == 400
    assert "zzz" in response.json()["error"]["message"]


async def test_free_form_allowed_tools_entries_do_not_crash(client: httpx.AsyncClient) -> None:
    choice = {
        "type": "allowed_tools",
        "allowed_tools": {"mode": "auto", "tools": [{"type": "function", "function": "f"}]},
    }
    response = await post(client, tools=[tool({"type": "object"})], tool_choice=choice)
    assert response.status_code == 200


async def test_deeply_nested_body_is_a_parse_error(client: httpx.AsyncClient) -> None:
    raw = b'{"model": "gpt-4o", "messages": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = await client.post(
        "/v1/chat/completions", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


async def test_trailing_slash_is_invalid_url(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/chat/completions/", json={"model": "gpt-4o", "messages": USER})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Invalid URL (POST /v1/chat/completions/)"


async def test_empty_model_is_missing_model(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/chat/completions", json={"model": "", "messages": USER})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "you must provide a model parameter"
