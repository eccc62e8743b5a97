"""Rate-limit budgets in Redis (`server/state/budgets.py` names the interface and the leaky-bucket
arithmetic), shared by every process on the same `state` Redis.

A bucket is a hash `{prefix}budget:{bucket}` holding its use and when it was last drawn from; a
draw over several buckets is one Lua script, so it is all or nothing across processes. Buckets
expire two minutes after their last draw (one minute drains any bucket). A quota is one counter,
`{prefix}quota:{counter}`, spent by INCRBY; it expires `state_ttl_seconds` after its last spend.
Levels go in and out as text, since Redis turns a script's fractional numbers into integers.
`now` is the caller's clock: with Redis the runtime gives wall-clock seconds, which replicas share.
"""

from __future__ import annotations

from collections.abc import Sequence

from server.state.budgets import MINUTE, Draw, Drawn
from server.state.shared import Shared, guarded

# KEYS: the buckets; ARGV[1] now, ARGV[2] write (1) or only read (0), then per bucket its limit and
# amount. Returns {granted (0/1), level per bucket as text}.
_DRAW = """
local now = tonumber(ARGV[1])
local write = ARGV[2] == '1'
local levels = {}
local granted = 1
for i = 1, #KEYS do
  local limit = tonumber(ARGV[2 * i + 1])
  local amount = tonumber(ARGV[2 * i + 2])
  local held = redis.call('HMGET', KEYS[i], 'used', 'at')
  local used = tonumber(held[1]) or 0
  local at = tonumber(held[2]) or now
  local elapsed = now - at
  if elapsed < 0 then elapsed = 0 end
  used = used - elapsed * limit / MINUTE
  if used < 0 then used = 0 end
  levels[i] = used
  if used + amount > limit then granted = 0 end
end
if write and granted == 1 then
  for i = 1, #KEYS do
    levels[i] = levels[i] + tonumber(ARGV[2 * i + 2])
    redis.call('HSET', KEYS[i], 'used', string.format('%.17g', levels[i]), 'at', ARGV[1])
    redis.call('EXPIRE', KEYS[i], 120)
  end
end
local out = {write and granted or 0}
for i = 1, #KEYS do out[i + 1] = string.format('%.17g', levels[i]) end
return out
""".replace("MINUTE", repr(MINUTE))


class RedisBudgets:
    def __init__(self, shared: Shared) -> None:
        self._shared = shared
        self._draw = shared.redis.register_script(_DRAW)

    async def _run(self, draws: Sequence[Draw], now: float, *, write: bool) -> tuple[bool, tuple[float, ...]]:
        keys = [self._shared.key("budget", one.bucket) for one in draws]
        args: list[str | int] = [repr(now), 1 if write else 0]
        for one in draws:
            args += [one.limit, one.amount]
        async with guarded():
            reply = await self._draw(keys=keys, args=args)
        return bool(int(reply[0])), tuple(float(level) for level in reply[1:])

    async def draw(self, draws: Sequence[Draw], now: float) -> Drawn:
        granted, levels = await self._run(draws, now, write=True)
        return Drawn(granted, levels)

    async def peek(self, draws: Sequence[Draw], now: float) -> tuple[float, ...]:
        return (await self._run(draws, now, write=False))[1]

    async def spent(self, counter: str) -> int:
        async with guarded():
            value = await self._shared.redis.get(self._shared.key("quota", counter))
        return int(value or 0)

    async def spend(self, counter: str, amount: int) -> None:
        key = self._shared.key("quota", counter)
        async with guarded(), self._shared.redis.pipeline(transaction=True) as pipe:
            pipe.incrby(key, amount)
            pipe.expire(key, self._shared.ttl_seconds)
            await pipe.execute()
