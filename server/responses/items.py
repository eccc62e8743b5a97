"""A request's input as the API lists it back (`GET /v1/responses/{id}/input_items`): every item
with an id, a string input as one user message of `input_text`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.responses.ids import ResponseIds
from server.wire.responses_request import InputItem, MessageItem

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


def _message(item: MessageItem, item_id: str) -> dict[str, Any]:
    if isinstance(item.content, str):
        kind = "output_text" if item.role == "assistant" else "input_text"
        content: list[Any] = [{"type": kind, "text": item.content}]
    else:
        content = [part.model_dump(mode="json", exclude_unset=True, by_alias=True) for part in item.content]
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
        shown = item.model_dump(mode="json", exclude_unset=True, by_alias=True)
        # `type` may have been left out (an item reference): the list names every item's kind.
        listed.append(
            {"id": item_id, "type": kind, **{k: v for k, v in shown.items() if k not in ("id", "type")}}
        )
    return listed
