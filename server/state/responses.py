"""Stored responses, per namespace: what `GET`, `DELETE`, `input_items`, `previous_response_id` and
background responses read.

The store is behind a small interface so that a shared implementation (Redis) can stand in later
without touching the dialect. The in-process one keeps at most `limit` responses per server and
evicts the oldest first.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Protocol

from server.generation.conversation import Message


@dataclass(slots=True)
class StoredResponse:
    """A response kept for later: its object as last written, its input items (with ids), the
    conversation it ends (for a chained request), and, while it runs in the background, its
    events and the task producing them."""

    id: str
    body: dict[str, Any]
    input_items: list[dict[str, Any]]
    history: list[Message]
    events: list[bytes] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    stored: bool = True  # False: kept only while it runs (a background response with store: false)

    def publish(self, frames: list[bytes]) -> None:
        """New events of a background response; readers waiting on `changed` wake up."""
        self.events.extend(frames)
        self.changed.set()
        self.changed = asyncio.Event()


class ResponseStore(Protocol):
    def get(self, namespace: str, response_id: str) -> StoredResponse | None: ...

    def put(self, namespace: str, response: StoredResponse) -> None: ...

    def delete(self, namespace: str, response_id: str) -> bool: ...


class MemoryResponseStore:
    """The in-process store: a bounded, insertion-ordered map from (namespace, id) to a response."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[tuple[str, str], StoredResponse] = OrderedDict()

    def get(self, namespace: str, response_id: str) -> StoredResponse | None:
        return self._items.get((namespace, response_id))

    def put(self, namespace: str, response: StoredResponse) -> None:
        key = (namespace, response.id)
        self._items[key] = response
        self._items.move_to_end(key)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)

    def delete(self, namespace: str, response_id: str) -> bool:
        return self._items.pop((namespace, response_id), None) is not None
