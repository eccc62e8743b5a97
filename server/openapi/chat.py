"""`/v1/chat/completions` in the document: create (its request, its JSON body and its event stream),
and the stored completions' routes (list, get, update, delete, messages)."""

from __future__ import annotations

from typing import Any

from server.openapi.common import ERRORS, OTHER_ERRORS, error, ref, responses


def stream_event(chunk: str, what: str) -> dict[str, Any]:
    """A `data:`-framed event stream of `chunk` objects ending with `[DONE]` (chat and legacy completions)."""
    return {
        "description": f"One event: `data: ` + {what}; after a failure once the stream "
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
                    "contentSchema": {"anyOf": [ref(chunk), ref("ErrorEnvelope")]},
                },
            },
        },
    }


STREAM_EVENT = stream_event("ChatCompletionChunk", "a chat.completion.chunk")

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
            "application/json": {"schema": ref("ChatCompletion")},
            "text/event-stream": {"itemSchema": STREAM_EVENT},
        },
    },
    **ERRORS,
    "default": OTHER_ERRORS,
}

CHAT_OPERATION: dict[str, Any] = {
    "summary": "Create a chat completion",
    "operationId": "create_chat_completion",
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": ref("ChatCompletionRequest"), "examples": CHAT_EXAMPLES}},
    },
    "responses": responses(CHAT_RESPONSES),
}


COMPLETION_ID = {
    "name": "completion_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The stored completion's id (`chatcmpl-...`).",
}

STORED_ERRORS: dict[int | str, dict[str, Any]] = {
    400: ERRORS[400],
    401: ERRORS[401],
    404: error("No completion stored with that id for this caller"),
    500: ERRORS[500],
    "default": OTHER_ERRORS,
}


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


PAGE = [
    _query("after", {"type": "string"}, "An id from the previous page: this page starts after it."),
    _query("limit", {"type": "integer", "minimum": 0, "maximum": 100, "default": 20}, "Page size."),
    _query(
        "order", {"enum": ["asc", "desc"], "default": "asc"}, "`asc`: oldest first; `desc`: newest first."
    ),
]

LIST: dict[str, Any] = {
    "summary": "List stored chat completions",
    "operationId": "list_chat_completions",
    "parameters": [
        _query("model", {"type": "string"}, "Only completions of this model."),
        {
            "name": "metadata",
            "in": "query",
            "required": False,
            "style": "deepObject",
            "explode": True,
            "schema": {"type": "object", "additionalProperties": {"type": "string"}},
            "description": "`metadata[key]=value`: only completions whose metadata has every pair.",
        },
        *PAGE,
    ],
    "responses": responses(
        {200: _json("ChatCompletionList", "One page of stored completions"), **STORED_ERRORS}
    ),
}

RETRIEVE: dict[str, Any] = {
    "summary": "Get a stored chat completion",
    "operationId": "get_chat_completion",
    "parameters": [COMPLETION_ID],
    "responses": responses({200: _json("StoredChatCompletion", "The stored completion"), **STORED_ERRORS}),
}

UPDATE: dict[str, Any] = {
    "summary": "Replace a stored chat completion's metadata",
    "operationId": "update_chat_completion",
    "parameters": [COMPLETION_ID],
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": ref("ChatCompletionUpdateRequest")}},
    },
    "responses": responses(
        {200: _json("StoredChatCompletion", "The completion with its new metadata"), **STORED_ERRORS}
    ),
}

DELETE: dict[str, Any] = {
    "summary": "Delete a stored chat completion",
    "operationId": "delete_chat_completion",
    "parameters": [COMPLETION_ID],
    "responses": responses({200: _json("ChatCompletionDeleted", "The completion is gone"), **STORED_ERRORS}),
}

MESSAGES: dict[str, Any] = {
    "summary": "List a stored chat completion's request messages",
    "operationId": "get_chat_completion_messages",
    "parameters": [COMPLETION_ID, *PAGE],
    "responses": responses(
        {200: _json("ChatCompletionMessageList", "One page of the request's messages"), **STORED_ERRORS}
    ),
}

# `GET /v1/chat/completions` joins the create operation's path item in the document.
STORED_PATHS: dict[str, dict[str, Any]] = {
    "/v1/chat/completions/{completion_id}": {"get": RETRIEVE, "post": UPDATE, "delete": DELETE},
    "/v1/chat/completions/{completion_id}/messages": {"get": MESSAGES},
}
