"""The state interfaces behave the same in this process and in a real Redis (docs/scale.md).

Each contract test runs against both implementations: fixture use counts (`Ledger`: an atomic
`take` bounded by the fixture's lifetime, per namespace, reset per namespace or whole), the
rate-limit budgets (`Budgets`: a leaky bucket drawn all or nothing, quotas that only grow), the
request journal (`Requests`: numbered entries, oldest first, capped per namespace, cleared per
namespace with numbers that keep growing, keeping what verify reads) and the runtime fixtures
(`RuntimeFixtures`: in the order added, an id held refused whole, removed and cleared with their
lifetimes). Against Redis, many concurrent `take`s over several connections consume each use
exactly once, two clients (two processes) journal into one order and see each other's fixtures,
journal entries written while Redis is gone wait and are written once it is back, and a Redis
that is gone answers a 503 `server_error` quickly instead of hanging.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import orjson
import pytest

from backends.fixtures.facts import Facts
from backends.fixtures.model import Fixture
from backends.fixtures.state import Ledger, MemoryLedger
from server.errors import APIError
from server.generation.conversation import Conversation, Message, Tool, ToolCall
from server.state.budgets import Budgets, Draw, MemoryBudgets
from server.state.fixtures import MemoryRuntimeFixtures, RuntimeFixtures
from server.state.redis_budgets import RedisBudgets
from server.state.redis_fixtures import RedisRuntimeFixtures
from server.state.redis_ledger import RedisLedger
from server.state.redis_requests import RedisRequests
from server.state.requests import RequestEntry, RequestLog, Requests, Subject
from server.state.shared import Shared, connect
from tests.support.redis_server import RedisServer, free_port


@pytest.fixture
def ledger(shared: Shared | None) -> Ledger:
    return MemoryLedger() if shared is None else RedisLedger(shared, "fixtures", "fixtures")


@pytest.fixture
def budgets(shared: Shared | None) -> Budgets:
    return MemoryBudgets() if shared is None else RedisBudgets(shared)


async def test_take_counts_each_use_until_the_limit_and_then_refuses(ledger: Ledger) -> None:
    assert [await ledger.take("ns", "f", 3) for _ in range(4)] == [0, 1, 2, None]
    assert await ledger.used("ns", "f") == 3
    assert await ledger.used("other", "f") == 0


async def test_take_without_a_limit_never_refuses(ledger: Ledger) -> None:
    assert [await ledger.take("ns", "f", None) for _ in range(5)] == [0, 1, 2, 3, 4]


async def test_give_back_undoes_one_take_and_never_goes_below_zero(ledger: Ledger) -> None:
    await ledger.take("ns", "f", 2)
    await ledger.give_back("ns", "f")
    await ledger.give_back("ns", "f")
    assert await ledger.used("ns", "f") == 0
    assert await ledger.take("ns", "f", 2) == 0


async def test_reset_forgets_one_namespace_or_all(ledger: Ledger) -> None:
    for namespace in ("a", "b", "c*"):
        await ledger.take(namespace, "f", None)
    await ledger.reset("a")
    assert [await ledger.used(n, "f") for n in ("a", "b", "c*")] == [0, 1, 1]
    await ledger.reset()
    assert [await ledger.used(n, "f") for n in ("a", "b", "c*")] == [0, 0, 0]


async def connected(redis: RedisServer, prefix: str, count: int) -> list[Shared]:
    """`count` clients (as of as many processes) of one connection each, already connected."""
    states = [connect(redis.url, prefix, 600, pool_size=1) for _ in range(count)]
    for state in states:
        await state.redis.ping()
    return states


async def test_concurrent_takes_consume_every_use_exactly_once(redis: RedisServer) -> None:
    prefix = f"race-{uuid.uuid4().hex[:12]}:"
    # Four processes' clients, one connection each, connected before the race: a machine loaded
    # past its cores may take longer than the 2 s timeout to connect dozens at once.
    states = await connected(redis, prefix, 4)
    try:
        ledgers = [RedisLedger(state, "fixtures", "fixtures") for state in states]
        taken = await asyncio.gather(*(ledgers[i % 4].take("ns", "f", 50) for i in range(200)))
    finally:
        for state in states:
            await state.aclose()
    assert sorted(t for t in taken if t is not None) == list(range(50))
    assert taken.count(None) == 150


async def test_more_concurrent_commands_than_the_pool_holds_wait_for_a_connection(redis: RedisServer) -> None:
    # One process's client with one connection, connected first (a loaded machine connects
    # slowly), and more commands at once than the redis client's own default pool (100) takes.
    (state,) = await connected(redis, f"burst-{uuid.uuid4().hex[:12]}:", 1)
    try:
        ledger = RedisLedger(state, "fixtures", "fixtures")
        taken = await asyncio.gather(*(ledger.take("ns", "f", None) for _ in range(200)))
    finally:
        await state.aclose()
    assert sorted(t for t in taken if t is not None) == list(range(200))


async def test_a_draw_is_all_or_nothing_and_drains_over_a_minute(budgets: Budgets) -> None:
    requests, tokens = Draw("k\nm\nrequests", 2, 1), Draw("k\nm\ntokens", 100, 60)
    first = await budgets.draw([requests, tokens], now=1000.0)
    assert (first.granted, first.used) == (True, (1.0, 60.0))
    refused = await budgets.draw([requests, tokens], now=1000.0)  # tokens would reach 120 > 100
    assert (refused.granted, refused.used) == (False, (1.0, 60.0))
    assert await budgets.peek([requests, tokens], now=1000.0) == (1.0, 60.0)
    assert await budgets.peek([requests, tokens], now=1030.0) == (0.0, 10.0)  # half a minute drains half
    later = await budgets.draw([requests, tokens], now=1030.0)
    assert (later.granted, later.used) == (True, (1.0, 70.0))


async def test_quotas_only_grow(budgets: Budgets) -> None:
    assert await budgets.spent("k\nquota") == 0
    await budgets.spend("k\nquota", 7)
    await budgets.spend("k\nquota", 5)
    assert await budgets.spent("k\nquota") == 12


async def test_a_redis_that_is_gone_answers_a_503_server_error() -> None:
    state = connect(f"redis://127.0.0.1:{free_port()}/0", "gone:", 600)  # nothing listens there
    try:
        with pytest.raises(APIError) as caught:
            await RedisLedger(state, "fixtures", "fixtures").take("ns", "f", None)
        with pytest.raises(APIError):
            await RedisBudgets(state).spent("k\nquota")
    finally:
        await state.aclose()
    assert (caught.value.status, caught.value.type) == (503, "server_error")
    assert "Redis" in caught.value.message


# ---------------------------------------------------------------- the request journal


@pytest.fixture
def journal(shared: Shared | None) -> Requests:
    return RequestLog(3) if shared is None else RedisRequests(shared, 3)


def entry(text: str, endpoint: str = "chat.completions") -> RequestEntry:
    messages = (
        Message("system", "be brief"),
        Message("assistant", "", (ToolCall("call_1", "get_weather", "{}"),)),
        Message("tool", "sunny", call_id="call_1"),
        Message("user", text, name="ann"),
    )
    params = {"model": "gpt-4o", "temperature": 0.5, "messages": [{"role": "user", "content": text}]}
    conversation = Conversation("gpt-4o", messages, tools=(Tool("get_weather"),), wire=lambda: params)
    raw = orjson.dumps(params) + b"\xff"  # any bytes, not only UTF-8
    return RequestEntry(0, endpoint, Subject(conversation, raw), lambda: {"id": f"req_{text}", "status": 200})


async def test_entries_are_numbered_listed_oldest_first_and_capped(journal: Requests) -> None:
    for text in ("a", "b", "c", "d"):
        await journal.append("ns", entry(text))
    await journal.append("other", entry("x"))
    listed = [e.listed for e in await journal.of("ns")]
    assert [item["id"] for item in listed] == ["req_b", "req_c", "req_d"]  # the cap is 3
    assert list(listed[0])[:3] == ["object", "seq", "id"]
    assert listed[0]["object"] == "chatdouble.request"
    seqs = [item["seq"] for item in listed]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 3
    page, more = await journal.after("ns", seqs[0], 1)
    assert ([e.seq for e in page], more) == ([seqs[1]], True)
    page, more = await journal.after("ns", seqs[1], 5)
    assert ([e.seq for e in page], more) == ([seqs[2]], False)


async def test_a_clear_forgets_one_namespace_and_numbers_keep_growing(journal: Requests) -> None:
    await journal.append("ns", entry("a"))
    await journal.append("ns", entry("b"))
    await journal.append("other", entry("x"))
    last = (await journal.of("ns"))[-1].seq
    assert await journal.clear("ns") == 2
    assert await journal.of("ns") == []
    assert len(await journal.of("other")) == 1
    await journal.append("ns", entry("c"))
    assert [e.seq > last for e in await journal.of("ns")] == [True]
    assert await journal.clear("nobody") == 0


async def test_an_entry_keeps_what_verify_reads(journal: Requests) -> None:
    sent = entry("what is the weather?", endpoint="responses")
    await journal.append("ns", sent)
    (kept,) = await journal.of("ns")
    assert kept.endpoint == "responses"
    assert kept.subject.raw == sent.subject.raw
    assert kept.subject.conversation is not None
    assert sent.subject.conversation is not None
    before, after = Facts.of(sent.subject.conversation), Facts.of(kept.subject.conversation)
    for name in ("model", "last_user", "system", "turn", "messages", "tool_result", "tools", "params"):
        assert getattr(after, name) == getattr(before, name), name
    assert after.describe() == before.describe()
    await journal.append("ns", RequestEntry(0, "embeddings", Subject(None, b"{"), lambda: {}))
    assert (await journal.of("ns"))[-1].subject == Subject(None, b"{")


async def test_two_processes_journal_into_one_order(redis: RedisServer) -> None:
    prefix = f"journal-{uuid.uuid4().hex[:12]}:"
    states = await connected(redis, prefix, 2)
    try:
        journals = [RedisRequests(state, 1000) for state in states]
        await asyncio.gather(*(journals[i % 2].append("ns", entry(str(i))) for i in range(100)))
        seen = [await journal.of("ns") for journal in journals]
    finally:
        for state in states:
            await state.aclose()
    assert [[e.seq for e in one] for one in seen] == [list(range(1, 101))] * 2
    assert sorted(e.listed["id"] for e in seen[0]) == sorted(f"req_{i}" for i in range(100))


async def test_entries_written_while_redis_is_gone_wait_and_are_not_lost() -> None:
    own = RedisServer(free_port())
    own.start()
    state = connect(own.url, "waiting:", 600)
    try:
        journal = RedisRequests(state, 10)
        await journal.append("ns", entry("before"))
        own.stop()
        await journal.append("ns", entry("while gone"))  # answered anyway: the entry waits
        with pytest.raises(APIError) as caught:
            await journal.of("ns")
        assert caught.value.status == 503
        own.start()  # empty: nothing was saved
        assert [e.listed["id"] for e in await journal.of("ns")] == ["req_while gone"]
    finally:
        await state.aclose()
        own.stop()


# ---------------------------------------------------------------- runtime fixtures


@pytest.fixture
def runtime_fixtures(shared: Shared | None) -> RuntimeFixtures:
    return MemoryRuntimeFixtures() if shared is None else RedisRuntimeFixtures(shared)


def fixture(id: str, text: str = "hi", times: int | None = None) -> Fixture:
    sent: dict[str, Any] = {
        "id": id,
        "match": {"last_user": {"contains": "hello"}},
        "response": {"text": text},
    }
    if times is not None:
        sent["times"] = times
    return Fixture.model_validate(sent)


async def test_fixtures_are_listed_in_the_order_added_per_namespace(
    runtime_fixtures: RuntimeFixtures,
) -> None:
    assert await runtime_fixtures.layer("ns") is None
    assert await runtime_fixtures.add("ns", [fixture("b"), fixture("a")]) is None
    assert await runtime_fixtures.add("ns", [fixture("c", "third")]) is None
    assert [f.id for f in await runtime_fixtures.of("ns")] == ["b", "a", "c"]
    assert (await runtime_fixtures.of("ns"))[2] == fixture("c", "third")
    assert await runtime_fixtures.of("other") == []


async def test_an_id_the_namespace_holds_is_refused_and_nothing_is_added(
    runtime_fixtures: RuntimeFixtures,
) -> None:
    await runtime_fixtures.add("ns", [fixture("a")])
    assert await runtime_fixtures.add("ns", [fixture("new"), fixture("a")]) == "a"
    assert [f.id for f in await runtime_fixtures.of("ns")] == ["a"]
    assert await runtime_fixtures.add("other", [fixture("a")]) is None


async def test_remove_and_clear_forget_fixtures_and_their_lifetimes(
    runtime_fixtures: RuntimeFixtures,
) -> None:
    await runtime_fixtures.add("ns", [fixture("a", times=2), fixture("b")])
    layer = await runtime_fixtures.layer("ns")
    assert layer is not None
    assert await layer.ledger.take("ns", "a", 2) == 0
    assert await runtime_fixtures.remove("ns", "b")
    assert not await runtime_fixtures.remove("ns", "b")
    assert [f.id for f in await runtime_fixtures.of("ns")] == ["a"]
    assert await runtime_fixtures.clear("ns") == 1
    assert await runtime_fixtures.layer("ns") is None
    await runtime_fixtures.add("ns", [fixture("a", times=2)])
    layer = await runtime_fixtures.layer("ns")
    assert layer is not None
    assert await layer.ledger.used("ns", "a") == 0
    assert await runtime_fixtures.remove("ns", "a")  # the last one: the namespace holds none
    assert await runtime_fixtures.layer("ns") is None
    assert await runtime_fixtures.clear("ns") == 0


async def test_reset_sequences_forgets_uses_of_one_namespace_or_all(
    runtime_fixtures: RuntimeFixtures,
) -> None:
    for namespace in ("a", "b"):
        await runtime_fixtures.add(namespace, [fixture("f", times=3)])
        layer = await runtime_fixtures.layer(namespace)
        assert layer is not None
        await layer.ledger.take(namespace, "f", 3)

    async def used(namespace: str) -> int:
        layer = await runtime_fixtures.layer(namespace)
        assert layer is not None
        return await layer.ledger.used(namespace, "f")

    await runtime_fixtures.reset_sequences("a")
    assert [await used("a"), await used("b")] == [0, 1]
    await runtime_fixtures.reset_sequences()
    assert [await used("a"), await used("b")] == [0, 0]


async def test_a_fixture_added_through_one_process_is_seen_by_another(redis: RedisServer) -> None:
    prefix = f"runtime-{uuid.uuid4().hex[:12]}:"
    states = [connect(redis.url, prefix, 600) for _ in range(2)]
    try:
        one, two = (RedisRuntimeFixtures(state) for state in states)
        assert await two.layer("ns") is None
        await one.add("ns", [fixture("a", times=1)])
        seen = await two.layer("ns")
        assert seen is not None
        assert [f.id for f in seen.fixtures] == ["a"]
        assert await two.layer("ns") is seen  # unchanged: compiled once
        assert await seen.ledger.take("ns", "a", 1) == 0
        theirs = await one.layer("ns")
        assert theirs is not None
        assert await theirs.ledger.take("ns", "a", 1) is None
        await one.add("ns", [fixture("b")])
        changed = await two.layer("ns")
        assert changed is not None
        assert changed is not seen
        assert [f.id for f in changed.fixtures] == ["a", "b"]
        assert await one.clear("ns") == 2
        assert await two.layer("ns") is None
    finally:
        for state in states:
            await state.aclose()


async def test_an_entry_with_an_integer_beyond_64_bits_is_kept(journal: Requests) -> None:
    """A request may carry an integer orjson cannot write (a seed of 10**30); journaling it must not
    fail the request."""
    huge = 10**30
    params = {"model": "gpt-4o", "seed": huge, "messages": [{"role": "user", "content": "hi"}]}
    conversation = Conversation("gpt-4o", (Message("user", "hi"),), wire=lambda: params)
    sent = RequestEntry(
        0, "chat.completions", Subject(conversation, b"{}"), lambda: {"id": "req_1", "seed": huge}
    )
    await journal.append("ns", sent)
    (kept,) = await journal.of("ns")
    assert kept.listed["seed"] == huge
    assert kept.subject.conversation is not None
    assert kept.subject.conversation.wire()["seed"] == huge
