"""Stored chat completions, per namespace: what `GET`, `POST` (metadata), `DELETE`, `/messages` and
the list of `/v1/chat/completions` read.

`CompletionStore` is the interface; this module holds the in-process implementation, and
`redis_completions.py` the shared one (`state: redis://...`). The list is read lazily in the order
asked for, so a page reads only as far as it needs. The in-process store keeps at most `limit`
completions per server and evicts the oldest first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Order = Literal["asc", "desc"]


@dataclass(slots=True)
class StoredCompletion:
    """A completion created with `store: true`: its `chat.completion` object as the API returns it
    from the store (with `metadata`), and the request's messages as `/messages` lists them."""

    id: str
    body: dict[str, Any]
    messages: list[dict[str, Any]]


class CompletionStore(Protocol):
    async def get(self, namespace: str, completion_id: str) -> StoredCompletion | None: ...

    async def put(self, namespace: str, completion: StoredCompletion) -> None: ...

    async def update(
        self, namespace: str, completion_id: str, metadata: dict[str, str]
    ) -> dict[str, Any] | None:
        """Replace its metadata; its object after, or None when it is not there."""
        ...

    async def delete(self, namespace: str, completion_id: str) -> bool: ...

    def bodies(self, namespace: str, order: Order) -> AsyncIterator[dict[str, Any]]:
        """The namespace's completions' objects, oldest first (`asc`) or newest first."""
        ...


class MemoryCompletionStore:
    """The in-process store: a bounded, insertion-ordered map from (namespace, id) to a completion."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[tuple[str, str], StoredCompletion] = OrderedDict()

    async def get(self, namespace: str, completion_id: str) -> StoredCompletion | None:
        return self._items.get((namespace, completion_id))

    async def put(self, namespace: str, completion: StoredCompletion) -> None:
        key = (namespace, completion.id)
        self._items[key] = completion
        self._items.move_to_end(key)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)

    async def update(
        self, namespace: str, completion_id: str, metadata: dict[str, str]
    ) -> dict[str, Any] | None:
        record = self._items.get((namespace, completion_id))
        if record is None:
            return None
        record.body["metadata"] = metadata
        return record.body

    async def delete(self, namespace: str, completion_id: str) -> bool:
        return self._items.pop((namespace, completion_id), None) is not None

    async def bodies(self, namespace: str, order: Order) -> AsyncIterator[dict[str, Any]]:
        kept = [item.body for (owner, _), item in self._items.items() if owner == namespace]
        for body in kept if order == "asc" else reversed(kept):
            yield body
