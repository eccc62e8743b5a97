"""Runtime fixtures in Redis (`server/state/fixtures.py` names the interface), shared by every
process on the same `state` Redis: a fixture added through one process answers on all of them.

A namespace's fixtures are one hash, `{prefix}runtime-fixtures:{namespace}`: `f:<id>` holds a
fixture as it was sent (JSON, after the number that keeps the order they were added in), `n` that
number's counter, and `v` a random version, new at every change. Adding (with its check that no id
is held already), removing and clearing are each one Lua script. Their use counts are a ledger of
their own (`{prefix}runtime-uses:{namespace}`, `server/state/redis_ledger.py`), counted as file
fixtures' are; clearing a namespace, or removing its last fixture, deletes both keys.

Every request asks Redis for its namespace's version (one script, which also renews the hash's
TTL: fixtures in use do not expire), and gets the fixtures only when the version differs from the
one this process compiled last; a version is random rather than counted, so a namespace emptied and
filled again, or a Redis restarted empty, never repeats one. Each process keeps the compiled sets
of its latest namespaces. The hash expires `state_ttl_seconds` after the namespace's last request.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from backends.fixtures.model import Fixture
from backends.fixtures.runtime import NamespaceFixtures
from server.state import codec
from server.state.fixtures import RuntimeFixtures
from server.state.redis_ledger import RedisLedger
from server.state.shared import Shared, guarded

KEPT = 1024  # compiled namespaces held by a process

# KEYS[1] the hash; ARGV[1] the TTL, ARGV[2] the new version, then (id, JSON) per fixture. Returns
# an id the namespace holds already (and adds nothing), or nil.
_ADD = """
for i = 3, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[1], 'f:' .. ARGV[i]) == 1 then return ARGV[i] end
end
for i = 3, #ARGV, 2 do
  local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
  redis.call('HSET', KEYS[1], 'f:' .. ARGV[i], n .. ' ' .. ARGV[i + 1])
end
redis.call('HSET', KEYS[1], 'v', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return false
"""

# KEYS[1] the hash, KEYS[2] the uses; ARGV[1] the id, ARGV[2] the new version. 1 when removed.
_REMOVE = """
if redis.call('HDEL', KEYS[1], 'f:' .. ARGV[1]) == 0 then return 0 end
if redis.call('HLEN', KEYS[1]) <= 2 then
  redis.call('DEL', KEYS[1], KEYS[2])
else
  redis.call('HSET', KEYS[1], 'v', ARGV[2])
end
return 1
"""

# KEYS[1] the hash, KEYS[2] the uses. How many fixtures there were.
_CLEAR = """
local held = redis.call('HLEN', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2])
if held < 2 then return 0 end
return held - 2
"""

# KEYS[1] the hash; ARGV[1] the version this process holds, ARGV[2] the TTL. nil when the namespace
# holds none; {version} when it is the one held; else {version, field, value, ...}.
_LOOKUP = """
local version = redis.call('HGET', KEYS[1], 'v')
if not version then return false end
redis.call('EXPIRE', KEYS[1], ARGV[2])
if version == ARGV[1] then return {version} end
local out = {version}
for _, item in ipairs(redis.call('HGETALL', KEYS[1])) do out[#out + 1] = item end
return out
"""


class RedisRuntimeFixtures(RuntimeFixtures):
    def __init__(self, shared: Shared) -> None:
        self._shared = shared
        self.ledger = RedisLedger(shared, "runtime-uses")
        self._compiled: dict[str, tuple[str, NamespaceFixtures]] = {}
        redis = shared.redis
        self._add, self._remove = redis.register_script(_ADD), redis.register_script(_REMOVE)
        self._clear, self._lookup = redis.register_script(_CLEAR), redis.register_script(_LOOKUP)

    def _key(self, namespace: str) -> str:
        return self._shared.key("runtime-fixtures", namespace)

    def _uses(self, namespace: str) -> str:
        return self._shared.key("runtime-uses", namespace)

    async def layer(self, namespace: str) -> NamespaceFixtures | None:
        held = self._compiled.get(namespace)
        args: list[str | int] = [held[0] if held is not None else "", self._shared.ttl_seconds]
        async with guarded():
            reply = await self._lookup(keys=[self._key(namespace)], args=args)
        if reply is None:
            self._compiled.pop(namespace, None)
            return None
        if held is not None and len(reply) == 1:
            return held[1]
        compiled = self._compile(reply[1:])
        if namespace not in self._compiled and len(self._compiled) >= KEPT:
            del self._compiled[next(iter(self._compiled))]  # the namespace compiled longest ago
        self._compiled[namespace] = (reply[0], compiled)
        return compiled

    def _compile(self, fields: Sequence[str]) -> NamespaceFixtures:
        ordered = []
        for name, value in zip(fields[::2], fields[1::2], strict=True):
            if name.startswith("f:"):
                order, _, sent = value.partition(" ")
                ordered.append((int(order), Fixture.model_validate(codec.loads(sent))))
        fixtures = NamespaceFixtures()
        fixtures.share(self.ledger)
        fixtures.add([fixture for _, fixture in sorted(ordered, key=lambda item: item[0])])
        return fixtures

    async def add(self, namespace: str, fixtures: Sequence[Fixture]) -> str | None:
        if not fixtures:
            return None
        args: list[str | bytes | int] = [self._shared.ttl_seconds, secrets.token_hex(8)]
        for fixture in fixtures:
            args += [fixture.id, codec.dumps(fixture.model_dump(mode="json", exclude_unset=True))]
        async with guarded():
            taken = await self._add(keys=[self._key(namespace)], args=args)
        return None if taken is None else str(taken)

    async def remove(self, namespace: str, fixture_id: str) -> bool:
        keys = [self._key(namespace), self._uses(namespace)]
        async with guarded():
            removed = await self._remove(keys=keys, args=[fixture_id, secrets.token_hex(8)])
        return bool(removed)

    async def clear(self, namespace: str) -> int:
        async with guarded():
            held = await self._clear(keys=[self._key(namespace), self._uses(namespace)])
        return int(held)

    async def reset_sequences(self, namespace: str | None = None) -> None:
        await self.ledger.reset(namespace)
