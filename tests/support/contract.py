"""Helpers for the SDK contract tests: strict validation of raw bodies and chunks against the SDK's
own models, SSE framing and the chunk-order rules every OpenAI stream follows.

The SDK's pydantic models accept unknown keys silently, so `assert_known_keys` walks the raw JSON
beside the validated model and fails on any key the SDK does not declare: that is what catches drift.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from openai import APIStatusError
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from pydantic import BaseModel

from tests.support import sse

API_KEY = "sk-test"
RIGHT_KEY = "sk-contract-right-key-0123456789"
MODEL = "gpt-4o"
# Non-ASCII on purpose: a piece boundary inside a multi-byte character would corrupt the text.
PROMPT = "Héllo, wörld! Streams split text into token pieces — 你好 👋🏽 — and join them back."
MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": PROMPT},
]

WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 2},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 14},
        "threshold": {"type": "number", "exclusiveMinimum": 0.5, "maximum": 10},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "when": {
            "type": "object",
            "properties": {"date": {"type": "string", "format": "date"}, "exact": {"type": "boolean"}},
            "required": ["date", "exact"],
            "additionalProperties": False,
        },
        "note": {"type": ["string", "null"]},
    },
    "required": ["city", "unit", "days", "threshold", "tags", "when", "note"],
    "additionalProperties": False,
}
ORDER = {
    "type": "object",
    "properties": {
        "order": {"$ref": "#/$defs/order"},
        "priority": {"anyOf": [{"type": "integer", "minimum": 3}, {"type": "null"}]},
    },
    "required": ["order", "priority"],
    "additionalProperties": False,
    "$defs": {
        "order": {
            "type": "object",
            "properties": {
                "id": {"type": "string", "minLength": 5, "maxLength": 12},
                "qty": {"type": "integer", "minimum": 1, "multipleOf": 2},
            },
            "required": ["id", "qty"],
            "additionalProperties": False,
        }
    },
}
PARAMETERS = {"get_weather": WEATHER, "lookup_order": ORDER}
FUNCTIONS: list[dict[str, Any]] = [
    {"name": name, "description": f"The {name} function.", "parameters": schema, "strict": True}
    for name, schema in PARAMETERS.items()
]
TOOLS: list[dict[str, Any]] = [{"type": "function", "function": fn} for fn in FUNCTIONS]
# The legacy `functions` parameter has no `strict`.
LEGACY_FUNCTIONS = [{key: value for key, value in fn.items() if key != "strict"} for fn in FUNCTIONS]
# tool_choice values and the function each one forces: a named choice must win over the first tool.
TOOL_CHOICES: dict[str, Any] = {
    "required": ("required", {"get_weather", "lookup_order"}),
    "named": ({"type": "function", "function": {"name": "lookup_order"}}, {"lookup_order"}),
}


# ---------------------------------------------------------------- strict validation


def assert_known_keys(
    raw: Any, model: Any, path: str = "$", undeclared: Mapping[str, frozenset[str]] | None = None
) -> None:
    """Every key of `raw` is a field the SDK declares on the model it validated into, at every level;
    `undeclared` names, by model class, keys the real API sends that the SDK leaves out."""
    if isinstance(model, BaseModel):
        assert isinstance(raw, dict), f"{path}: expected an object, got {raw!r}"
        fields = type(model).model_fields
        known = {info.alias or name for name, info in fields.items()}
        allowed = (undeclared or {}).get(type(model).__name__, frozenset())
        unknown = sorted(set(raw) - known - allowed)
        assert not unknown, f"{path}: keys the SDK's {type(model).__name__} does not declare: {unknown}"
        for name, info in fields.items():
            key = info.alias or name
            if key in raw:
                assert_known_keys(raw[key], getattr(model, name), f"{path}.{key}", undeclared)
    elif isinstance(model, list):
        assert isinstance(raw, list), path
        assert len(raw) == len(model), path
        for index, (raw_item, item) in enumerate(zip(raw, model, strict=True)):
            assert_known_keys(raw_item, item, f"{path}[{index}]", undeclared)
    elif isinstance(model, dict):
        assert isinstance(raw, dict), path
        assert set(raw) == set(model), path
        for key, value in model.items():
            assert_known_keys(raw[key], value, f"{path}.{key}", undeclared)


def validate_completion(raw: dict[str, Any]) -> ChatCompletion:
    completion = ChatCompletion.model_validate(raw, strict=True)
    assert_known_keys(raw, completion)
    assert raw["object"] == "chat.completion"
    assert raw["id"].startswith("chatcmpl-")
    return completion


def validate_chunk(raw: dict[str, Any]) -> ChatCompletionChunk:
    chunk = ChatCompletionChunk.model_validate(raw, strict=True)
    assert_known_keys(raw, chunk)
    assert raw["object"] == "chat.completion.chunk"
    assert raw["id"].startswith("chatcmpl-")
    return chunk


def sse_chunks(body: bytes) -> list[dict[str, Any]]:
    """The chunks of a stream framed as OpenAI frames it: `data: <json>\\n\\n` frames, then `data: [DONE]`.

    Every chunk is validated strictly against the SDK's model.
    """
    chunks: list[dict[str, Any]] = []
    for payload in sse.openai_stream(body)[:-1]:
        chunk = json.loads(payload)
        validate_chunk(chunk)
        chunks.append(chunk)
    assert chunks, "a stream has at least one chunk"
    return chunks


def check_headers(headers: Any) -> str:
    """The headers the SDKs read; returns the request id."""
    request_id = headers["x-request-id"]
    assert request_id.startswith("req_")
    assert len(request_id) > len("req_")
    assert headers["openai-version"]
    assert headers["openai-processing-ms"].isdigit()
    return str(request_id)


def completion_from_raw(raw_response: Any) -> tuple[dict[str, Any], ChatCompletion]:
    """The raw JSON and the SDK's parsed object of a `with_raw_response` call, both checked."""
    data: dict[str, Any] = json.loads(raw_response.http_response.content)
    validate_completion(data)
    parsed = raw_response.parse()
    assert isinstance(parsed, ChatCompletion)
    assert parsed.to_dict() == data, "the SDK's object must round-trip the body"
    assert parsed._request_id == check_headers(raw_response.headers)
    return data, parsed


