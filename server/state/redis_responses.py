"""Stored responses in Redis (`server/state/responses.py` names the interface), shared by every
process on the same `state` Redis.

A response is a hash `{prefix}response:{namespace}:{id}` (its object, input items, the conversation
it ends, whether it is stored and whether it runs). A background response's events are a stream
`...:events` whose entry ids are `0-{n}` for its n-th event, so "after sequence number k" is one
XREAD from `0-{k+1}`, and a follower on any process blocks on XREAD until the next event; its end
is one last entry with the highest id a stream allows. Writes are Lua scripts that do nothing once
the response is gone or has ended, so a late write never resurrects a deleted response.

A background response runs in the process that created it. Another process cancels it by pushing
to `...:cancel`, which a watcher beside the run waits on (BLPOP), and then waits for its end on the
stream; if its process is gone and it never ends, the canceller ends it (status `cancelled`).
Every write renews the keys' TTL (`state_ttl_seconds`); the deployment keeps at most
`stored_responses` of them (`redis_order.py`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

from redis.exceptions import TimeoutError as RedisTimeoutError

from server.generation.conversation import Message
from server.state import codec
from server.state import history as histories
from server.state.redis_order import ORDER, member
from server.state.responses import Progress, Run, Runner, StoredResponse
from server.state.shared import LOST, Shared, guarded

log = logging.getLogger("chatdouble.state")

END_ID = "0-18446744073709551615"  # the highest stream id: no event can follow the end
CANCEL_WAIT = 5.0  # seconds a canceller waits for the process running a response to end it
BLOCK_MS = 1000  # one blocking read; below the client's socket timeout

# KEYS: the hash, its events, the counter, the index. ARGV: ttl, limit, member, the prefix of
# response keys, then the hash's fields and values.
_PUT = (
    """
local function drop(namespace, id)
  local key = ARGV[4] .. namespace .. ':' .. id
  redis.call('DEL', key, key .. ':events')
end
"""
    + ORDER
    + """
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('EXPIRE', KEYS[1], ARGV[1])
keep_in_order(KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3])
return 1
"""
)

# KEYS: the hash, its events. ARGV: ttl, the object, ended (1/0), the conversation it ends, then
# the new events. Only while it runs: 0 when it is gone or has ended.
_WRITE = (
    """
if redis.call('HGET', KEYS[1], 'running') ~= '1' then return 0 end
local seen = tonumber(redis.call('HGET', KEYS[1], 'seen'))
for i = 5, #ARGV do
  seen = seen + 1
  redis.call('XADD', KEYS[2], '0-' .. seen, 'frame', ARGV[i])
end
redis.call('HSET', KEYS[1], 'body', ARGV[2], 'seen', seen)
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[1], 'running', '0', 'history', ARGV[4])
  redis.call('XADD', KEYS[2], '"""
    + END_ID
    + """', 'end', '1')
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
return 1
"""
)


class _Keys:
    def __init__(self, shared: Shared, namespace: str, response_id: str) -> None:
        self.hash = shared.key("response", namespace, response_id)
        self.events = self.hash + ":events"
        self.cancel = self.hash + ":cancel"


class _RedisProgress:
    def __init__(self, store: RedisResponseStore, keys: _Keys) -> None:
        self._store, self._keys = store, keys

    async def publish(self, body: dict[str, Any], frames: Sequence[bytes]) -> None:
        await self._store.write(self._keys, body, frames, None)

    async def end(self, body: dict[str, Any], frames: Sequence[bytes], history: list[Message]) -> None:
        await self._store.write(self._keys, body, frames, history)


