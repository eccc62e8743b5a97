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


async def test_huge_requested_sizes_are_capped(client: httpx.AsyncClient) -> None:
    schema = {
        "type": "object",
        "properties": {"s": {"type": "string", "minLength": 10_000_000}},
        "required": ["s"],
    }
    response = await post(client, tools=[tool(schema)], tool_choice="required", max_tokens=5)
    assert response.status_code == 200
    assert len(response.content) < 100_000


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
