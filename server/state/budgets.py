"""Rate-limit budgets: how much of each per-minute limit is in use, and how much of a quota is spent.

OpenAI's limits replenish continuously rather than at the top of each minute: a limit of 60 requests
per minute gives back one request every second. A budget is therefore a leaky bucket: `used` drains
at `limit / 60` per second, a request fits when `used + amount <= limit`, and a request that fits adds
its amount. A quota is a plain counter that never drains.

Behind a small interface, so that a shared implementation (Redis, issue 15) can stand in: `draw`
must be all or nothing across its draws (one Lua script there), and `spend` one INCRBY. The
in-process implementation forgets buckets that have drained, so client-chosen model names cannot
grow it without end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

MINUTE = 60.0
_KEPT = 10_000  # buckets held before the drained ones are dropped


@dataclass(frozen=True, slots=True)
class Draw:
    """`amount` taken from the bucket `bucket`, which holds up to `limit` per minute."""

    bucket: str
    limit: int
    amount: int

    @property
    def per_second(self) -> float:
        return self.limit / MINUTE


@dataclass(frozen=True, slots=True)
class Drawn:
    """Whether every draw fitted (and was taken), and each bucket's use: after the draws when they
    were taken, before them when they were not."""

    granted: bool
    used: tuple[float, ...]


class Budgets(Protocol):
    async def draw(self, draws: Sequence[Draw], now: float) -> Drawn:
        """Take every draw, or none when any would go over its limit."""
        ...

    async def peek(self, draws: Sequence[Draw], now: float) -> tuple[float, ...]:
        """Each bucket's use at `now`, taking nothing."""
        ...

    async def spent(self, counter: str) -> int:
        """What the quota counter `counter` has spent so far."""
        ...

    async def spend(self, counter: str, amount: int) -> None: ...


class MemoryBudgets:
    """Budgets in this process: one event loop, so every operation is atomic as it stands."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}  # bucket -> (used, as of)
        self._spent: dict[str, int] = {}

    def _used(self, draw: Draw, now: float) -> float:
        used, at = self._buckets.get(draw.bucket, (0.0, now))
        return max(0.0, used - max(0.0, now - at) * draw.per_second)

    async def draw(self, draws: Sequence[Draw], now: float) -> Drawn:
        used = tuple(self._used(one, now) for one in draws)
        if any(level + one.amount > one.limit for level, one in zip(used, draws, strict=True)):
            return Drawn(False, used)
        if len(self._buckets) >= _KEPT:
            self._forget_drained(now)
        after = tuple(level + one.amount for level, one in zip(used, draws, strict=True))
        for level, one in zip(after, draws, strict=True):
            self._buckets[one.bucket] = (level, now)
        return Drawn(True, after)

    async def peek(self, draws: Sequence[Draw], now: float) -> tuple[float, ...]:
        return tuple(self._used(one, now) for one in draws)

    async def spent(self, counter: str) -> int:
        return self._spent.get(counter, 0)

    async def spend(self, counter: str, amount: int) -> None:
        self._spent[counter] = self._spent.get(counter, 0) + amount

    def _forget_drained(self, now: float) -> None:
        # A bucket's limit is not kept with it; a minute after its last draw any bucket has drained.
        self._buckets = {name: (used, at) for name, (used, at) in self._buckets.items() if now - at < MINUTE}
