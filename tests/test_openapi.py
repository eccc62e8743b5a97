"""The OpenAPI document: committed copy in sync, the chat route's promises, and real responses that
validate against the schemas it publishes."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from tests.processes import ROOT
from tests.support import sse

COMMITTED = ROOT / "openapi" / "openapi.json"
TOOL = ROOT / "tools" / "gen_openapi.py"
CHAT = "/v1/chat/completions"
ERROR_STATUSES = ("400", "401", "404", "413", "500", "default")


def load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_openapi", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated_text() -> str:
    text = load_tool().render()
    assert isinstance(text, str)
    return text


@pytest.fixture(scope="module")
def document(generated_text: str) -> dict[str, Any]:
    value = json.loads(generated_text)
    assert isinstance(value, dict)
    return value


def schema_for(document: dict[str, Any], ref: str) -> Draft202012Validator:
    """A validator for one component, resolving `#/components/...` against the whole document."""
    return Draft202012Validator({"$ref": ref, "components": document["components"]})


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def test_committed_document_matches_the_code(generated_text: str) -> None:
    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else "(missing)"
    assert committed == generated_text, (
        "openapi/openapi.json is out of date with the code: run `.venv/bin/python tools/gen_openapi.py` "
        "and commit the result"
    )


def test_generator_check_mode_reports_drift(tmp_path: Any, generated_text: str) -> None:
    tool = load_tool()
    stale = tmp_path / "openapi.json"
    stale.write_text(generated_text.replace('"title": "chatdouble"', '"title": "stale"', 1), encoding="utf-8")
    assert tool.main(["--check", "--output", str(stale)]) == 1
    assert tool.main(["--output", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == generated_text
    assert tool.main(["--check", "--output", str(stale)]) == 0


async def test_served_document_is_the_generated_one(
    client: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200, response.text
    assert response.json() == document


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    found = set(refs(document))
    assert found
    for ref in found:
        assert isinstance(resolve(document, ref), dict), ref


def test_chat_route_documents_json_and_event_stream(document: dict[str, Any]) -> None:
    ok = document["paths"][CHAT]["post"]["responses"]["200"]["content"]
    assert set(ok) == {"application/json", "text/event-stream"}
    assert ok["application/json"]["schema"] == {"$ref": "#/components/schemas/ChatCompletion"}
    assert document["openapi"] == "3.2.0"  # the version that has `itemSchema`
    event = ok["text/event-stream"]["itemSchema"]
    assert "schema" not in ok["text/event-stream"]  # in 3.2 it would describe the whole stream
    assert event["required"] == ["data"]
    data = event["properties"]["data"]
    assert data["if"] == {"const": "[DONE]"}
    assert data["else"]["contentMediaType"] == "application/json"
    assert data["else"]["contentSchema"] == {
        "anyOf": [
            {"$ref": "#/components/schemas/ChatCompletionChunk"},
            {"$ref": "#/components/schemas/ErrorEnvelope"},
        ]
    }


@pytest.mark.parametrize("status", ERROR_STATUSES)
def test_chat_route_documents_the_error_envelope(document: dict[str, Any], status: str) -> None:
    response = document["paths"][CHAT]["post"]["responses"][status]
    assert response["description"]
    assert response["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}
    }


def test_error_envelope_schema(document: dict[str, Any]) -> None:
    validator = schema_for(document, "#/components/schemas/ErrorEnvelope")
    validator.validate(
        {"error": {"message": "m", "type": "invalid_request_error", "param": None, "code": None}}
    )
    assert not validator.is_valid({"error": {"message": "m"}})
    assert not validator.is_valid({"message": "m", "type": "t", "param": None, "code": None})


def test_request_body_requires_model_and_messages(document: dict[str, Any]) -> None:
    body = document["paths"][CHAT]["post"]["requestBody"]
    assert body["required"] is True
    schema = resolve(document, body["content"]["application/json"]["schema"]["$ref"])
    assert {"model", "messages"} <= set(schema["required"])
    assert {"model", "messages", "stream", "tools"} <= set(schema["properties"])
    validator = schema_for(document, body["content"]["application/json"]["schema"]["$ref"])
    assert validator.is_valid({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    assert not validator.is_valid({"model": "gpt-4o"})
    assert not validator.is_valid({"messages": [{"role": "user", "content": "hi"}]})


@pytest.mark.parametrize(
    "fields",
    [
        {"function_call": None},  # refused as the real API does, though the field may be omitted
        {"bogus": 1},  # unknown parameters are refused (the default `unknown_fields: reject`)
        # A user message's unknown keys are dropped, as the API drops them; a developer message's not.
        {"messages": [{"role": "developer", "content": "hi", "bogus": 1}]},
        {"messages": [{"role": "assistant", "content": None, "tool_calls": []}]},
    ],
)
def test_request_schema_refuses_what_the_route_refuses(
    document: dict[str, Any], fields: dict[str, Any]
) -> None:
    validator = schema_for(document, "#/components/schemas/ChatCompletionRequest")
    base = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    assert validator.is_valid(base)
    assert not validator.is_valid({**base, **fields})


def test_request_schema_allows_the_keys_the_route_ignores(document: dict[str, Any]) -> None:
    validator = schema_for(document, "#/components/schemas/ChatCompletionRequest")
    message = {"role": "user", "content": "hi", "charset": "UTF-8"}
    tool = {"type": "function", "function": {"name": "f", "returns": {"type": "string"}}}
    assert validator.is_valid({"model": "gpt-4o", "messages": [message], "tools": [tool]})


def test_request_and_reply_messages_are_separate_components(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    reply = {"$ref": "#/components/schemas/ChatCompletionMessage"}
    assert schemas["Choice"]["properties"]["message"] == reply
    assert "tool_call_id" in schemas["ToolMessage"]["properties"]
    # The request's (it takes `name`; unknown keys dropped as the API drops them), not the reply's.
    assert "name" in schemas["AssistantMessage"]["properties"]
    assert schemas["AssistantMessage"]["additionalProperties"] is True
    assert "name" not in schemas["ChatCompletionMessage"]["properties"]


async def test_real_responses_validate_against_the_document(
    client: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    request = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Schema check, please."}]}

    completion = await client.post(CHAT, json=request)
    assert completion.status_code == 200
    schema_for(document, "#/components/schemas/ChatCompletion").validate(completion.json())

    chunk_schema = schema_for(document, "#/components/schemas/ChatCompletionChunk")
    chunks = 0
    async with client.stream(
        "POST", CHAT, json={**request, "stream": True, "stream_options": {"include_usage": True}}
    ) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        async for frame in sse.aiter_frames(stream.aiter_text()):
            if frame.data is None or frame.done:
                continue
            chunk_schema.validate(frame.json())
            chunks += 1
    assert chunks >= 3

    error = await client.post(CHAT, json={"model": "gpt-4o"})
    assert error.status_code == 400
    schema_for(document, "#/components/schemas/ErrorEnvelope").validate(error.json())

    listing = await client.get("/v1/models")
    schema_for(document, "#/components/schemas/ModelList").validate(listing.json())


async def test_stored_chat_completions_validate_against_the_document(
    client: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    request = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Keep this."}]}],
        "store": True,
        "metadata": {"k": "v"},
    }
    created = (await client.post(CHAT, json=request)).json()
    one = f"{CHAT}/{created['id']}"
    answers = {
        "StoredChatCompletion": [
            await client.get(one),
            await client.post(one, json={"metadata": {"k": "v"}}),
        ],
        "ChatCompletionList": [await client.get(CHAT, params={"metadata[k]": "v"})],
        "ChatCompletionMessageList": [await client.get(f"{one}/messages")],
        "ChatCompletionDeleted": [await client.delete(one)],
    }
    for component, responses in answers.items():
        for response in responses:
            assert response.status_code == 200, response.text
            schema_for(document, f"#/components/schemas/{component}").validate(response.json())
    assert answers["ChatCompletionList"][0].json()["data"] != []
    paths = document["paths"]
    assert set(paths[CHAT]) == {"post", "get"}
    assert set(paths[CHAT + "/{completion_id}"]) == {"get", "post", "delete"}
    assert set(paths[CHAT + "/{completion_id}/messages"]) == {"get"}


RESPONSES_OPERATIONS = {
    "/v1/responses": {"post"},
    "/v1/responses/{response_id}": {"get", "delete"},
    "/v1/responses/{response_id}/cancel": {"post"},
    "/v1/responses/{response_id}/input_items": {"get"},
    "/v1/responses/input_tokens": {"post"},
    "/v1/responses/compact": {"post"},
}


def test_every_responses_route_is_documented_with_the_error_envelope(document: dict[str, Any]) -> None:
    for path, methods in RESPONSES_OPERATIONS.items():
        assert set(document["paths"][path]) == methods, path
        for method in methods:
            answers = document["paths"][path][method]["responses"]
            assert {"200", "400", "401", "404", "500", "default"} <= set(answers), (path, method)
            assert answers["404"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorEnvelope"
            }


@pytest.mark.parametrize(
    ("path", "method"), [("/v1/responses", "post"), ("/v1/responses/{response_id}", "get")]
)
def test_responses_streams_are_named_events_of_json_data(
    document: dict[str, Any], path: str, method: str
) -> None:
    content = document["paths"][path][method]["responses"]["200"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/Response"}
    event = content["text/event-stream"]["itemSchema"]
    assert event["required"] == ["event", "data"]
    assert "response.output_text.delta" in event["properties"]["event"]["enum"]
    data = event["properties"]["data"]
    assert data["contentMediaType"] == "application/json"
    assert data["contentSchema"] == {"$ref": "#/components/schemas/ResponseStreamEvent"}


def test_the_response_object_schema_holds_a_real_body_and_refuses_a_wrong_one(
    document: dict[str, Any],
) -> None:
    validator = schema_for(document, "#/components/schemas/Response")
    # A real body (gpt-5.6, 2026-08: reasoning, then a message), recorded in openai/openai-dotnet's
    # tests/SessionRecords/ResponsesTests/ResponsesWithReasoning.json.
    sample = json.loads((ROOT / "tests" / "data" / "responses_body.json").read_text(encoding="utf-8"))
    validator.validate(sample)
    assert not validator.is_valid({**sample, "status": "done"})
    assert not validator.is_valid({**sample, "output": [{"id": "msg_1", "type": "message"}]})
