"""`POST /v1/chat/completions` in the document: its request, its JSON body and its event stream."""

from __future__ import annotations

from typing import Any

from server.openapi.common import ERRORS, OTHER_ERRORS, ref, responses


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
