"""Stop waiting for a backend when the client has gone.

Before the first byte of a response nothing notices a client that disconnects (an event stream only
watches once a stream has started), so a backend that stalls or paces its reply (a fixture, an
upstream) would hold the request, and its resources, after the client left. The work is raced
against the client's `http.disconnect` and cancelled when that comes first.
"""

from __future__ import annotations

import asyncio
import contextlib
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


async def unless_disconnected(work: Awaitable[T], receive: Receive | None) -> T:
    """`await work`, unless the client leaves first (then the work is cancelled: `ClientGoneError`)."""
    if receive is None:
        return await work
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(receive))
    try:
        await asyncio.wait((task, watcher), return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    raise ClientGoneError
