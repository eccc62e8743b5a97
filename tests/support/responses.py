"""Helpers for the Responses API tests: strict validation of bodies and events against the official
SDK's models, the exact byte framing of its stream, and the order rules its events follow.

The real API sends a few keys the SDK (3.57) does not declare; they are allowed by name below, each
seen in real recordings (/tmp/cd/responses-facts.md §3, §6), and every other undeclared key fails.
The `error` event is checked by hand: the wire nests it (`{"type":"error","error":{...}}`) where the
SDK's `ResponseErrorEvent` is flat, and the SDK never parses it (its stream raises `APIError` on any
payload with a top-level `error`).
"""

from __future__ import annotations

import json
from typing import Any

from openai.types.responses import Response, ResponseItemList, ResponseStreamEvent
from pydantic import TypeAdapter

from tests.support import sse
from tests.support.contract import assert_known_keys

PATH = "/v1/responses"
# Keys of real bodies and events the SDK's models leave out: billing only in whole bodies
# (non-stream, retrieve), the sampling echoes and `store` everywhere, the pad on streamed deltas.
UNDECLARED: dict[str, frozenset[str]] = {
    "Response": frozenset({"billing", "frequency_penalty", "presence_penalty", "store"}),
    "ResponseTextDeltaEvent": frozenset({"obfuscation"}),
    "ResponseFunctionCallArgumentsDeltaEvent": frozenset({"obfuscation"}),
    "ResponseReasoningSummaryTextDeltaEvent": frozenset({"obfuscation"}),
}
TERMINAL = ("response.completed", "response.incomplete", "response.failed")
_EVENTS: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)


def validate_response(raw: dict[str, Any], *, whole: bool = True) -> Response:
    """A response object, strictly; `whole` for a body on its own (it carries `billing`)."""
    response = Response.model_validate(raw, strict=True)
    assert_known_keys(raw, response, undeclared=UNDECLARED)
    assert raw["object"] == "response"
    assert raw["id"].startswith("resp_")
    assert ("billing" in raw) is whole, "billing is in whole bodies only, not in stream snapshots"
    assert list(raw)[:4] == ["id", "object", "created_at", "status"]
    middle = list(raw)[4:-2]
    assert middle == sorted(middle), "the API writes the other keys in alphabetical order"
    assert list(raw)[-2:] == ["user", "metadata"]
    return response


def validate_item_list(raw: dict[str, Any]) -> ResponseItemList:
    page = ResponseItemList.model_validate(raw, strict=True)
    assert_known_keys(raw, page, undeclared=UNDECLARED)
    assert list(raw) == ["object", "data", "first_id", "last_id", "has_more"]
    return page


def validate_event(raw: dict[str, Any]) -> Any:
    """One stream event against the SDK's `ResponseStreamEvent` union (the `error` event by hand)."""
    keys = list(raw)
    assert keys[0] == "type", f"type comes first: {keys}"
    assert keys[1:] == sorted(keys[1:]), f"then the keys in alphabetical order: {keys}"
    if raw["type"] == "error":
        assert set(raw) == {"type", "error", "sequence_number"}
        assert list(raw["error"]) == ["type", "code", "message", "param"]
        return raw
    event = _EVENTS.validate_python(raw, strict=True)
    assert_known_keys(raw, event, undeclared=UNDECLARED)
    if "response" in raw:
        validate_response(raw["response"], whole=False)
    return event


def stream_events(body: bytes) -> list[dict[str, Any]]:
    """The events of a body framed exactly as the API frames a Responses stream, each validated.

    Every frame is `event: <type>\\n` then `data: <compact JSON>\\n\\n`, nothing else (no `\\r`,
    comment, `id:`, `[DONE]`); the JSON is compact with non-ASCII as UTF-8; `sequence_number`
    runs from 0 without gaps; the stream ends with its terminal event.
    """
    assert b"\r" not in body, "the API ends lines with \\n only"
    events: list[dict[str, Any]] = []
    position = 0
    for frame in sse.frames(body):
        at = body[position : position + 80]
        assert frame.data is not None, f"a frame without data at {position}: {at!r}"
        assert frame.event is not None, f"a frame without its event line at {position}: {at!r}"
        expected = f"event: {frame.event}\ndata: {frame.data}\n\n".encode()
        assert body.startswith(expected, position), f"malformed bytes at {position}: {at!r}"
        position += len(expected)
        event = json.loads(frame.data)
        assert frame.data == json.dumps(event, ensure_ascii=False, separators=(",", ":")), "compact JSON"
        assert event["type"] == frame.event, "the event line names the payload's type"
        validate_event(event)
        events.append(event)
    assert position == len(body), f"bytes after the last frame: {body[position:][:80]!r}"
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    assert events, "a stream has events"
    assert events[-1]["type"] in TERMINAL, "the stream ends with its terminal event"
    return events


def check_order(events: list[dict[str, Any]]) -> list[list[str]]:
    """The lifecycle and item rules of a stream; returns each output item's event types, in order.

    `response.created` then `response.in_progress`; one terminal event, last; output items opened by
    `output_item.added` at the next `output_index` and closed by `output_item.done` before the next
    opens (never interleaved); every event inside an item names its id and index; content parts open
    and close in turn inside their message; the final response's output is the items as done.
    """
    assert [event["type"] for event in events[:2]] == ["response.created", "response.in_progress"]
    assert all(event["type"] not in TERMINAL for event in events[:-1])
    items: list[list[str]] = []
    done: list[dict[str, Any]] = []
    open_item: dict[str, Any] | None = None
    part: int | None = None
    for event in events[2:-1]:
        kind = event["type"]
        if kind == "response.output_item.added":
            assert open_item is None, "an item opens only after the previous one is done"
            assert event["output_index"] == len(items)
            open_item = event["item"]
            assert open_item.get("status", "in_progress") == "in_progress"  # reasoning items have none
            items.append([kind])
            continue
        assert open_item is not None, f"{kind} outside an item"
        assert event["output_index"] == len(items) - 1
        items[-1].append(kind)
        if kind == "response.output_item.done":
            assert event["item"]["id"] == open_item["id"]
            assert part is None, "parts close before their item"
            done.append(event["item"])
            open_item = None
            continue
        assert event["item_id"] == open_item["id"], f"{kind} names another item"
        if kind == "response.content_part.added":
            assert part is None
            part = event["content_index"]
        elif kind == "response.content_part.done":
            assert event["content_index"] == part
            part = None
        elif "content_index" in event:
            assert event["content_index"] == part, f"{kind} outside its content part"
    assert open_item is None, "every item is done before the terminal event"
    assert events[-1]["response"]["output"] == done
    return items


def collapse(kinds: list[str]) -> list[str]:
    """Event types with runs of the same delta type folded into one (`...delta*`)."""
    out: list[str] = []
    for kind in kinds:
        folded = kind + "*" if kind.endswith(".delta") else kind
        if not (out and out[-1] == folded and folded.endswith("*")):
            out.append(folded)
    return out


def texts(events: list[dict[str, Any]], kind: str, key: str = "delta") -> str:
    return "".join(event[key] for event in events if event["type"] == kind)