def check_arguments(name: str, arguments: str) -> Any:
    """Arguments are JSON and valid under the function's JSON Schema (formats included)."""
    schema = PARAMETERS[name]
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    value = json.loads(arguments)
    validator.validate(value)
    return value


def check_forced_calls(completion: ChatCompletion, names: set[str]) -> None:
    """Every choice made one schema-valid call to one of `names`, and every call has its own id."""
    ids = set()
    for choice in completion.choices:
        assert choice.finish_reason == "tool_calls"
        assert choice.message.content is None
        [call] = choice.message.tool_calls or []
        assert call.type == "function"
        assert call.id.startswith("call_")
        assert call.function.name in names
        check_arguments(call.function.name, call.function.arguments)
        ids.add(call.id)
    assert len(ids) == len(completion.choices), "every call has its own id"


def check_error(exc: APIStatusError, status: int, code: str | None, param: str | None = None) -> None:
    assert exc.status_code == status
    assert exc.code == code
    assert exc.param == param
    assert exc.type == "invalid_request_error"
    assert isinstance(exc.body, dict)
    assert set(exc.body) == {"message", "type", "param", "code"}
    assert exc.message
    assert str(exc.body["message"]) in str(exc)
    assert exc.request_id is not None
    assert exc.request_id.startswith("req_")


# ---------------------------------------------------------------- stream rules


@dataclass
class Assembled:
    """One choice of a stream, put back together from its deltas."""

    content: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    function_call: dict[str, str] | None = None
    finish_reason: str | None = None


