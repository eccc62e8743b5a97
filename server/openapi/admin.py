"""The admin API (`/_chatdouble/...`, docs/admin.md) in the document. Not OpenAI's API.

Its shapes are written here as JSON Schema rather than as wire models: they are chatdouble's own,
and the fixture format they carry is documented (and checked) by the fixture loader.
"""

from __future__ import annotations

from typing import Any

from server.openapi.common import ERRORS, OTHER_ERRORS, error, responses

TAG = ["chatdouble admin"]
NAMESPACE_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "key",
        "in": "query",
        "required": False,
        "description": "Act on this key's namespace (another key's needs the admin token, unless "
        "neither api_keys nor admin_token is configured). Default: the caller's key.",
        "schema": {"type": "string"},
    },
    {
        "name": "session",
        "in": "query",
        "required": False,
        "description": "A session of the key; with `key` or `session`, the header below is not read.",
        "schema": {"type": "string"},
    },
    {
        "name": "X-Chatdouble-Session",
        "in": "header",
        "required": False,
        "description": "The caller's session: its namespace is its key and this session.",
        "schema": {"type": "string"},
    },
]
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    400: ERRORS[400],
    401: error("Missing or invalid API key, or another key's namespace without the admin token"),
    413: ERRORS[413],
    500: ERRORS[500],
    "default": OTHER_ERRORS,
}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or list(properties)}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(
    summary: str, operation_id: str, answer: dict[str, Any], body: dict[str, Any] | None = None, **more: Any
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "tags": TAG,
        "summary": summary,
        "operationId": operation_id,
        "parameters": list(NAMESPACE_PARAMETERS) + more.pop("parameters", []),
        "responses": responses({200: answer, **more.pop("errors", {}), **ADMIN_ERRORS}),
    }
    if body is not None:
        operation["requestBody"] = body
    return operation


FIXTURE = {
    "type": "object",
    "description": "A fixture as in a fixture file (docs/fixtures.md): match, response or sequence, "
    "times, priority, timing, fault, ... An `id` is generated (`fx_...`) when none is sent.",
    "additionalProperties": True,
}
LISTED_FIXTURE = {**FIXTURE, "properties": {"id": {"type": "string"}}, "required": ["id"]}
FIXTURE_LIST = _object({"object": {"const": "list"}, "data": {"type": "array", "items": LISTED_FIXTURE}})
FIXTURES_BODY_SCHEMA = {
    "description": "One fixture, a list of them, or a document shaped like a fixture file.",
    "oneOf": [
        FIXTURE,
        {"type": "array", "items": FIXTURE},
    ],
}
EXAMPLE_FIXTURE = {"match": {"last_user": {"contains": "weather"}}, "response": {"text": "Sunny, 22 °C."}}
FIXTURES_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": FIXTURES_BODY_SCHEMA, "example": EXAMPLE_FIXTURE},
        "application/yaml": {"schema": FIXTURES_BODY_SCHEMA},
    },
}

