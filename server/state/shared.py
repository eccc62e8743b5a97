"""The connection to the Redis that holds shared state (the `state` setting), and what a lost Redis
answers.

Every operation has bounded socket timeouts, so a Redis that vanishes mid-request costs at most a
few seconds, never a hang. A connection error or timeout becomes a 503 in OpenAI's envelope
(`server_error`), which the official SDKs retry; the pool reconnects on a later command, so the
server recovers by itself when Redis returns. Other Redis errors (a script's bug) stay unexpected
and are answered as 500s like any bug.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server.errors import APIError

SOCKET_TIMEOUT = 2.0  # seconds for a connect, and for any one reply
LOST = (RedisConnectionError, RedisTimeoutError, OSError)


@dataclass(frozen=True, slots=True)
class Shared:
    """One Redis client and the prefix and lifetime of the keys this deployment writes."""

    redis: aioredis.Redis
    prefix: str
    ttl_seconds: int

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    async def aclose(self) -> None:
        await self.redis.aclose()


def connect(url: str, prefix: str, ttl_seconds: int) -> Shared:
    """A client for `url`; it connects on first use, so a server starts while Redis is still down."""
    client = aioredis.Redis.from_url(
        url,
        socket_timeout=SOCKET_TIMEOUT,
        socket_connect_timeout=SOCKET_TIMEOUT,
        health_check_interval=30,
        decode_responses=True,
    )
    return Shared(client, prefix, ttl_seconds)


def unavailable() -> APIError:
    # Chosen wording: the real API's 503 says the server is "overloaded or not ready yet"; this one
    # names the cause so an operator sees it, and stays a `server_error` that SDKs retry.
    return APIError(
        503,
        "chatdouble's shared state (Redis) is unreachable, so the request was not served. Retry shortly.",
        type="server_error",
    )


@asynccontextmanager
async def guarded() -> AsyncIterator[None]:
    """Turn a lost Redis into the 503 above."""
    try:
        yield
    except LOST:
        raise unavailable() from None
