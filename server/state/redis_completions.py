"""Stored chat completions in Redis (`server/state/completions.py` names the interface), shared by
every process on the same `state` Redis.

A completion is a hash `{prefix}completion:{namespace}:{id}` (its object and its messages, as JSON
text); each namespace lists its completions in a sorted set `{prefix}completions:{namespace}`,
scored by the deployment-wide order they were kept in (`redis_order.py`, which also keeps the
deployment at `stored_completions` at most). A list is read from that set a chunk at a time, in the
order asked for, so a page costs what it shows, not the whole store. A metadata update is a
compare-and-set on the object, so two processes' updates never lose one half-way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

from server.state import codec
from server.state.completions import Order, StoredCompletion
from server.state.redis_order import ORDER, member
from server.state.shared import Shared, guarded

CHUNK = 50  # objects read per round trip while listing
UPDATE_TRIES = 8

# KEYS: the hash, the namespace's list, the counter, the index. ARGV: ttl, limit, member, the
# prefix of completion keys, the prefix of namespace lists, id, object, messages.
_PUT = (
    """
local function drop(namespace, id)
  redis.call('DEL', ARGV[4] .. namespace .. ':' .. id)
  redis.call('ZREM', ARGV[5] .. namespace, id)
end
"""
    + ORDER
    + """
redis.call('HSET', KEYS[1], 'body', ARGV[7], 'messages', ARGV[8])
redis.call('EXPIRE', KEYS[1], ARGV[1])
local score = keep_in_order(KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3])
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('ZADD', KEYS[2], score, ARGV[6])
  redis.call('EXPIRE', KEYS[2], ARGV[1])
end
return 1
"""
)

# KEYS[1] the hash; ARGV: the object as read, the object to write, ttl. 1 when written.
_SWAP = """
if redis.call('HGET', KEYS[1], 'body') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'body', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""


class RedisCompletionStore:
    def __init__(self, shared: Shared, limit: int) -> None:
        self._shared = shared
        self._limit = limit
        self._put = shared.redis.register_script(_PUT)
        self._swap = shared.redis.register_script(_SWAP)

    def _hash(self, namespace: str, completion_id: str) -> str:
        return self._shared.key("completion", namespace, completion_id)

    def _listed(self, namespace: str) -> str:
        return self._shared.key("completions", namespace)

    async def get(self, namespace: str, completion_id: str) -> StoredCompletion | None:
        async with guarded():
            # The client decodes replies (`decode_responses`): every key and value is text.
            held = cast(
                dict[str, str], await self._shared.redis.hgetall(self._hash(namespace, completion_id))
            )
        if not held:
            return None
        return StoredCompletion(completion_id, codec.loads(held["body"]), codec.loads(held["messages"]))

    async def put(self, namespace: str, completion: StoredCompletion) -> None:
        key = self._shared.key
        keys = [
            self._hash(namespace, completion.id),
            self._listed(namespace),
            key("order"),
            key("completions"),
        ]
        args: list[str | int] = [
            self._shared.ttl_seconds,
            self._limit,
            member(namespace, completion.id),
            key("completion", ""),
            key("completions", ""),
            completion.id,
            codec.text(completion.body),
            codec.text(completion.messages),
        ]
        async with guarded():
            await self._put(keys=keys, args=args)

    async def update(
        self, namespace: str, completion_id: str, metadata: dict[str, str]
    ) -> dict[str, Any] | None:
        key = self._hash(namespace, completion_id)
        for _ in range(UPDATE_TRIES):
            async with guarded():
                held = await self._shared.redis.hget(key, "body")
                if held is None:
                    return None
                body: dict[str, Any] = {**codec.loads(held), "metadata": metadata}
                if await self._swap(keys=[key], args=[held, codec.text(body), self._shared.ttl_seconds]):
                    return body
        raise RuntimeError(
            f"stored completion {completion_id}: its metadata changed {UPDATE_TRIES} times meanwhile"
        )

    async def delete(self, namespace: str, completion_id: str) -> bool:
        async with guarded(), self._shared.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._hash(namespace, completion_id))
            pipe.zrem(self._listed(namespace), completion_id)
            pipe.zrem(self._shared.key("completions"), member(namespace, completion_id))
            deleted, _, _ = await pipe.execute()
        return bool(deleted)

    async def bodies(self, namespace: str, order: Order) -> AsyncIterator[dict[str, Any]]:
        redis = self._shared.redis
        listed = self._listed(namespace)
        start = 0
        while True:
            async with guarded():
                ids = cast(
                    list[str], await redis.zrange(listed, start, start + CHUNK - 1, desc=order == "desc")
                )
                if not ids:
                    return
                async with redis.pipeline(transaction=False) as pipe:
                    for completion_id in ids:
                        pipe.hget(self._hash(namespace, completion_id), "body")
                    held = await pipe.execute()
            for body in held:
                if body is not None:  # expired since it was listed
                    yield codec.loads(body)
            start += CHUNK
