"""`POST /v1/completions` (legacy) in the document: its request, its body and its event stream."""

from __future__ import annotations

from typing import Any

from server.openapi.chat import stream_event
from server.openapi.common import ERRORS, OTHER_ERRORS, ref, responses

COMPLETIONS_OPERATION: dict[str, Any] = {
    "summary": "Create a completion (legacy)",
    "operationId": "create_completion",
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": ref("CompletionRequest"),
                "example": {
                    "model": "gpt-3.5-turbo-instruct",
                    "prompt": "Say this is a test",
                    "max_tokens": 7,
                },
            }
        },
    },
    "responses": responses(
        {
            200: {
                "description": "A `text_completion` object, or with `stream: true` a server-sent event "
                "stream of `data: <text_completion JSON>` frames ending with `data: [DONE]`.",
                "content": {
                    "application/json": {"schema": ref("TextCompletion")},
                    "text/event-stream": {"itemSchema": stream_event("TextCompletion", "a text_completion")},
                },
            },
            **{status: response for status, response in ERRORS.items() if status != 200},
            "default": OTHER_ERRORS,
        }
    ),
}
