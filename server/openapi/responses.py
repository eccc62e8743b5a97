"""The Responses API's routes in the document: create (a `response` object, or its event stream),
retrieve (also as a stream of a background response's events), delete, cancel, input items, input
token counts and compaction.

A Responses stream differs from chat's: each event has an `event:` field naming its type and a
`data:` field holding the event as JSON (whose `type` is the same name); there is no `[DONE]`, the
stream ends after its terminal event, and a failure after the first byte is an `error` event then
`response.failed`, both in the same shape."""

from __future__ import annotations

from typing import Any

from server.openapi.common import ERRORS, OTHER_ERRORS, error, ref, responses
from server.wire.responses_response import STREAM_EVENT_TYPES

STREAM_EVENT: dict[str, Any] = {
    "description": "One event: `event: <type>` and `data: <the event as JSON>`, its `type` the same "
    "name and its `sequence_number` one more than the last event's. No `[DONE]`, `id:` or `retry:`.",
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"enum": list(STREAM_EVENT_TYPES)},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": ref("ResponseStreamEvent"),
        },
    },
}

NOT_FOUND = error("No response with this id (never created, deleted, evicted, or `store: false`)")
ONE_RESPONSE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: error("Invalid query parameter, or an operation this response does not allow"),
    401: ERRORS[401],
    404: NOT_FOUND,
    500: ERRORS[500],
    "default": OTHER_ERRORS,
}
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    400: error(
        "Invalid request: malformed JSON, wrong content type, a parameter out of schema, or an unknown "
        "`previous_response_id` (`previous_response_not_found`)"
    ),
    "default": OTHER_ERRORS,
}

EXAMPLES: dict[str, Any] = {
    "response": {
        "summary": "A response object",
        "value": {"model": "gpt-4o", "input": "Say hello."},
    },
    "stream": {
        "summary": "A stream of events, from response.created to response.completed",
        "value": {"model": "gpt-4o", "input": "Say hello.", "stream": True},
    },
    "background": {
        "summary": "A background response, answered `queued` at once",
        "value": {"model": "gpt-4o", "input": "Say hello.", "background": True},
    },
}


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": ref(schema)}}}


RESPONSE_OR_STREAM = {
    "application/json": {"schema": ref("Response")},
    "text/event-stream": {"itemSchema": STREAM_EVENT},
}

RESPONSE_ID = {
    "name": "response_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The response's id (`resp_...`).",
}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


# What a created response's id leads to: a client generator, or schemathesis's stateful phase,
# follows these from a create to the routes that read it.
LINKS: dict[str, Any] = {
    name: {"operationId": operation, "parameters": {"response_id": "$response.body#/id"}}
    for name, operation in (
        ("RetrieveResponse", "retrieve_response"),
        ("DeleteResponse", "delete_response"),
        ("CancelResponse", "cancel_response"),
        ("ListInputItems", "list_input_items"),
    )
}

CREATE: dict[str, Any] = {
    "summary": "Create a model response",
    "operationId": "create_response",
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": ref("ResponseCreateRequest"), "examples": EXAMPLES}},
    },
    "responses": responses(
        {
            200: {
                "description": "A `response` object (`queued` with `background: true`), or with `stream: "
                "true` a server-sent event stream of its events, ending with its terminal event.",
                "content": RESPONSE_OR_STREAM,
                "links": LINKS,
            },
            **BODY_ERRORS,
        }
    ),
}

RETRIEVE: dict[str, Any] = {
    "summary": "Retrieve a model response",
    "operationId": "retrieve_response",
    "parameters": [
        RESPONSE_ID,
        _query(
            "stream",
            {"type": "boolean"},
            "`true`: the events of a background response, as a stream, following it until it ends.",
        ),
        _query(
            "starting_after",
            {"type": "integer", "minimum": 0},
            "With `stream=true`: only the events whose `sequence_number` is greater.",
        ),
    ],
    "responses": responses(
        {
            200: {
                "description": "The response as it stands, or with `stream=true` its events.",
                "content": RESPONSE_OR_STREAM,
            },
            **ONE_RESPONSE_ERRORS,
        }
    ),
}

DELETE: dict[str, Any] = {
    "summary": "Delete a model response",
    "operationId": "delete_response",
    "parameters": [RESPONSE_ID],
    "responses": responses({200: _json("ResponseDeleted", "The response is gone"), **ONE_RESPONSE_ERRORS}),
}

CANCEL: dict[str, Any] = {
    "summary": "Cancel a background response",
    "operationId": "cancel_response",
    "parameters": [RESPONSE_ID],
    "responses": responses(
        {
            200: _json("Response", "The response, `cancelled` if it was still running"),
            **ONE_RESPONSE_ERRORS,
        }
    ),
}

INPUT_ITEMS: dict[str, Any] = {
    "summary": "List a response's input items",
    "operationId": "list_input_items",
    "parameters": [
        RESPONSE_ID,
        _query("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "Page size."),
        _query(
            "order",
            {"enum": ["asc", "desc"], "default": "desc"},
            "`asc`: oldest first; `desc`: newest first.",
        ),
        _query("after", {"type": "string"}, "An item id: the page starts after it."),
    ],
    "responses": responses(
        {200: _json("ResponseItemList", "One page of input items"), **ONE_RESPONSE_ERRORS}
    ),
}

INPUT_TOKENS: dict[str, Any] = {
    "summary": "Count a request's input tokens",
    "operationId": "count_input_tokens",
    "requestBody": _body("InputTokensRequest"),
    "responses": responses({200: _json("InputTokenCount", "The count"), **BODY_ERRORS}),
}

COMPACT: dict[str, Any] = {
    "summary": "Compact a conversation",
    "operationId": "compact_response",
    "requestBody": _body("CompactRequest"),
    "responses": responses({200: _json("CompactedResponse", "The compacted conversation"), **BODY_ERRORS}),
}

PATHS: dict[str, dict[str, Any]] = {
    "/v1/responses": {"post": CREATE},
    "/v1/responses/input_tokens": {"post": INPUT_TOKENS},
    "/v1/responses/compact": {"post": COMPACT},
    "/v1/responses/{response_id}": {"get": RETRIEVE, "delete": DELETE},
    "/v1/responses/{response_id}/cancel": {"post": CANCEL},
    "/v1/responses/{response_id}/input_items": {"get": INPUT_ITEMS},
}
