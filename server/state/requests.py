"""The request journal's store: the latest requests of each namespace, for the admin API.

`Requests` is the interface; `RequestLog` keeps the entries in this process, and the shared one
(`server/state/redis_requests.py`, the `state` setting) keeps them in Redis for several processes.
Each namespace keeps at most `capacity` entries (the `journal.memory` setting); the oldest go first.
Sequence numbers only grow, so a client that read up to `seq` asks for what came after it, across
clears: in this process one counter serves every namespace, in Redis one counter per namespace. An
entry keeps, besides what the API lists, what verify matches against (the request's conversation
and bytes); those are never listed. A namespace whose journal is cleared is forgotten whole, so
per-test namespaces that are reset do not accumulate.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from server.generation.conversation import Conversation

LISTED = "chatdouble.request"  # the listed entry's `object`


@dataclass(slots=True)
class Subject:
    """What verify matches a journaled request against; never listed.

    With `rebuild` (a chat request's: its conversation is a function of its body), the in-process
    store lets the conversation go (`release`) and verify makes it again from the bytes each time it
    reads it (once per entry a verification; not kept, or the memory would fill again). A
    conversation is some 25 small objects with the validated body it keeps; a thousand kept per
    namespace made every request slower (about 5% of the server's non-stream throughput), as the
    memory each new request takes was then seldom warm."""

    held: Conversation | None  # None when the request never reached a backend, or once released
    raw: bytes  # the client's body, for `match.request`
    rebuild: Callable[[bytes], Conversation] | None = field(default=None, compare=False, repr=False)

    @property
    def conversation(self) -> Conversation | None:
        """The conversation the backend got; None when the request never reached one."""
        if self.held is None and self.rebuild is not None:
            return self.rebuild(self.raw)
        return self.held

    def release(self) -> None:
        """Let the conversation go when it can be made again."""
        if self.rebuild is not None:
            self.held = None


@dataclass(slots=True)
class RequestEntry:
    """A journaled request. What the API lists is built the first time it is asked for, not on the
    request path: most entries of a test run are never listed. `build` gives every listed field
    but `object` and `seq`, which the store assigns when it appends the entry."""

    seq: int
    endpoint: str
    subject: Subject = field(repr=False)
    build: Callable[[], dict[str, Any]] = field(repr=False)
    _listed: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def listed(self) -> dict[str, Any]:
        """The entry as `GET /_chatdouble/requests` shows it."""
        if self._listed is None:
            self._listed = {"object": LISTED, "seq": self.seq, **self.build()}
        return self._listed


class Requests(Protocol):
    capacity: int

    async def append(self, namespace: str, entry: RequestEntry) -> None:
        """Journal `entry` in `namespace`, giving it the next `seq`."""
        ...

    async def of(self, namespace: str) -> list[RequestEntry]:
        """The namespace's entries, oldest first."""
        ...

    async def after(self, namespace: str, since: int, limit: int) -> tuple[list[RequestEntry], bool]:
        """Up to `limit` entries with a `seq` above `since`, oldest first, and whether more follow."""
        ...

    async def clear(self, namespace: str) -> int:
        """Forget the namespace's entries; how many there were."""
        ...

    async def aclose(self) -> None:
        """Finish what is still being written."""
        ...


class RequestLog:
    """The journal in this process: one event loop, and no operation suspends."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: dict[str, deque[RequestEntry]] = {}
        self._seq = itertools.count(1)

    async def append(self, namespace: str, entry: RequestEntry) -> None:
        self.add(namespace, entry)

    def add(self, namespace: str, entry: RequestEntry) -> None:
        """`append`, for a caller that knows the entries are kept here and need not await it."""
        entry.seq = next(self._seq)
        entry.subject.release()  # kept for long: what can be made again is not kept (`Subject`)
        entries = self._entries.get(namespace)
        if entries is None:
            entries = self._entries[namespace] = deque(maxlen=self.capacity)
        entries.append(entry)

    async def of(self, namespace: str) -> list[RequestEntry]:
        return list(self._entries.get(namespace, ()))

    async def after(self, namespace: str, since: int, limit: int) -> tuple[list[RequestEntry], bool]:
        later = [entry for entry in self._entries.get(namespace, ()) if entry.seq > since]
        return later[:limit], len(later) > limit

    async def clear(self, namespace: str) -> int:
        return len(self._entries.pop(namespace, ()))

    async def aclose(self) -> None:
        return None
