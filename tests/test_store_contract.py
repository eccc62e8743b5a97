"""The response and completion stores behave the same in this process and in a real Redis
(docs/scale.md).

Each contract test runs against both implementations: a stored response comes back whole (its
conversation with calls, results and content parts too), per namespace, the oldest going first
beyond the store's size; a background run's events are followed from any sequence number, while
they are written and after, until it ends; a cancel stops the run and returns it ended; a
`store: false` response is readable only while it runs. Stored completions come back whole, are
listed in either order per namespace, take metadata updates and deletes, and the oldest go first.
Against Redis only: a second client (another process) follows, cancels and deletes a run that the
first one owns, and a run whose process is gone is ended by the canceller.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any

import pytest

from server.generation.conversation import Message, Part, Tool, ToolCall
from server.http.pagination import Cursor, page, page_of
from server.state.completions import CompletionStore, MemoryCompletionStore, StoredCompletion
from server.state.redis_completions import RedisCompletionStore
from server.state.redis_responses import RedisResponseStore
from server.state.responses import MemoryResponseStore, Progress, ResponseStore, StoredResponse
from server.state.shared import Shared, connect
from tests.support.redis_server import RedisServer

HISTORY = [
    Message("user", "hi", parts=(Part("text", "hi"), Part("image", detail="low", url="data:x"))),
    Message("assistant", "", calls=(ToolCall("call_1", "lookup", '{"q": 1}'),), said=False),
    Message("tool", "42", call_id="call_1"),
    Message("developer", "", tools=(Tool("later", {"type": "object", "properties": {}}, True, "Added."),)),
]


@pytest.fixture
async def responses(shared: Shared | None) -> AsyncIterator[ResponseStore]:
    store: ResponseStore = MemoryResponseStore(3) if shared is None else RedisResponseStore(shared, 3)
    yield store
    await store.aclose()


@pytest.fixture
def completions(shared: Shared | None) -> CompletionStore:
    return MemoryCompletionStore(3) if shared is None else RedisCompletionStore(shared, 3)


def response(response_id: str, **fields: Any) -> StoredResponse:
    body = {"id": response_id, "status": "completed", "background": True}
    return StoredResponse(response_id, body, [{"id": "msg_1", "type": "message"}], list(HISTORY), **fields)


async def followed(store: ResponseStore, namespace: str, response_id: str, after: int = -1) -> list[bytes]:
    return [frame async for frame in store.follow(namespace, response_id, after)]


class Script:
    """A background run that writes frames `a`, `b`, `c`, waiting before each until let go; a
    cancelled one ends `cancelled`, as the Responses runner does."""

    def __init__(self) -> None:
        self.gates = [asyncio.Event() for _ in range(3)]
        self.cancelled = False

    async def __call__(self, progress: Progress) -> None:
        written: list[str] = []
        try:
            for gate, frame in zip(self.gates, "abc", strict=True):
                await gate.wait()
                written.append(frame)
                await progress.publish({"status": "in_progress", "seen": written}, [frame.encode()])
        except asyncio.CancelledError:
            self.cancelled = True
            await progress.end({"status": "cancelled", "seen": written}, [], HISTORY[:1])
            raise
        await progress.end({"status": "completed", "seen": written}, [b"end"], HISTORY)

    def let_go(self, count: int = 3) -> None:
        for gate in self.gates[:count]:
            gate.set()


# ---------------------------------------------------------------- responses


async def test_a_response_comes_back_whole_in_its_namespace_only(responses: ResponseStore) -> None:
    await responses.put("ns", response("resp_1"))
    got = await responses.get("ns", "resp_1")
    assert got is not None
    assert (got.body, got.input_items, got.history) == (
        response("resp_1").body,
        [{"id": "msg_1", "type": "message"}],
        HISTORY,
    )
    assert (got.stored, got.running, got.readable) == (True, False, True)
    assert await responses.get("other", "resp_1") is None
    assert await responses.get("ns", "resp_2") is None


async def test_the_oldest_response_goes_first_beyond_the_stores_size(responses: ResponseStore) -> None:
    for index, namespace in enumerate(["a", "b\nsession", "a", "b\nsession"]):
        await responses.put(namespace, response(f"resp_{index}"))
    kept = [
        await responses.get(ns, f"resp_{i}") is not None
        for i, ns in enumerate(["a", "b\nsession", "a", "b\nsession"])
    ]
    assert kept == [False, True, True, True]


async def test_a_deleted_response_is_gone(responses: ResponseStore) -> None:
    await responses.put("ns", response("resp_1"))
    assert await responses.delete("ns", "resp_1") is True
    assert await responses.get("ns", "resp_1") is None
    assert await responses.delete("ns", "resp_1") is False


async def test_a_run_is_followed_from_any_point_while_it_writes_and_after(responses: ResponseStore) -> None:
    script = Script()
    await responses.run("ns", response("resp_1", stored=True), script)
    running = await responses.get("ns", "resp_1")
    assert running is not None
    assert running.running
    follower = asyncio.create_task(followed(responses, "ns", "resp_1"))
    script.let_go(1)
    late = asyncio.create_task(followed(responses, "ns", "resp_1", after=0))
    script.let_go()
    assert await follower == [b"a", b"b", b"c", b"end"]
    assert await late == [b"b", b"c", b"end"]
    assert await followed(responses, "ns", "resp_1", after=2) == [b"end"]
    assert await followed(responses, "ns", "resp_1", after=40) == []
    ended = await responses.get("ns", "resp_1")
    assert ended is not None
    assert (ended.running, ended.body["status"], ended.history) == (False, "completed", HISTORY)


async def test_a_cancel_stops_the_run_and_returns_it_ended(responses: ResponseStore) -> None:
    script = Script()
    await responses.run("ns", response("resp_1"), script)
    follower = asyncio.create_task(followed(responses, "ns", "resp_1"))
    script.let_go(1)
    cancelled = await responses.cancel("ns", "resp_1")
    assert cancelled is not None
    assert script.cancelled
    assert (cancelled.running, cancelled.body["status"], cancelled.history) == (
        False,
        "cancelled",
        HISTORY[:1],
    )
    assert (await follower)[-1:] in ([b"a"], [])  # it ends; "a" only if it was written before the cancel
    again = await responses.cancel("ns", "resp_1")
    assert again is not None
    assert again.body["status"] == "cancelled"


async def test_a_response_not_stored_is_readable_only_while_it_runs(responses: ResponseStore) -> None:
    script = Script()
    await responses.run("ns", response("resp_1", stored=False), script)
    during = await responses.get("ns", "resp_1")
    assert during is not None
    assert during.readable
    script.let_go()
    await followed(responses, "ns", "resp_1")
    after = await responses.get("ns", "resp_1")
    assert after is not None
    assert not after.readable


async def test_deleting_a_running_response_stops_it(responses: ResponseStore) -> None:
    script = Script()
    await responses.run("ns", response("resp_1"), script)
    follower = asyncio.create_task(followed(responses, "ns", "resp_1"))
    assert await responses.delete("ns", "resp_1") is True
    await follower  # ends: its response is gone
    assert await responses.get("ns", "resp_1") is None


# ---------------------------------------------------------------- responses, across two Redis clients


@pytest.fixture
async def two_stores(redis: RedisServer) -> AsyncIterator[tuple[RedisResponseStore, RedisResponseStore]]:
    prefix = f"pair-{uuid.uuid4().hex[:12]}:"
    states = [connect(redis.url, prefix, 600) for _ in range(2)]
    stores = (RedisResponseStore(states[0], 10), RedisResponseStore(states[1], 10))
    yield stores
    for store, state in zip(stores, states, strict=True):
        await store.aclose()
        await state.aclose()


async def test_another_process_follows_and_cancels_a_run(two_stores: tuple[RedisResponseStore, ...]) -> None:
    owner, other = two_stores
    script = Script()
    await owner.run("ns", response("resp_1"), script)
    follower = asyncio.create_task(followed(other, "ns", "resp_1"))
    script.let_go(1)
    cancelled = await other.cancel("ns", "resp_1")  # the owner's watcher stops its run
    assert script.cancelled
    assert cancelled is not None
    assert cancelled.body == {"status": "cancelled", "seen": cancelled.body["seen"]}
    assert not cancelled.running
    await follower


async def test_another_process_deletes_a_run_and_the_owner_stops_it(
    two_stores: tuple[RedisResponseStore, ...],
) -> None:
    owner, other = two_stores
    script = Script()
    await owner.run("ns", response("resp_1"), script)
    assert await other.delete("ns", "resp_1") is True
    script.let_go(1)  # were it still running, this would write "a"
    assert await owner.get("ns", "resp_1") is None
    assert await followed(owner, "ns", "resp_1") == []


async def test_a_run_whose_process_is_gone_is_ended_by_the_canceller(redis: RedisServer) -> None:
    state = connect(redis.url, f"gone-{uuid.uuid4().hex[:12]}:", 600)
    other = RedisResponseStore(state, 10, cancel_wait=0.2)
    try:
        await other.put("ns", response("resp_1", running=True))  # as a process that died mid-run left it
        cancelled = await other.cancel("ns", "resp_1")
        assert cancelled is not None
        assert (cancelled.running, cancelled.body["status"]) == (False, "cancelled")
        assert await followed(other, "ns", "resp_1") == []
    finally:
        await state.aclose()


# ---------------------------------------------------------------- stored completions


def completion(completion_id: str, model: str = "gpt-4o", **metadata: str) -> StoredCompletion:
    body = {"id": completion_id, "object": "chat.completion", "model": model, "metadata": metadata}
    return StoredCompletion(
        completion_id, body, [{"id": f"{completion_id}-0", "role": "user", "content": "hi"}]
    )


async def listed(store: CompletionStore, namespace: str, order: Any = "asc") -> list[str]:
    return [body["id"] async for body in store.bodies(namespace, order)]


async def test_a_completion_comes_back_whole_in_its_namespace_only(completions: CompletionStore) -> None:
    await completions.put("ns", completion("chatcmpl-1", topic="x"))
    got = await completions.get("ns", "chatcmpl-1")
    assert got == completion("chatcmpl-1", topic="x")
    assert await completions.get("other", "chatcmpl-1") is None


async def test_completions_are_listed_per_namespace_in_either_order(completions: CompletionStore) -> None:
    for name, namespace in [("c1", "ns"), ("c2", "ns\nsession"), ("c3", "ns")]:
        await completions.put(namespace, completion(name))
    assert await listed(completions, "ns") == ["c1", "c3"]
    assert await listed(completions, "ns", "desc") == ["c3", "c1"]
    assert await listed(completions, "ns\nsession") == ["c2"]
    assert await listed(completions, "other") == []


async def test_the_oldest_completion_goes_first_beyond_the_stores_size(completions: CompletionStore) -> None:
    for index in range(5):
        await completions.put("ns" if index % 2 else "other", completion(f"c{index}"))
    assert await listed(completions, "other") == ["c2", "c4"]  # the store keeps the last three
    assert await listed(completions, "ns") == ["c3"]
    assert await completions.get("other", "c0") is None


async def test_an_update_replaces_the_metadata_and_a_delete_forgets(completions: CompletionStore) -> None:
    await completions.put("ns", completion("c1", topic="x"))
    updated = await completions.update("ns", "c1", {"topic": "y", "run": "2"})
    assert updated is not None
    assert updated["metadata"] == {"topic": "y", "run": "2"}
    got = await completions.get("ns", "c1")
    assert got is not None
    assert got.body["metadata"] == {"topic": "y", "run": "2"}
    assert await completions.update("ns", "missing", {}) is None
    assert await completions.delete("ns", "c1") is True
    assert await completions.delete("ns", "c1") is False
    assert await listed(completions, "ns") == []
    assert await completions.update("ns", "c1", {}) is None


async def test_a_long_list_is_read_in_chunks_in_order(shared: Shared | None) -> None:
    store = MemoryCompletionStore(500) if shared is None else RedisCompletionStore(shared, 500)
    for index in range(120):
        await store.put("ns", completion(f"c{index:03}"))
    assert await listed(store, "ns") == [f"c{index:03}" for index in range(120)]
    assert await listed(store, "ns", "desc") == [f"c{index:03}" for index in reversed(range(120))]


# ---------------------------------------------------------------- pages read lazily


async def _items(items: Sequence[dict[str, Any]]) -> AsyncGenerator[dict[str, Any], None]:
    for item in items:
        yield item


@pytest.mark.parametrize("after", [None, "i0", "i3", "i9", "missing"])
@pytest.mark.parametrize("limit", [0, 1, 3, 10, 20])
@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_a_page_read_lazily_is_the_page_of_the_whole_list(
    after: str | None, limit: int, order: Any
) -> None:
    items = [{"id": f"i{index}"} for index in range(10)]
    cursor = Cursor(after, limit, order)
    ordered = items if order == "asc" else items[::-1]
    assert await page_of(_items(ordered), cursor) == page(items, cursor)


async def test_a_response_with_an_integer_beyond_64_bits_comes_back(responses: ResponseStore) -> None:
    huge = 10**30
    body = {"id": "resp_big", "status": "completed", "seed": huge}
    await responses.put("ns", StoredResponse("resp_big", body, [], list(HISTORY)))
    got = await responses.get("ns", "resp_big")
    assert got is not None
    assert got.body["seed"] == huge
