"""The state interfaces behave the same in this process and in a real Redis (docs/scale.md).

Each contract test runs against both implementations: fixture use counts (`Ledger`: an atomic
`take` bounded by the fixture's lifetime, per namespace, reset per namespace or whole) and the
rate-limit budgets (`Budgets`: a leaky bucket drawn all or nothing, quotas that only grow). Against
Redis, many concurrent `take`s over several connections consume each use exactly once, and a
Redis that is gone answers a 503 `server_error` quickly instead of hanging.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from backends.fixtures.state import Ledger, MemoryLedger
from server.errors import APIError
from server.state.budgets import Budgets, Draw, MemoryBudgets
from server.state.redis_budgets import RedisBudgets
from server.state.redis_ledger import RedisLedger
from server.state.shared import Shared, connect
from tests.support.redis_server import RedisServer, free_port


@pytest.fixture(params=["memory", "redis"])
async def shared(request: pytest.FixtureRequest) -> AsyncIterator[Shared | None]:
    """None for the in-process implementations; a client of the session's Redis, under a key
    prefix of this test's own, for the Redis ones."""
    if request.param == "memory":
        yield None
        return
    server: RedisServer = request.getfixturevalue("redis")
    state = connect(server.url, f"test-{uuid.uuid4().hex[:12]}:", 600)
    yield state
    await state.aclose()


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


async def test_concurrent_takes_consume_every_use_exactly_once(redis: RedisServer) -> None:
    prefix = f"race-{uuid.uuid4().hex[:12]}:"
    states = [connect(redis.url, prefix, 600) for _ in range(4)]  # four processes' clients
    try:
        ledgers = [RedisLedger(state, "fixtures", "fixtures") for state in states]
        taken = await asyncio.gather(*(ledgers[i % 4].take("ns", "f", 50) for i in range(200)))
    finally:
        for state in states:
            await state.aclose()
    assert sorted(t for t in taken if t is not None) == list(range(50))
    assert taken.count(None) == 150


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
