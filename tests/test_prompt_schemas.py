"""How schemas count in the prompt: tool parameters' defaults and `$ref`s, and json_schema response
formats (docs/usage.md lists the rules and their sources; the recorded numbers name their cassette).
"""

from __future__ import annotations

from server.generation.conversation import Tool
from server.generation.prompt import render_functions
from tests.support.requests import ChatClient


async def _input_tokens(chat: ChatClient, **body: object) -> int:
    response = await chat.http.post("/v1/responses", json=body)
    assert response.status_code == 200, response.text
    return int(response.json()["usage"]["input_tokens"])


def test_a_default_is_a_trailing_comment_as_harmony_writes_it() -> None:
    # openai/harmony's renderer (docs/usage.md): a string default quoted unless the property is an
    # enum, any other default as compact JSON.
    properties = {
        "unit": {"type": "string", "default": "c"},
        "mode": {"type": "string", "enum": ["a", "b"], "default": "a"},
        "tags": {"type": "array", "items": {"type": "string"}, "default": []},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
    }
    lines = render_functions((Tool("f", {"type": "object", "properties": properties}),)).splitlines()
    assert lines[3:7] == [
        'unit?: string, // default: "c"',
        'mode?: "a" | "b", // default: a',
        "tags?: string[], // default: []",
        "note?: string | null, // default: null",
    ]


INT_SCHEMA = {
    "description": "Wrapper for primitive type int",
    "properties": {"output": {"title": "Output", "type": "integer"}},
    "required": ["output"],
    "title": "intOutput",
    "type": "object",
    "additionalProperties": False,
}


async def test_a_json_schema_format_costs_6_more_in_chat_than_in_responses(chat: ChatClient) -> None:
    # Recorded: Mirascope python/tests/e2e/input/cassettes/test_structured_output_resume/
    # openai_gpt_4o_{completions,responses}.yaml, first request: 62 in chat, 56 on /v1/responses.
    question = {"role": "user", "content": "Choose a lucky number between 1 and 10"}
    spec = {"name": "int", "schema": INT_SCHEMA, "strict": True}
    response = await chat.http.post(
        "/v1/chat/completions",
        json={
            "model": "gpt-4o",
            "messages": [question],
            "response_format": {"type": "json_schema", "json_schema": spec},
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["usage"]["prompt_tokens"] == 62
    text = {"format": {"type": "json_schema", **spec}}
    assert await _input_tokens(chat, model="gpt-4o", input=[question], text=text) == 56
    # The format's own description is a `// ` line above the schema (the harmony guide).
    described = {"format": {"type": "json_schema", **spec, "description": "An answer."}}
    assert await _input_tokens(chat, model="gpt-4o", input=[question], text=described) == 56 + 4


def test_a_ref_is_rendered_as_the_type_it_names() -> None:
    # docs/usage.md: a `$ref` into `$defs` is the type it names; inside it, its own name is `any`.
    node = {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}, "required": ["next"]}
    parameters = {"type": "object", "properties": {"head": {"$ref": "#/$defs/Node"}}, "$defs": {"Node": node}}
    lines = render_functions((Tool("f", parameters),)).splitlines()
    assert lines[3:6] == ["head?: {", "  next: any,", "},"]
