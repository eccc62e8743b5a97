"""Stored responses, per namespace: what `GET`, `DELETE`, `input_items`, `previous_response_id`,
background responses (their events, followed while they run) and `cancel` read.

`ResponseStore` is the interface; this module holds the in-process implementation, and
`redis_responses.py` the shared one (`state: redis://...`), so that every process of a deployment
reads the same responses. A background response runs in the process that created it; the store
starts it there (`run`), its runner writes its progress through the store (`Progress`), and any
process follows its events or cancels it through the store. The in-process store keeps at most
`limit` responses per server and evicts the oldest first.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from server.generation.conversation import Message


@dataclass(slots=True)
class StoredResponse:
    """A response kept for later: its object as last written, its input items (with ids), and the
    conversation it ends (for a chained request)."""

    id: str
    body: dict[str, Any]
    input_items: list[dict[str, Any]]
    history: list[Message]
    stored: bool = True  # False: kept only while it runs (a background response with store: false)
    running: bool = False  # a background response still producing events

    @property
    def readable(self) -> bool:
        """Whether it can be read or continued: a `store: false` one only while it runs."""
        return self.stored or self.running


class Progress(Protocol):
    """A running background response, as its runner writes it."""

    async def publish(self, body: dict[str, Any], frames: Sequence[bytes]) -> None:
        """Its object as it is now, and its new events (SSE frames); followers wake up."""
        ...

    async def end(self, body: dict[str, Any], frames: Sequence[bytes], history: list[Message]) -> None:
        """Its last object and events, and the conversation it ends: it runs no more."""
        ...


Runner = Callable[[Progress], Coroutine[Any, Any, None]]


class Run:
    """A background run in this process, and how it is stopped.

    A task cancelled before its first step never runs its body, so its runner could not write its
    end: `stop` waits until the runner is under way. And on Python 3.11, `asyncio.wait_for` (which
    the Redis client awaits replies through) swallows a cancel that arrives as the reply does
    (CPython gh-86296), so a runner could carry on: its progress raises the cancel again after
    each write once the run is being stopped."""

    def __init__(self, runner: Runner, progress: Progress) -> None:
        self.started = asyncio.Event()
        self.stopping = False
        self.task = asyncio.get_running_loop().create_task(self._body(runner, _Stoppable(progress, self)))

    async def _body(self, runner: Runner, progress: Progress) -> None:
        self.started.set()
        await runner(progress)

    def cancel(self) -> None:
        self.stopping = True
        self.task.cancel()

    async def stop(self) -> None:
        """Cancel the run and wait until it has ended."""
        await self.started.wait()
        self.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


class _Stoppable:
    def __init__(self, progress: Progress, run: Run) -> None:
        self._progress, self._run = progress, run

    async def publish(self, body: dict[str, Any], frames: Sequence[bytes]) -> None:
        await self._progress.publish(body, frames)
        if self._run.stopping:
            raise asyncio.CancelledError

    async def end(self, body: dict[str, Any], frames: Sequence[bytes], history: list[Message]) -> None:
        await self._progress.end(body, frames, history)


class ResponseStore(Protocol):
    async def get(self, namespace: str, response_id: str) -> StoredResponse | None: ...

    async def put(self, namespace: str, response: StoredResponse) -> None:
        """Keep a finished response."""
        ...

    async def delete(self, namespace: str, response_id: str) -> bool:
        """Forget it (a running one is stopped first); whether it was there."""
        ...

    async def run(self, namespace: str, response: StoredResponse, runner: Runner) -> None:
        """Keep `response` as running, and start `runner` in this process to write its progress."""
        ...

    def follow(self, namespace: str, response_id: str, after: int) -> AsyncIterator[bytes]:
        """A background response's events after sequence number `after`, until it ends."""
        ...

    async def cancel(self, namespace: str, response_id: str) -> StoredResponse | None:
        """Stop a running background response wherever it runs, and return it once it has ended."""
        ...

    async def aclose(self) -> None: ...


@dataclass(slots=True)
class _Entry:
    """One response with what its background run leaves: its events and who waits for more."""

    record: StoredResponse
    events: list[bytes] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    run: Run | None = None

    def wake(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


class _MemoryProgress:
    def __init__(self, entry: _Entry) -> None:
        self._entry = entry

    async def publish(self, body: dict[str, Any], frames: Sequence[bytes]) -> None:
        self._entry.record.body = body
        self._entry.events.extend(frames)
        self._entry.wake()

    async def end(self, body: dict[str, Any], frames: Sequence[bytes], history: list[Message]) -> None:
        entry = self._entry
        entry.record.body, entry.record.history, entry.record.running = body, history, False
        entry.events.extend(frames)
        entry.run = None
        entry.wake()


class MemoryResponseStore:
    """The in-process store: a bounded, insertion-ordered map from (namespace, id) to a response.
    None of its operations suspend, except waiting for a background response's events."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[tuple[str, str], _Entry] = OrderedDict()

    async def get(self, namespace: str, response_id: str) -> StoredResponse | None:
        entry = self._items.get((namespace, response_id))
        return None if entry is None else entry.record

    async def put(self, namespace: str, response: StoredResponse) -> None:
        self._keep(namespace, _Entry(response))

    def _keep(self, namespace: str, entry: _Entry) -> None:
        key = (namespace, entry.record.id)
        self._items[key] = entry
        self._items.move_to_end(key)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)

    async def delete(self, namespace: str, response_id: str) -> bool:
        entry = self._items.pop((namespace, response_id), None)
        if entry is not None and entry.run is not None:
            entry.run.cancel()  # gone: whether it writes its end no longer matters
        return entry is not None

    async def run(self, namespace: str, response: StoredResponse, runner: Runner) -> None:
        response.running = True
        entry = _Entry(response)
        self._keep(namespace, entry)
        entry.run = Run(runner, _MemoryProgress(entry))

    async def follow(self, namespace: str, response_id: str, after: int) -> AsyncIterator[bytes]:
        entry = self._items.get((namespace, response_id))
        if entry is None:
            return
        sent = after + 1
        while True:
            while sent < len(entry.events):
                yield entry.events[sent]
                sent += 1
            if not entry.record.running:
                return
            await entry.changed.wait()

    async def cancel(self, namespace: str, response_id: str) -> StoredResponse | None:
        entry = self._items.get((namespace, response_id))
        if entry is None:
            return None
        if entry.run is not None:
            await entry.run.stop()
        return entry.record

    async def aclose(self) -> None:
        return None