NULLABLE_NUMBER = {"type": ["number", "null"]}
REQUEST_ENTRY = _object(
    {
        "object": {"const": "chatdouble.request"},
        "seq": {"type": "integer"},
        "id": {"type": "string", "description": "The request's x-request-id."},
        "created": {"type": "number", "description": "Unix time the request arrived."},
        "method": {"type": "string"},
        "path": {"type": "string"},
        "endpoint": {"enum": ["chat.completions", "responses", "completions", "embeddings"]},
        "model": {"type": ["string", "null"]},
        "stream": {"type": "boolean"},
        "status": {"type": "integer"},
        "error": {"type": ["string", "null"]},
        "answered_by": _object(
            {
                "backend": {"type": ["string", "null"]},
                "kind": {"type": ["string", "null"]},
                "fixture": {"type": ["string", "null"]},
            }
        ),
        "timings": _object({"ttft_ms": NULLABLE_NUMBER, "total_ms": {"type": "number"}}),
        "usage": {"type": ["object", "null"]},
        "request": {"description": "With journal.bodies: the request body, scrubbed."},
        "response": {
            "description": "With journal.bodies: the response body, or a stream's events, scrubbed."
        },
    },
    required=[
        "object",
        "seq",
        "id",
        "created",
        "method",
        "path",
        "endpoint",
        "model",
        "stream",
        "status",
        "error",
        "answered_by",
        "timings",
        "usage",
    ],
)
COUNT = {
    "type": "object",
    "properties": {name: {"type": "integer", "minimum": 0} for name in ("eq", "min", "max")},
    "minProperties": 1,
    "additionalProperties": False,
}
VERIFY_BODY = {
    "required": False,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "match": {"type": "object", "description": "A fixture's `match` (docs/fixtures.md)."},
                    "count": COUNT,
                    "endpoint": {"enum": ["chat.completions", "responses", "completions", "embeddings"]},
                },
                "additionalProperties": False,
            },
            "example": {"match": {"last_user": {"contains": "weather"}}, "count": {"eq": 1}},
        }
    },
}
VERIFICATION = _object(
    {
        "object": {"const": "chatdouble.verification"},
        "ok": {"type": "boolean"},
        "count": {"type": "integer"},
        "expected": COUNT,
        "matched": {"type": "array", "items": {"type": "integer"}},
        "near_misses": {
            "type": "array",
            "items": _object(
                {"seq": {"type": "integer"}, "reasons": {"type": "array", "items": {"type": "string"}}}
            ),
        },
    }
)
RESET_BODY = {
    "required": False,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {name: {"type": "boolean"} for name in ("fixtures", "sequences", "journal")},
                "additionalProperties": False,
            },
            "example": {"journal": True, "fixtures": False, "sequences": False},
        }
    },
}
PAGE_PARAMETERS = [
    {"name": "since", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}},
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
    },
]

PATHS: dict[str, dict[str, Any]] = {
    "/_chatdouble/fixtures": {
        "post": _operation(
            "Add runtime fixtures", "add_fixtures", _json("The fixtures added", FIXTURE_LIST), FIXTURES_BODY
        ),
        "get": _operation(
            "List runtime fixtures", "list_fixtures", _json("The namespace's fixtures", FIXTURE_LIST)
        ),
        "delete": _operation(
            "Delete all runtime fixtures",
            "delete_fixtures",
            _json(
                "How many were deleted",
                _object({"object": {"const": "chatdouble.fixtures.deleted"}, "deleted": {"type": "integer"}}),
            ),
        ),
    },
    "/_chatdouble/fixtures/{fixture_id}": {
        "delete": _operation(
            "Delete a runtime fixture",
            "delete_fixture",
            _json(
                "Deleted",
                _object(
                    {
                        "id": {"type": "string"},
                        "object": {"const": "chatdouble.fixture"},
                        "deleted": {"const": True},
                    }
                ),
            ),
            parameters=[{"name": "fixture_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            errors={404: error("No such fixture in the namespace")},
        )
    },
    "/_chatdouble/requests": {
        "get": _operation(
            "List journaled requests",
            "list_requests",
            _json(
                "Requests of the namespace with seq > since, oldest first",
                _object(
                    {
                        "object": {"const": "list"},
                        "data": {"type": "array", "items": REQUEST_ENTRY},
                        "has_more": {"type": "boolean"},
                    }
                ),
            ),
            parameters=PAGE_PARAMETERS,
        ),
        "delete": _operation(
            "Clear the journal",
            "clear_requests",
            _json(
                "How many entries were cleared",
                _object({"object": {"const": "chatdouble.requests.deleted"}, "deleted": {"type": "integer"}}),
            ),
        ),
    },
    "/_chatdouble/verify": {
        "post": _operation(
            "Verify journaled requests",
            "verify_requests",
            _json("The count and its check", VERIFICATION),
            VERIFY_BODY,
        )
    },
    "/_chatdouble/reset": {
        "post": _operation(
            "Reset a namespace",
            "reset_namespace",
            _json(
                "What was reset",
                _object(
                    {
                        "object": {"const": "chatdouble.reset"},
                        "fixtures": {"type": "integer"},
                        "sequences": {"type": "boolean"},
                        "journal": {"type": "integer"},
                    }
                ),
            ),
            RESET_BODY,
        )
    },
}
