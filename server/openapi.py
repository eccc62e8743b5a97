"""The server's OpenAPI document: the wire schemas as components, both chat response media types,
and the error envelope on every error status.

The document is OpenAPI 3.2 for one keyword: `itemSchema`, which describes each event of a
`text/event-stream` response, so a tool (schemathesis, a client generator) can check every event
instead of seeing one opaque string. Each event is an object whose `data` is either the `[DONE]`
sentinel or JSON (`contentMediaType`) holding a chunk, or the error envelope when the stream failed
after its first byte (server/http/sse.py)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import TypeAdapter

from server.wire.chat_request import ChatCompletionRequest
from server.wire.chat_response import ChatCompletion, ChatCompletionChunk
from server.wire.embeddings import CreateEmbeddingResponse, EmbeddingCreateRequest
from server.wire.errors import ErrorEnvelope
from server.wire.models import Model, ModelList

REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("ErrorEnvelope")}}}


OPENAPI_VERSION = "3.2.0"

ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("Invalid request: malformed JSON, wrong content type, or a parameter out of schema"),
    401: _error("Missing or invalid API key (only when API keys are configured)"),
    404: _error("Unknown model (`model_not_found`) or unknown URL"),
    413: _error("Request body over the configured size limit"),
    500: _error("Server error"),
}
# Statuses no route produces on its own: a fixture's scripted error (any status, e.g. 429 or 503) or a
# proxy's upstream answer, passed through, or its 502/504 when the upstream fails.
OTHER_ERRORS = _error("A scripted fixture error or an upstream error, in the same envelope")

STREAM_EVENT: dict[str, Any] = {
    "description": "One event: `data: ` + a chat.completion.chunk; after a failure once the stream "
    "has begun, `data: ` + the error envelope; last, `data: [DONE]`. No `event:`, `id:` or "
    "`retry:` fields.",
    "type": "object",
    "required": ["data"],
    "properties": {
        "event": {"const": "message"},
        "data": {
            "type": "string",
            "if": {"const": "[DONE]"},
            "else": {
                "contentMediaType": "application/json",
                "contentSchema": {"anyOf": [_ref("ChatCompletionChunk"), _ref("ErrorEnvelope")]},
            },
        },
    },
}

CHAT_EXAMPLES: dict[str, Any] = {
    "completion": {
        "summary": "A chat.completion object",
        "value": {"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hello."}]},
    },
    "stream": {
        "summary": "A stream of chunks, the last one carrying usage",
        "value": {
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "Say hello."}],
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    },
}

CHAT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A `chat.completion` object, or with `stream: true` a server-sent event stream of "
        "`data: <chat.completion.chunk JSON>` frames ending with `data: [DONE]`.",
        "content": {
            "application/json": {"schema": _ref("ChatCompletion")},
            "text/event-stream": {"itemSchema": STREAM_EVENT},
        },
    },
    **ERRORS,
    "default": OTHER_ERRORS,
}
MODEL_LIST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The configured models",
        "content": {"application/json": {"schema": _ref("ModelList")}},
    },
    401: ERRORS[401],
    500: ERRORS[500],
    "default": OTHER_ERRORS,
}
MODEL_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "A model", "content": {"application/json": {"schema": _ref("Model")}}},
    401: ERRORS[401],
    404: ERRORS[404],
    500: ERRORS[500],
    "default": OTHER_ERRORS,
}


CHAT_OPERATION: dict[str, Any] = {
    "summary": "Create a chat completion",
    "operationId": "create_chat_completion",
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _ref("ChatCompletionRequest"), "examples": CHAT_EXAMPLES}},
    },
    "responses": {str(status): response for status, response in CHAT_RESPONSES.items()},
}


EMBEDDINGS_OPERATION: dict[str, Any] = {
    "summary": "Create embeddings",
    "operationId": "create_embedding",
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": _ref("EmbeddingCreateRequest"),
                "example": {"model": "text-embedding-3-small", "input": "The food was delicious."},
            }
        },
    },
    "responses": {
        "200": {
            "description": "One unit-length vector per input, as floats or (`encoding_format: base64`) "
            "as base64 of little-endian float32 bytes",
            "content": {"application/json": {"schema": _ref("CreateEmbeddingResponse")}},
        },
        **{str(status): response for status, response in ERRORS.items()},
        "403": _error("A chat model, with which the API does not make embeddings"),
        "default": OTHER_ERRORS,
    },
}


def component_schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for name, kind, mode in (
        ("ChatCompletionRequest", ChatCompletionRequest, "validation"),
        ("ChatCompletion", ChatCompletion, "serialization"),
        ("ChatCompletionChunk", ChatCompletionChunk, "serialization"),
        ("ErrorEnvelope", ErrorEnvelope, "serialization"),
        ("EmbeddingCreateRequest", EmbeddingCreateRequest, "validation"),
        ("CreateEmbeddingResponse", CreateEmbeddingResponse, "serialization"),
        ("Model", Model, "serialization"),
        ("ModelList", ModelList, "serialization"),
    ):
        schema = TypeAdapter(kind).json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
        for component, definition in [*schema.pop("$defs", {}).items(), (name, schema)]:
            # Two shapes of one name would share a component, and one side's `$ref` would describe
            # the other's shape (the request's and the reply's assistant message once did).
            if schemas.setdefault(component, definition) != definition:
                raise ValueError(f"two wire shapes are both named {component!r}")
    return dict(sorted(schemas.items()))


def build_openapi(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=OPENAPI_VERSION,
        description=app.description,
        routes=app.routes,
    )
    document.setdefault("components", {})["schemas"] = component_schemas()
    document.setdefault("paths", {})["/v1/chat/completions"] = {"post": CHAT_OPERATION}
    document["paths"]["/v1/embeddings"] = {"post": EMBEDDINGS_OPERATION}
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            # FastAPI adds a 422 wherever a route has parameters, pointing at its HTTPValidationError
            # schema (dropped above). This server never answers 422: a RequestValidationError becomes
            # the API's 400 envelope.
            operation.get("responses", {}).pop("422", None)
    return document