class RedisResponseStore:
    def __init__(self, shared: Shared, limit: int, cancel_wait: float = CANCEL_WAIT) -> None:
        self._shared = shared
        self._limit = limit
        self._cancel_wait = cancel_wait
        self._put = shared.redis.register_script(_PUT)
        self._write = shared.redis.register_script(_WRITE)
        self._local: dict[tuple[str, str], Run] = {}  # the runs of this process

    def _keys(self, namespace: str, response_id: str) -> _Keys:
        return _Keys(self._shared, namespace, response_id)

    async def get(self, namespace: str, response_id: str) -> StoredResponse | None:
        async with guarded():
            # The client decodes replies (`decode_responses`): every key and value is text.
            held = cast(
                dict[str, str], await self._shared.redis.hgetall(self._keys(namespace, response_id).hash)
            )
        if not held:
            return None
        return StoredResponse(
            id=response_id,
            body=codec.loads(held["body"]),
            input_items=codec.loads(held["input_items"]),
            history=histories.loads(held["history"]),
            stored=held["stored"] == "1",
            running=held["running"] == "1",
        )

    async def put(self, namespace: str, response: StoredResponse) -> None:
        keys = self._keys(namespace, response.id)
        fields = {
            "body": codec.text(response.body),
            "input_items": codec.text(response.input_items),
            "history": histories.dumps(response.history),
            "stored": "1" if response.stored else "0",
            "running": "1" if response.running else "0",
            "seen": "0",
        }
        args: list[str | int] = [
            self._shared.ttl_seconds,
            self._limit,
            member(namespace, response.id),
            self._shared.key("response", ""),
        ]
        for name, value in fields.items():
            args += [name, value]
        index = [self._shared.key("order"), self._shared.key("responses")]
        async with guarded():
            await self._put(keys=[keys.hash, keys.events, *index], args=args)

    async def write(
        self, keys: _Keys, body: dict[str, Any], frames: Sequence[bytes], history: list[Message] | None
    ) -> None:
        ended = history is not None
        args: list[str | int] = [
            self._shared.ttl_seconds,
            codec.text(body),
            1 if ended else 0,
            histories.dumps(history) if history is not None else "",
            *(frame.decode() for frame in frames),
        ]
        async with guarded():
            await self._write(keys=[keys.hash, keys.events], args=args)

    async def delete(self, namespace: str, response_id: str) -> bool:
        keys = self._keys(namespace, response_id)
        redis = self._shared.redis
        async with guarded():
            if await redis.hget(keys.hash, "running") == "1" and not self._stop_here(namespace, response_id):
                await self._ask_to_stop(keys)
            async with redis.pipeline(transaction=True) as pipe:
                pipe.delete(keys.hash, keys.events)
                pipe.zrem(self._shared.key("responses"), member(namespace, response_id))
                deleted, _ = await pipe.execute()
        return bool(deleted)

    async def run(self, namespace: str, response: StoredResponse, runner: Runner) -> None:
        response.running = True
        await self.put(namespace, response)
        keys = self._keys(namespace, response.id)

        async def guarded_runner(progress: Progress) -> None:
            try:
                await runner(progress)
            except Exception:  # Redis lost mid-run: followers see it end with the key's TTL
                log.warning("background response %s could not write its progress", response.id, exc_info=True)

        run = Run(guarded_runner, _RedisProgress(self, keys))
        watcher = asyncio.get_running_loop().create_task(self._watch(keys, run))
        self._local[(namespace, response.id)] = run

        def done(_: asyncio.Task[None]) -> None:
            watcher.cancel()
            self._local.pop((namespace, response.id), None)

        run.task.add_done_callback(done)

    async def _watch(self, keys: _Keys, run: Run) -> None:
        """Stop this process's run of a response when another process asks (BLPOP, in turns)."""
        while True:
            try:
                if await self._shared.redis.blpop([keys.cancel], timeout=BLOCK_MS / 1000):
                    break
            except RedisTimeoutError:
                continue  # a slow reply: ask again
            except LOST:
                return  # Redis is gone: a canceller that cannot reach us ends the response itself
        await run.started.wait()
        run.cancel()

    def _stop_here(self, namespace: str, response_id: str) -> bool:
        run = self._local.get((namespace, response_id))
        if run is not None:
            run.cancel()  # being deleted: whether it writes its end no longer matters
        return run is not None

    async def _ask_to_stop(self, keys: _Keys) -> None:
        async with self._shared.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(keys.cancel, "cancel")
            pipe.expire(keys.cancel, 60)
            await pipe.execute()

    async def follow(self, namespace: str, response_id: str, after: int) -> AsyncIterator[bytes]:
        keys = self._keys(namespace, response_id)
        redis = self._shared.redis
        last = f"0-{after + 1}"
        while True:
            async with guarded():
                reply = cast(list[Any], await redis.xread({keys.events: last}, count=100, block=BLOCK_MS))
                if not reply and not await redis.exists(keys.hash):
                    return  # deleted, or expired after its process stopped writing
            for _, entries in reply:  # [[stream, [(id, fields), ...]]]
                for entry_id, fields in entries:
                    if "end" in fields:
                        return
                    yield str(fields["frame"]).encode()
                    last = str(entry_id)

    async def cancel(self, namespace: str, response_id: str) -> StoredResponse | None:
        run = self._local.get((namespace, response_id))
        if run is not None:
            await run.stop()
            return await self.get(namespace, response_id)
        record = await self.get(namespace, response_id)
        if record is None or not record.running:
            return record
        keys = self._keys(namespace, response_id)
        async with guarded():
            await self._ask_to_stop(keys)
        try:
            async with asyncio.timeout(self._cancel_wait):
                async for _ in self.follow(namespace, response_id, 2**63):
                    pass  # only the end comes after the highest sequence number
        except TimeoutError:
            # The process running it is gone. Ended here, its open item stays as last written.
            log.warning("background response %s: its process did not answer a cancel", response_id)
            await self.write(keys, {**record.body, "status": "cancelled"}, [], record.history)
        return await self.get(namespace, response_id)

    async def aclose(self) -> None:
        """Stop this process's runs: each ends as cancelled, so no follower waits for it."""
        await asyncio.gather(*(run.stop() for run in list(self._local.values())), return_exceptions=True)
