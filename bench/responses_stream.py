"""The Responses API side of the benchmark: its request, and the fixed event stream the baseline
sends for it.

The request is `POST /v1/responses` with the same system and user text as the chat request and
`stream: true`. chatdouble's echo backend answers with the user text, 48 tokens, as the Responses
API streams it: `response.created`, `response.in_progress`, `response.output_item.added`,
`response.content_part.added`, 48 `response.output_text.delta`, `response.output_text.done`,
`response.content_part.done`, `response.output_item.done`, `response.completed`: 56 events, each
`event: <type>` + `data: <JSON>`, no `[DONE]`.

The baseline sends fixed bytes of that shape and size (the response object in every lifecycle event,
obfuscation pads, the same ids' lengths), one `send` per event, so the ratio compares like with like:
what chatdouble costs per Responses stream against the cheapest server that sends the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

PATH = "/v1/responses"
AROUND = 8  # events besides the deltas: 2 lifecycle events and 3 opening ones, 3 closing ones and the last
TERMINAL = b"event: response.completed\n"
RESPONSE_ID = "resp_" + "0" * 50
MESSAGE_ID = "msg_" + "1" * 50


def request(host: str, port: int, model: str, system: str, message: str) -> bytes:
    """The full HTTP/1.1 keep-alive request, headers included, its body compact as the SDKs send it."""
    fields = {
        "model": model,
        "input": [{"role": "system", "content": system}, {"role": "user", "content": message}],
        "stream": True,
    }
    body = json.dumps(fields, separators=(",", ":")).encode()
    head = (
        f"POST {PATH} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Accept: text/event-stream\r\n"
        "Content-Type: application/json\r\n"
        "Authorization: Bearer sk-bench\r\n"
        "User-Agent: chatdouble-bench/1\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode() + body


def ends(body: bytes | bytearray) -> bool:
    """Whether a stream's last event is its terminal `response.completed`."""
    return body.rfind(b"event: ") == body.rfind(TERMINAL)


def _response(
    model: str, created: int, status: str, output: list[Any], usage: Any, completed: int | None
) -> dict[str, Any]:
    image = {"image_tokens": 0, "text_tokens": 0}
    return {
        "id": RESPONSE_ID,
        "object": "response",
        "created_at": created,
        "status": status,
        "background": False,
        "completed_at": completed,
        "error": None,
        "frequency_penalty": 0.0,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "max_tool_calls": None,
        "model": model,
        "moderation": None,
        "output": output,
        "parallel_tool_calls": True,
        "presence_penalty": 0.0,
        "previous_response_id": None,
        "prompt_cache_key": None,
        "prompt_cache_retention": None,
        "reasoning": {"effort": None, "summary": None},
        "safety_identifier": None,
        "service_tier": "default" if completed else "auto",
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tool_usage": {
            "image_gen": {
                "input_tokens": 0,
                "input_tokens_details": image,
                "output_tokens": 0,
                "output_tokens_details": image,
                "total_tokens": 0,
            },
            "web_search": {"num_requests": 0},
        },
        "tools": [],
        "top_logprobs": 0,
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": {},
    }


def frames(
    created: int, model: str, message: str, pieces: tuple[str, ...], prompt_tokens: int
) -> tuple[bytes, ...]:
    """The events of a reply of `message` in `pieces` (one delta each), framed."""
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
    done_part = {**part, "text": message}
    item = {"id": MESSAGE_ID, "type": "message", "status": "in_progress", "content": [], "role": "assistant"}
    done_item = {**item, "status": "completed", "content": [done_part]}
    where = {"content_index": 0, "item_id": MESSAGE_ID, "output_index": 0}
    tokens = len(pieces)
    usage = {
        "input_tokens": prompt_tokens,
        "input_tokens_details": {"cache_write_tokens": 0, "cached_tokens": 0},
        "output_tokens": tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": prompt_tokens + tokens,
    }
    pad = "aB3dE5gH7jK9mN1pQ"
    events: list[tuple[str, dict[str, Any]]] = [
        ("response.created", {"response": _response(model, created, "in_progress", [], None, None)}),
        ("response.in_progress", {"response": _response(model, created, "in_progress", [], None, None)}),
        ("response.output_item.added", {"item": item, "output_index": 0}),
        ("response.content_part.added", {**where, "part": part}),
    ]
    events += [
        (
            "response.output_text.delta",
            {**where, "delta": piece, "logprobs": [], "obfuscation": pad[: -len(piece) % 16]},
        )
        for piece in pieces
    ]
    events += [
        ("response.output_text.done", {**where, "logprobs": [], "text": message}),
        ("response.content_part.done", {**where, "part": done_part}),
        ("response.output_item.done", {"item": done_item, "output_index": 0}),
        (
            "response.completed",
            {"response": _response(model, created, "completed", [done_item], usage, created)},
        ),
    ]
    out = []
    for number, (kind, fields) in enumerate(events):
        data = {"type": kind, **dict(sorted(fields.items())), "sequence_number": number}
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        out.append(f"event: {kind}\ndata: {text}\n\n".encode())
    return tuple(out)
