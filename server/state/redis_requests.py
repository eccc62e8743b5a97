"""The request journal in Redis (`server/state/requests.py` names the interface), shared by every
process on the same `state` Redis: the journal and verify on any process see every request of the
namespace, from all of them, in one order.

A namespace's entries are a list, `{prefix}journal:{namespace}`, capped at `capacity` (the oldest
go first), each element `<seq> <entry JSON>`; `seq` comes from the namespace's counter,
`{prefix}journal-seq:{namespace}`, which a clear leaves alone so that numbers only grow. Appending
is one Lua script (number, push, trim, renew both keys' TTL), so one round trip per request. Both
keys expire `state_ttl_seconds` after the namespace's last request.

An entry is written before a whole-body answer leaves the server (so a verify that follows the
answer sees it, on any process) and as a stream's last frame has gone. The write runs as its own task:
a request cancelled meanwhile (its client left) does not cancel it. When Redis cannot be reached,
the request is still answered and its entry waits in this process (at most `capacity` of them),
written with the next one that gets through, before a read, and at shutdown. (A write that timed
out after Redis applied it is written again: a duplicate entry, which we accept over a lost one.)
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

from server.state import codec
from server.state.requests import RequestEntry, Subject
from server.state.shared import LOST, Shared, guarded
from server.state.subjects import decode, encode

log = logging.getLogger("chatdouble")

# KEYS: (list, counter) per entry; ARGV[1] the cap, ARGV[2] the TTL, then one entry's JSON per pair
# of keys. Returns each entry's seq.
_APPEND = """
local cap, ttl = tonumber(ARGV[1]), ARGV[2]
local seqs = {}
for i = 1, #KEYS, 2 do
  local seq = redis.call('INCR', KEYS[i + 1])
  redis.call('EXPIRE', KEYS[i + 1], ttl)
  redis.call('RPUSH', KEYS[i], seq .. ' ' .. ARGV[(i + 1) / 2 + 2])
  redis.call('LTRIM', KEYS[i], -cap, -1)
  redis.call('EXPIRE', KEYS[i], ttl)
  seqs[#seqs + 1] = seq
end
return seqs
"""


class RedisRequests:
    def __init__(self, shared: Shared, capacity: int) -> None:
        self.capacity = capacity
        self._shared = shared
        self._append = shared.redis.register_script(_APPEND)
        self._waiting: deque[tuple[str, bytes]] = deque(maxlen=capacity)  # not written yet
        self._writes: set[asyncio.Task[None]] = set()

    def _keys(self, namespace: str) -> tuple[str, str]:
        return self._shared.key("journal", namespace), self._shared.key("journal-seq", namespace)

    async def append(self, namespace: str, entry: RequestEntry) -> None:
        payload = {"endpoint": entry.endpoint, "listed": entry.build(), "subject": encode(entry.subject)}
        write = asyncio.get_running_loop().create_task(self._write((namespace, codec.dumps(payload))))
        self._writes.add(write)
        write.add_done_callback(self._writes.discard)
        await asyncio.shield(write)

    async def _write(self, *entries: tuple[str, bytes]) -> None:
        batch = [*self._waiting, *entries]
        self._waiting.clear()
        if not batch:
            return
        keys: list[str] = []
        args: list[bytes | int] = [self.capacity, self._shared.ttl_seconds]
        for namespace, payload in batch:
            keys += self._keys(namespace)
            args.append(payload)
        try:
            await self._append(keys=keys, args=args)
        except LOST as exc:
            log.warning("Redis is unreachable (%s): %d journal entries wait to be written", exc, len(batch))
            self._waiting.extendleft(reversed(batch))

    async def _entries(self, namespace: str) -> list[tuple[int, str]]:
        if self._waiting:
            await self._write()
        async with guarded():
            items = await self._shared.redis.lrange(self._keys(namespace)[0], 0, -1)
        held = []
        for item in items:
            seq, _, payload = str(item).partition(" ")
            held.append((int(seq), payload))
        return held

    async def of(self, namespace: str) -> list[RequestEntry]:
        return [_entry(seq, payload) for seq, payload in await self._entries(namespace)]

    async def after(self, namespace: str, since: int, limit: int) -> tuple[list[RequestEntry], bool]:
        later = [(seq, payload) for seq, payload in await self._entries(namespace) if seq > since]
        return [_entry(seq, payload) for seq, payload in later[:limit]], len(later) > limit

    async def clear(self, namespace: str) -> int:
        kept = [(name, payload) for name, payload in self._waiting if name != namespace]
        dropped = len(self._waiting) - len(kept)
        self._waiting = deque(kept, maxlen=self.capacity)
        async with guarded(), self._shared.redis.pipeline(transaction=True) as pipe:
            pipe.llen(self._keys(namespace)[0])
            pipe.delete(self._keys(namespace)[0])
            count, _ = await pipe.execute()
        return int(count) + dropped

    async def aclose(self) -> None:
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)
        if self._waiting:
            await self._write()


def _entry(seq: int, payload: str) -> RequestEntry:
    data: dict[str, Any] = codec.loads(payload)
    subject: Subject = decode(data["subject"])
    listed: dict[str, Any] = data["listed"]
    return RequestEntry(seq, data["endpoint"], subject, lambda: listed)
