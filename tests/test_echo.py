"""The echo backend's replies honour the request: forced calls, tool_choice, formats, logit_bias."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from server.generation.schemas import validator
from server.generation.tokens import Tokenizer
from tests.support.requests import ChatClient

TOOL = {
    "type": "function",
    "function": {
        "name": "book",
        "strict": True,
        "parameters": {
            "type": "object",
            "properties": {
                "room": {"type": "string", "enum": ["red", "blue"]},
                "nights": {"type": "integer", "minimum": 1, "maximum": 14},
                "guests": {"type": "array", "items": {"$ref": "#/$defs/guest"}, "minItems": 1},
            },
            "required": ["room", "nights", "guests"],
            "additionalProperties": False,
            "$defs": {
                "guest": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "age": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                    },
                    "required": ["name", "age"],
                    "additionalProperties": False,
                }
            },
        },
    },
}
BOOK = "Book me a room"
OTHER = {
    "type": "function",
    "function": {"name": "cancel", "parameters": {"type": "object", "properties": {}}},
}


async def test_required_tool_choice_calls_with_schema_valid_arguments(chat: ChatClient) -> None:
    body = await chat.ask(BOOK, tools=[TOOL, OTHER], tool_choice="required")
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["function"]["name"] == "book"
    assert call["id"].startswith("call_")
    assert len(call["id"]) == len("call_") + 24
    arguments = json.loads(call["function"]["arguments"])
    assert list(Draft202012Validator(TOOL["function"]["parameters"]).iter_errors(arguments)) == []  # type: ignore[index]


async def test_named_tool_choice_calls_exactly_that_tool(chat: ChatClient) -> None:
    named = {"type": "function", "function": {"name": "cancel"}}
    body = await chat.ask(BOOK, tools=[TOOL, OTHER], tool_choice=named)
    assert [c["function"]["name"] for c in body["choices"][0]["message"]["tool_calls"]] == ["cancel"]


async def test_auto_and_none_answer_in_text(chat: ChatClient) -> None:
    for choice in ("auto", "none"):
        body = await chat.ask(BOOK, tools=[TOOL], tool_choice=choice)
        message = body["choices"][0]["message"]
        assert message["content"] == "Book me a room"
        assert "tool_calls" not in message


async def test_legacy_function_call(chat: ChatClient) -> None:
    body = await chat.ask(BOOK, functions=[TOOL["function"]], function_call={"name": "book"})
    choice = body["choices"][0]
    assert choice["finish_reason"] == "function_call"
    assert "tool_calls" not in choice["message"]
    assert choice["message"]["function_call"]["name"] == "book"
    json.loads(choice["message"]["function_call"]["arguments"])


async def test_seed_changes_synthesized_values_deterministically(chat: ChatClient) -> None:
    def arguments(body: dict[str, Any]) -> str:
        return str(body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"])

    first = arguments(await chat.ask(BOOK, tools=[TOOL], tool_choice="required", seed=1))
    again = arguments(await chat.ask(BOOK, tools=[TOOL], tool_choice="required", seed=1))
    other = arguments(await chat.ask(BOOK, tools=[TOOL], tool_choice="required", seed=2))
    assert first == again
    assert first != other


async def test_json_schema_format_validates(chat: ChatClient) -> None:
    schema = TOOL["function"]["parameters"]  # type: ignore[index]
    fmt = {"type": "json_schema", "json_schema": {"name": "booking", "strict": True, "schema": schema}}
    content = (await chat.ask(BOOK, response_format=fmt))["choices"][0]["message"]["content"]
    assert list(Draft202012Validator(schema).iter_errors(json.loads(content))) == []


async def test_logit_bias_minus_100_removes_the_token(chat: ChatClient) -> None:
    tokenizer = Tokenizer.named("o200k_base")
    banned = tokenizer.encode(" room")
    assert len(banned) == 1
    body = await chat.ask(BOOK, logit_bias={str(banned[0]): -100})
    content = body["choices"][0]["message"]["content"]
    assert banned[0] not in tokenizer.encode(content)
    assert content == "Book me a"
    kept = await chat.ask(BOOK, logit_bias={str(banned[0]): -99})
    assert kept["choices"][0]["message"]["content"] == "Book me a room"


async def test_logit_bias_token_must_exist(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/chat/completions",
        json={"model": "gpt-4", "messages": [{"role": "user", "content": "x"}], "logit_bias": {"100277": 5}},
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "logit_bias"
    assert "100277" in response.json()["error"]["message"]


async def test_strict_schema_behind_a_top_level_ref(chat: ChatClient) -> None:
    parameters = {
        "$ref": "#/$defs/query",
        "$defs": {
            "query": {
                "type": "object",
                "properties": {"q": {"type": "string", "pattern": "^[a-z]{3}-[0-9]{2}$"}},
                "required": ["q"],
                "additionalProperties": False,
            }
        },
    }
    strict_tool = {
        "type": "function",
        "function": {"name": "search", "strict": True, "parameters": parameters},
    }
    body = await chat.ask(BOOK, tools=[strict_tool], tool_choice="required")
    arguments = json.loads(body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"])
    assert list(Draft202012Validator(parameters).iter_errors(arguments)) == []


def called(*names: str) -> list[dict[str, Any]]:
    """A history in which the assistant has called `names`, each answered by its tool result."""
    calls = [
        {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": "{}"}}
        for i, name in enumerate(names)
    ]
    results = [{"role": "tool", "tool_call_id": c["id"], "content": "done"} for c in calls]
    return [
        {"role": "user", "content": "Book me a room"},
        {"role": "assistant", "tool_calls": calls},
        *results,
    ]


def called_name(body: dict[str, Any]) -> str:
    (call,) = body["choices"][0]["message"]["tool_calls"]
    return str(call["function"]["name"])


async def test_required_calls_the_first_tool_the_conversation_has_not_called(
    chat: ChatClient,
) -> None:
    body = await chat.ask(called("book"), tools=[TOOL, OTHER], tool_choice="required")
    assert called_name(body) == "cancel"


async def test_required_falls_back_to_the_first_tool_once_all_were_called(chat: ChatClient) -> None:
    body = await chat.ask(called("cancel", "book"), tools=[TOOL, OTHER], tool_choice="required")
    assert called_name(body) == "book"


async def test_required_allowed_tools_prefer_an_uncalled_allowed_tool(chat: ChatClient) -> None:
    third = {"type": "function", "function": {"name": "extend", "parameters": {"type": "object"}}}
    allowed = {
        "type": "allowed_tools",
        "allowed_tools": {
            "mode": "required",
            "tools": [{"type": "function", "function": {"name": n}} for n in ("book", "extend")],
        },
    }
    body = await chat.ask(called("book"), tools=[TOOL, OTHER, third], tool_choice=allowed)
    assert called_name(body) == "extend"


async def test_a_named_tool_choice_is_called_again_even_when_already_called(
    chat: ChatClient,
) -> None:
    named = {"type": "function", "function": {"name": "book"}}
    body = await chat.ask(called("book"), tools=[TOOL, OTHER], tool_choice=named)
    assert called_name(body) == "book"


async def test_an_agent_loop_under_required_ends_on_its_output_tool(chat: ChatClient) -> None:
    """pydantic-ai with structured output keeps tool_choice "required" on every turn and offers its
    output tool after the function tools; the run ends when the output tool is called."""
    output = {"type": "function", "function": {"name": "final_result", "parameters": {"type": "object"}}}
    messages: list[dict[str, Any]] = [{"role": "user", "content": BOOK}]
    names: list[str] = []
    while len(names) < 5 and "final_result" not in names:
        body = await chat.ask(messages, tools=[TOOL, output], tool_choice="required")
        message = body["choices"][0]["message"]
        names.append(called_name(body))
        messages.append(message)
        messages.extend(
            {"role": "tool", "tool_call_id": c["id"], "content": "ok"} for c in message["tool_calls"]
        )
    assert names == ["book", "final_result"]


def _nested(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"inner": schema}, "required": ["inner"]}
    return schema


# OpenAI's own recursive UI schema, from the Structured Outputs guide.
UI_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": ["div", "button", "header", "section", "field", "form"]},
        "label": {"type": "string"},
        "children": {"type": "array", "items": {"$ref": "#"}},
        "attributes": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
                "additionalProperties": False,
                "required": ["name", "value"],
            },
        },
    },
    "required": ["type", "label", "children", "attributes"],
    "additionalProperties": False,
}
HARD_SCHEMAS: dict[str, dict[str, Any]] = {
    "ref-to-root": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "parent": {"$ref": "#"}},
        "required": ["name"],
        "additionalProperties": False,
    },
    "defs-refer-to-themselves": {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {"value": {"type": "integer"}, "next": {"$ref": "#/$defs/node"}},
                "required": ["value"],
                "additionalProperties": False,
            },
            "chain": {
                "type": "object",
                "properties": {"link": {"anyOf": [{"$ref": "#/$defs/chain"}, {"type": "null"}]}},
                "required": ["link"],
            },
        },
        "type": "object",
        "properties": {"head": {"$ref": "#/$defs/node"}, "chain": {"$ref": "#/$defs/chain"}},
        "required": ["head", "chain"],
    },
    "recursive-ui": UI_SCHEMA,
    "forty-levels": _nested(40),
    "fractional-multiple": {
        "type": "object",
        "properties": {"x": {"type": "number", "multipleOf": 0.1, "minimum": 0.25, "maximum": 0.35}},
        "required": ["x"],
    },
    "pattern-and-min-length": {
        "type": "object",
        "properties": {"code": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]+$", "minLength": 12}},
        "required": ["code"],
    },
    "unique-items": {
        "type": "object",
        "properties": {
            "ids": {
                "type": "array",
                "items": {"type": "integer", "minimum": 1, "maximum": 40},
                "minItems": 30,
                "uniqueItems": True,
            }
        },
        "required": ["ids"],
    },
    "not": {
        "type": "object",
        "properties": {
            "word": {"type": "string", "not": {"enum": ["word", "value"]}},
            "any": {"not": {"type": "string"}},
        },
        "required": ["word", "any"],
    },
    "if-then-else": {
        "type": "object",
        "properties": {
            "kind": {"enum": ["card", "cash"]},
            "number": {"type": "string", "pattern": "^[0-9]{16}$"},
        },
        "required": ["kind"],
        "if": {"properties": {"kind": {"const": "card"}}},
        "then": {"required": ["number"]},
        "else": {"not": {"required": ["number"]}},
    },
    "contains": {
        "type": "object",
        "properties": {
            "xs": {
                "type": "array",
                "items": {"type": "integer"},
                "contains": {"minimum": 10},
                "minContains": 2,
                "maxContains": 2,
            }
        },
        "required": ["xs"],
    },
}


@pytest.mark.parametrize("schema", HARD_SCHEMAS.values(), ids=HARD_SCHEMAS.keys())
@pytest.mark.parametrize("seed", [0, 7])
async def test_forced_calls_satisfy_every_schema_the_api_accepts(
    chat: ChatClient, schema: dict[str, Any], seed: int
) -> None:
    tool = {"type": "function", "function": {"name": "act", "parameters": schema}}
    body = await chat.ask(tools=[tool], tool_choice="required", seed=seed)
    arguments = json.loads(body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"])
    assert list(validator(schema).iter_errors(arguments)) == []


@pytest.mark.parametrize("schema", HARD_SCHEMAS.values(), ids=HARD_SCHEMAS.keys())
async def test_json_schema_content_satisfies_every_schema_the_api_accepts(
    chat: ChatClient, schema: dict[str, Any]
) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "out", "schema": schema}}
    content = (await chat.ask(response_format=fmt, stream=False))["choices"][0]["message"]["content"]
    assert list(validator(schema).iter_errors(json.loads(content))) == []


async def test_recursion_ends_at_its_cheapest_instance(chat: ChatClient) -> None:
    tool = {"type": "function", "function": {"name": "ui", "parameters": UI_SCHEMA}}
    body = await chat.ask(tools=[tool], tool_choice="required")
    arguments = json.loads(body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"])

    def depth(node: dict[str, Any]) -> int:
        return 1 + max((depth(child) for child in node["children"]), default=0)

    assert depth(arguments) <= 3  # one example of a child, then the empty array that ends it
