"""The server's OpenAPI document: the wire schemas as components, every dialect's routes with both
response media types, and the error envelope on every error status.

The document is OpenAPI 3.2 for one keyword: `itemSchema`, which describes each event of a
`text/event-stream` response, so a tool (schemathesis, a client generator) can check every event
instead of seeing one opaque string. A chat event is an object whose `data` is either the `[DONE]`
sentinel or JSON (`contentMediaType`) holding a chunk, or the error envelope when the stream failed
after its first byte (server/http/sse.py): server/openapi/chat.py. A Responses event has an `event`
name and JSON `data`: server/openapi/responses.py."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import TypeAdapter

from server.openapi import admin, chat, responses
from server.openapi.chat import CHAT_OPERATION
from server.openapi.common import ERRORS, OTHER_ERRORS, REF, ref
from server.openapi.completions import COMPLETIONS_OPERATION
from server.openapi.embeddings import EMBEDDINGS_OPERATION
from server.openapi.limits import describe_limits
from server.wire import chat_stored as stored
from server.wire import responses_response as rr
from server.wire.chat_request import ChatCompletionRequest
from server.wire.chat_response import ChatCompletion, ChatCompletionChunk
from server.wire.completions_request import CompletionRequest
from server.wire.completions_response import TextCompletion
from server.wire.embeddings import CreateEmbeddingResponse, EmbeddingCreateRequest
from server.wire.errors import ErrorEnvelope
from server.wire.models import Model, ModelList
from server.wire.responses_request import CompactRequest, InputTokensRequest, ResponseCreateRequest

OPENAPI_VERSION = "3.2.0"

MODEL_LIST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The configured models",
        "content": {"application/json": {"schema": ref("ModelList")}},
    },
    401: ERRORS[401],
    500: ERRORS[500],
    "default": OTHER_ERRORS,
}
MODEL_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "A model", "content": {"application/json": {"schema": ref("Model")}}},
    401: ERRORS[401],
    404: ERRORS[404],
    500: ERRORS[500],
    "default": OTHER_ERRORS,
}

# name, shape, and whether it is read (a request) or written (a reply)
COMPONENTS: tuple[tuple[str, Any, str], ...] = (
    ("ChatCompletionRequest", ChatCompletionRequest, "validation"),
    ("ChatCompletion", ChatCompletion, "serialization"),
    ("ChatCompletionChunk", ChatCompletionChunk, "serialization"),
    ("ChatCompletionUpdateRequest", stored.ChatCompletionUpdateRequest, "validation"),
    ("StoredChatCompletion", stored.StoredChatCompletion, "serialization"),
    ("ChatCompletionList", stored.ChatCompletionList, "serialization"),
    ("ChatCompletionDeleted", stored.ChatCompletionDeleted, "serialization"),
    ("ChatCompletionMessageList", stored.ChatCompletionMessageList, "serialization"),
    ("CompletionRequest", CompletionRequest, "validation"),
    ("TextCompletion", TextCompletion, "serialization"),
    ("EmbeddingCreateRequest", EmbeddingCreateRequest, "validation"),
    ("CreateEmbeddingResponse", CreateEmbeddingResponse, "serialization"),
    ("ResponseCreateRequest", ResponseCreateRequest, "validation"),
    ("InputTokensRequest", InputTokensRequest, "validation"),
    ("CompactRequest", CompactRequest, "validation"),
    ("Response", rr.Response, "serialization"),
    ("ResponseStreamEvent", rr.ResponseStreamEvent, "serialization"),
    ("ResponseDeleted", rr.ResponseDeleted, "serialization"),
    ("ResponseItemList", rr.ResponseItemList, "serialization"),
    ("InputTokenCount", rr.InputTokenCount, "serialization"),
    ("CompactedResponse", rr.CompactedResponse, "serialization"),
    ("ErrorEnvelope", ErrorEnvelope, "serialization"),
    ("Model", Model, "serialization"),
    ("ModelList", ModelList, "serialization"),
)


# Both dialects' request modules name some shapes alike (`FunctionTool`, `StreamOptions`, ...) and
# mean different things by them: the Responses API's take this prefix in the document.
PREFIXES = {"server.wire.responses_request": "Responses", "server.wire.responses_input": "Responses"}


def component_schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    owners: dict[str, str] = {}  # component -> the prefix of the shapes that named it
    for name, kind, mode in COMPONENTS:
        prefix = PREFIXES.get(getattr(kind, "__module__", ""), "")
        schema = TypeAdapter(kind).json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
        clashes = [other for other in schema.get("$defs", {}) if owners.get(other, prefix) != prefix]
        schema = _rename(schema, prefix, clashes)
        for component, definition in [*schema.pop("$defs", {}).items(), (name, schema)]:
            # Two shapes of one name would share a component, and one side's `$ref` would describe
            # the other's shape (the request's and the reply's assistant message once did).
            if schemas.setdefault(component, definition) != definition:
                raise ValueError(f"two wire shapes are both named {component!r}")
            owners.setdefault(component, prefix)
    return dict(sorted(schemas.items()))


def _rename(schema: dict[str, Any], prefix: str, names: list[str]) -> dict[str, Any]:
    """`schema` with the definitions `names` given `prefix`, and every reference to them."""
    if not names:
        return schema
    text = json.dumps(schema)
    for name in names:
        text = text.replace(f'"{REF.format(model=name)}"', f'"{REF.format(model=prefix + name)}"')
    renamed: dict[str, Any] = json.loads(text)
    renamed["$defs"] = {
        (prefix + key if key in names else key): value for key, value in renamed["$defs"].items()
    }
    return renamed


def build_openapi(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=OPENAPI_VERSION,
        description=app.description,
        routes=app.routes,
    )
    document.setdefault("components", {})["schemas"] = component_schemas()
    paths = document.setdefault("paths", {})
    # Both dialects' routes are plain Starlette routes (the hot path), which FastAPI does not list.
    paths["/v1/chat/completions"] = {"post": CHAT_OPERATION, "get": chat.LIST}
    paths.update(chat.STORED_PATHS)
    paths["/v1/completions"] = {"post": COMPLETIONS_OPERATION}
    paths["/v1/embeddings"] = {"post": EMBEDDINGS_OPERATION}
    paths.update(responses.PATHS)
    describe_limits(document)
    paths.update(admin.PATHS)
    for path_item in paths.values():
        for operation in path_item.values():
            # FastAPI adds a 422 wherever a route has parameters, pointing at its HTTPValidationError
            # schema (dropped above). This server never answers 422: a RequestValidationError becomes
            # the API's 400 envelope.
            operation.get("responses", {}).pop("422", None)
    return document
