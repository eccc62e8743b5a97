"""Stored chat completions, per namespace: what `GET`, `POST` (metadata), `DELETE`, `/messages` and
the list of `/v1/chat/completions` read.

Like the Responses store (`server/state/responses.py`), it sits behind a small interface so that a
shared implementation can stand in later. The in-process one keeps at most `limit` completions per
server and evicts the oldest first.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(slots=True)
class StoredCompletion:
    """A completion created with `store: true`: its `chat.completion` object as the API returns it
    from the store (with `metadata`), and the request's messages as `/messages` lists them."""

    id: str
    body: dict[str, Any]
    messages: list[dict[str, Any]]


class CompletionStore(Protocol):
    def get(self, namespace: str, completion_id: str) -> StoredCompletion | None: ...

    def put(self, namespace: str, completion: StoredCompletion) -> None: ...

    def delete(self, namespace: str, completion_id: str) -> bool: ...

    def listed(self, namespace: str) -> list[StoredCompletion]:
        """The namespace's completions, oldest first."""
        ...


class MemoryCompletionStore:
    """The in-process store: a bounded, insertion-ordered map from (namespace, id) to a completion."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[tuple[str, str], StoredCompletion] = OrderedDict()

    def get(self, namespace: str, completion_id: str) -> StoredCompletion | None:
        return self._items.get((namespace, completion_id))

    def put(self, namespace: str, completion: StoredCompletion) -> None:
        key = (namespace, completion.id)
        self._items[key] = completion
        self._items.move_to_end(key)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)

    def delete(self, namespace: str, completion_id: str) -> bool:
        return self._items.pop((namespace, completion_id), None) is not None

    def listed(self, namespace: str) -> list[StoredCompletion]:
        return [item for (owner, _), item in self._items.items() if owner == namespace]
