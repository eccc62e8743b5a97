"""A conversation as JSON and back, for stores that keep it outside this process (Redis): what a
chained request (`previous_response_id`) continues must come back exactly as it was kept, with
its calls, results and content parts, so that its tokens count the same on any process."""

from __future__ import annotations

from typing import Any

from server.generation.conversation import Message, Part, Tool, ToolCall
from server.state import codec


def dumps(history: list[Message]) -> str:
    return codec.text(history)  # orjson writes dataclasses (and tuples) as they are


def loads(text: str) -> list[Message]:
    return [_message(item) for item in codec.loads(text)]


def _message(item: dict[str, Any]) -> Message:
    """A message as kept: JSON arrays become the tuples a Message holds (its calls, parts, and any
    other tuple field), so what comes back equals what was kept."""
    parts = item.get("parts")
    fields: dict[str, Any] = {
        key: tuple(value) if isinstance(value, list) else value for key, value in item.items()
    }
    fields["calls"] = tuple(ToolCall(**call) for call in item.get("calls", ()))
    fields["parts"] = None if parts is None else tuple(Part(**part) for part in parts)
    fields["tools"] = tuple(Tool(**tool) for tool in item.get("tools", ()))
    return Message(**fields)
