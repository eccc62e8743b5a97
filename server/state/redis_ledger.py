"""Fixture use counts in Redis (`backends/fixtures/state.py` names the interface), shared by every
process on the same `state` Redis.

One hash per backend and namespace, `{prefix}fixtures:{backend}:{namespace}`, maps a fixture id to
its uses (runtime fixtures: `{prefix}runtime-uses:{namespace}`). `take` is one Lua script, so two processes never consume the same sequence step or the
last of a fixture's `times`. Each write renews the hash's TTL (`state_ttl_seconds`): namespaces of
finished test runs expire instead of filling Redis.
"""

from __future__ import annotations

from server.state.shared import Shared, guarded

# KEYS[1] the hash; ARGV: fixture id, limit (-1: none), TTL seconds. The count before, or -1.
_TAKE = """
local used = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local limit = tonumber(ARGV[2])
if limit >= 0 and used >= limit then return -1 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return used
"""

# KEYS[1] the hash; ARGV[1] the fixture id: one use undone, never below zero.
_GIVE_BACK = """
local used = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if used > 0 then redis.call('HINCRBY', KEYS[1], ARGV[1], -1) end
return 0
"""

_GLOB_SPECIAL = str.maketrans({c: "\\" + c for c in "*?[]\\"})


class RedisLedger:
    def __init__(self, shared: Shared, *scope: str) -> None:
        """`scope`: the key's parts before the namespace (`"fixtures", backend`)."""
        self._shared = shared
        self._scope = scope
        self._take = shared.redis.register_script(_TAKE)
        self._give_back = shared.redis.register_script(_GIVE_BACK)

    def _key(self, namespace: str) -> str:
        return self._shared.key(*self._scope, namespace)

    async def used(self, namespace: str, fixture: str) -> int:
        async with guarded():
            value = await self._shared.redis.hget(self._key(namespace), fixture)
        return int(value or 0)

    async def take(self, namespace: str, fixture: str, limit: int | None) -> int | None:
        args: list[str | int] = [fixture, -1 if limit is None else limit, self._shared.ttl_seconds]
        async with guarded():
            before = int(await self._take(keys=[self._key(namespace)], args=args))
        return None if before < 0 else before

    async def give_back(self, namespace: str, fixture: str) -> None:
        async with guarded():
            await self._give_back(keys=[self._key(namespace)], args=[fixture])

    async def reset(self, namespace: str | None = None) -> None:
        redis = self._shared.redis
        async with guarded():
            if namespace is not None:
                await redis.delete(self._key(namespace))
                return
            pattern = self._key("").translate(_GLOB_SPECIAL) + "*"
            async for key in redis.scan_iter(match=pattern, count=500):
                await redis.delete(key)
