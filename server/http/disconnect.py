"""Stop waiting for a backend when the client has gone.

Before the first byte of a response nothing notices a client that disconnects (an event stream only
watches once a stream has started), so a backend that stalls or paces its reply (a fixture, an
upstream) would hold the request, and its resources, after the client left. The work is raced
against the client's `http.disconnect` and cancelled when that comes first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from starlette.responses import Response
from starlette.types import Receive

T = TypeVar("T")


class ClientGoneError(Exception):
    """The client disconnected before the answer was ready."""


def client_gone() -> Response:
    """The answer to a client that left before it was ready: nginx's 499, which nobody reads."""
    return Response(status_code=499)


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def unless_disconnected(work: Awaitable[T], receive: Receive | None) -> Awaitable[T]:
    """`work`, to await, unless the client leaves first (then the work is cancelled:
    `ClientGoneError`). Without `receive` (nothing to race) it is `work` itself.

    The work runs in the caller's task, and one watcher task cancels that task when the client
    leaves: a second task for the work, and `asyncio.wait` over both, cost a proxied request two
    more turns of the event loop (a tenth of its time, at one request at a time)."""
    return work if receive is None else _raced(work, receive)


async def _raced(work: Awaitable[T], receive: Receive) -> T:
    task = asyncio.current_task()
    assert task is not None
    left = False

    async def watch() -> None:
        nonlocal left
        await _disconnected(receive)
        left = True
        task.cancel()

    watcher = asyncio.get_running_loop().create_task(watch())
    try:
        result = await work
    except asyncio.CancelledError:
        if left:
            task.uncancel()
            raise ClientGoneError from None
        raise
    finally:
        watcher.cancel()
    if left:  # the work finished as the client left: its cancellation was not delivered
        task.uncancel()
        raise ClientGoneError
    return result
