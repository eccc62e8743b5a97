"""A request's input as the API lists it back (`GET /v1/responses/{id}/input_items`): every item
with an id, a string input as one user message of `input_text`.

Listed items take the shape of the API's item resources, which the SDK types strictly: `id` and
`type` first, then `status` (calls and their outputs always have one), then the other keys in
alphabetical order, as output items are written; an assistant message's text is an `output_text`
part with its `annotations` and `logprobs`, as in the response that said it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.responses.ids import ResponseIds
from server.wire.responses_input import InputItem, MessageItem

# Prefixes for items that came without an id (messages are `msg_`, as the API's).
_PREFIXES = {
    "message": "msg",
    "function_call": "fc",
    "function_call_output": "fco",
    "reasoning": "rs",
    "custom_tool_call": "ctc",
    "custom_tool_call_output": "ctco",
    "item_reference": "ref",
}


# Item kinds whose listed resource always carries a status.
_WITH_STATUS = frozenset(
    {"function_call", "function_call_output", "custom_tool_call", "custom_tool_call_output"}
)


def _output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def _part(part: dict[str, Any]) -> dict[str, Any]:
    if part.get("type") == "output_text":
        return {**_output_text(part.get("text", "")), **{k: v for k, v in part.items() if v is not None}}
    return part


def _message(item: MessageItem, item_id: str) -> dict[str, Any]:
    if isinstance(item.content, str):
        content: list[Any] = [
            _output_text(item.content)
            if item.role == "assistant"
            else {"type": "input_text", "text": item.content}
        ]
    else:
        content = [
            _part(part.model_dump(mode="json", exclude_unset=True, by_alias=True)) for part in item.content
        ]
    return {
        "id": item_id,
        "type": "message",
        "status": item.status or "completed",
        "content": content,
        "role": item.role,
    }


def input_items(items: str | Sequence[InputItem] | None, ids: ResponseIds) -> list[dict[str, Any]]:
    if items is None:
        return []
    if isinstance(items, str):
        return [
            {
                "id": ids.make("msg"),
                "type": "message",
                "status": "completed",
                "content": [{"type": "input_text", "text": items}],
                "role": "user",
            }
        ]
    listed: list[dict[str, Any]] = []
    for item in items:
        kind = str(getattr(item, "type", None) or "message")
        item_id = getattr(item, "id", None) or ids.make(_PREFIXES.get(kind, "item"))
        if isinstance(item, MessageItem):
            listed.append(_message(item, item_id))
            continue
        listed.append(_item(item.model_dump(mode="json", exclude_unset=True, by_alias=True), kind, item_id))
    return listed


def _item(shown: dict[str, Any], kind: str, item_id: str) -> dict[str, Any]:
    rest = {key: value for key, value in shown.items() if key not in ("id", "type", "status")}
    head: dict[str, Any] = {"id": item_id, "type": kind}
    if kind in _WITH_STATUS or "status" in shown:
        head["status"] = shown.get("status") or "completed"
    return head | dict(sorted(rest.items()))