def check_stream(chunks: list[dict[str, Any]], *, n: int = 1, include_usage: bool = False) -> list[Assembled]:
    """Apply the rules of OpenAI's chunk stream and return each choice assembled.

    Shared head on every chunk; one choice per chunk; each choice opens with a role chunk and never
    repeats role, a call's id/type/name or a function_call's name; finish chunks have an empty delta
    and come after every content chunk; `usage` is null on every chunk and set on a final chunk with
    no choices when asked for, and absent otherwise.
    """
    head = {key: chunks[0][key] for key in ("id", "created", "model", "service_tier", "system_fingerprint")}
    for chunk in chunks:
        assert {key: chunk[key] for key in head} == head
    body = chunks
    if include_usage:
        *body, last = chunks
        assert last["choices"] == []
        assert isinstance(last["usage"], dict)
        assert all("usage" in chunk and chunk["usage"] is None for chunk in body)
    else:
        assert all("usage" not in chunk for chunk in chunks)
    choices: dict[int, Assembled] = {}
    content_at: list[int] = []
    finish_at: list[int] = []
    for position, chunk in enumerate(body):
        assert len(chunk["choices"]) == 1, "one choice per chunk"
        choice = chunk["choices"][0]
        index, delta = choice["index"], choice["delta"]
        assert 0 <= index < n
        assert choice["logprobs"] is None
        state = choices.get(index)
        assert state is None or state.finish_reason is None, f"choice {index} continues after its finish"
        if state is None:
            assert delta.get("role") == "assistant", f"choice {index} must open with a role chunk: {delta}"
            state = choices[index] = Assembled()
        else:
            assert "role" not in delta, f"role repeated for choice {index}"
        if choice["finish_reason"] is not None:
            assert delta == {}, f"a finish chunk has an empty delta, not {delta}"
            state.finish_reason = choice["finish_reason"]
            finish_at.append(position)
            continue
        content_at.append(position)
        _add_delta(state, delta)
    assert sorted(choices) == list(range(n))
    assert all(state.finish_reason for state in choices.values()), "every choice finishes"
    assert not content_at or not finish_at or max(content_at) < min(finish_at), "finishes come last"
    return [choices[index] for index in range(n)]


def _add_delta(state: Assembled, delta: dict[str, Any]) -> None:
    if delta.get("content") is not None:
        state.content = (state.content or "") + delta["content"]
    for call in delta.get("tool_calls") or []:
        assert call["index"] <= len(state.tool_calls), f"arguments for a call never opened: {call}"
        if call["index"] == len(state.tool_calls):
            assert call["id"].startswith("call_")
            assert call["type"] == "function"
            assert call["function"]["name"]
            state.tool_calls.append({"id": call["id"], **call["function"]})
            continue
        for key in ("id", "type"):
            assert key not in call, f"{key} repeated in a later delta of call {call['index']}"
        assert "name" not in call["function"], f"name repeated in a later delta of call {call['index']}"
        state.tool_calls[call["index"]]["arguments"] += call["function"]["arguments"]
    function_call = delta.get("function_call")
    if function_call is not None:
        if state.function_call is None:
            assert function_call["name"], "a function_call opens with its name"
            state.function_call = {"name": function_call["name"], "arguments": function_call["arguments"]}
        else:
            assert "name" not in function_call, "function_call name repeated"
            state.function_call["arguments"] += function_call["arguments"]


def interleaved(chunks: list[dict[str, Any]]) -> bool:
    """Choice 1 starts before choice 0 has sent its last content."""
    indices = [
        c["choices"][0]["index"] for c in chunks if c["choices"] and not c["choices"][0]["finish_reason"]
    ]
    return 1 in indices and indices.index(1) < len(indices) - 1 - indices[::-1].index(0)


def same_as_message(assembled: Assembled, choice: Any) -> None:
    """A streamed choice carries what the non-stream choice for the same request does (ids aside)."""
    message = choice.message
    assert assembled.content == message.content
    assert assembled.finish_reason == choice.finish_reason
    streamed = [(call["name"], call["arguments"]) for call in assembled.tool_calls]
    assert streamed == [(call.function.name, call.function.arguments) for call in message.tool_calls or []]
    expected = message.function_call
    assert assembled.function_call == (
        None if expected is None else {"name": expected.name, "arguments": expected.arguments}
    )
