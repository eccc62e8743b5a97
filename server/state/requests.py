"""The in-memory request journal: the latest requests of each namespace, for the admin API.

Each namespace keeps at most `capacity` entries (the `journal.memory` setting); the oldest go
first. Sequence numbers come from one counter for the whole process, so they only grow: a client
that read up to `seq` asks for what came after it, across clears. An entry keeps, besides what the
API lists, what verify matches against (the request's conversation and bytes); those are never
listed. A namespace whose journal is cleared is forgotten whole, so per-test namespaces that are
reset do not accumulate.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from server.generation.conversation import Conversation


@dataclass(slots=True)
class Subject:
    """What verify matches a journaled request against; never listed."""

    conversation: Conversation | None  # None when the request never reached a backend
    raw: bytes  # the client's body, for `match.request`


@dataclass(slots=True)
class RequestEntry:
    """A journaled request. What the API lists is built the first time it is asked for, not on the
    request path: most entries of a test run are never listed."""

    seq: int
    endpoint: str
    subject: Subject = field(repr=False)
    build: Callable[[], dict[str, Any]] = field(repr=False)
    _listed: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def listed(self) -> dict[str, Any]:
        """The entry as `GET /_chatdouble/requests` shows it."""
        if self._listed is None:
            self._listed = self.build()
        return self._listed


class RequestLog:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: dict[str, deque[RequestEntry]] = {}
        self._seq = itertools.count(1)

    def next_seq(self) -> int:
        return next(self._seq)

    def append(self, namespace: str, entry: RequestEntry) -> None:
        entries = self._entries.get(namespace)
        if entries is None:
            entries = self._entries[namespace] = deque(maxlen=self.capacity)
        entries.append(entry)

    def of(self, namespace: str) -> list[RequestEntry]:
        """The namespace's entries, oldest first."""
        return list(self._entries.get(namespace, ()))

    def after(self, namespace: str, since: int, limit: int) -> tuple[list[RequestEntry], bool]:
        """Up to `limit` entries with a `seq` above `since`, oldest first, and whether more follow."""
        later = [entry for entry in self._entries.get(namespace, ()) if entry.seq > since]
        return later[:limit], len(later) > limit

    def clear(self, namespace: str) -> int:
        """Forget the namespace's entries; how many there were."""
        return len(self._entries.pop(namespace, ()))
