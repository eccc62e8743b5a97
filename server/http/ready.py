"""Frames that are ready together go out together.

A stream's frames come from a chain of async generators (backend, pipeline, renderer). When a
backend has its reply at hand (echo, a fixture without timing, several events in one upstream
read), the chain yields frame after frame without ever waiting, and sending each frame in an ASGI
message of its own costs a pass through every middleware's `send` and one socket write per frame:
about a third of a zero-delay stream's time. `batched` joins the frames that come without a wait
into one message, and sends what it holds as soon as the next frame has to be waited for, so the
bytes are the same in fewer writes and a paced stream keeps its pacing exactly.

Ready frames hold the event loop for at most `TURN_SECONDS`: a backend that never awaits (echo) would
otherwise keep it for the whole stream, so other clients would wait and a disconnect would go unseen.
Then the frames held go out and the loop gets a turn. A turn by time, not by frames, lets a short
stream's frames go out together; and a stream that waited had its turn, so the clock starts again
there: a paced stream, which waits before each frame, takes no extra turn per frame (that turn cost
a paced frame a second pass through the whole chain of generators and middlewares, for nothing).

Whether the next frame is ready is seen by taking the first step of the generator's `__anext__()`
by hand: the step either finishes (the frame was ready) or stops at what it waits on (a future, or
a bare yield to the event loop). The rest of such a step is then awaited as `await` would have done
it (`rest`), after the frames already held are sent. A paced stream's step stops at a `Due`
(server/generation/events.py), which the event loop must never see: the step is handed to the
sender (`Handoff`), which paces the rest of the stream by hand (server/http/pacer.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import types
from collections.abc import AsyncGenerator, Callable, Coroutine, Generator
from typing import Any, TypeVar

from server.generation.events import Due

T = TypeVar("T")
TURN_SECONDS = 0.001  # the longest a stream's ready frames hold the event loop


class Handoff:
    """What `batched` yields when the frames' source awaits a `Due` under a sender that paces: the
    source's step under way (`step`, stopped at `due`), which the sender carries on from then on
    (server/http/pacer.py); `batched` yields nothing after it."""

    __slots__ = ("due", "step")

    def __init__(self, step: Coroutine[Any, Any, bytes], due: Due) -> None:
        self.step, self.due = step, due


async def batched(
    frames: AsyncGenerator[bytes, None], on_wait: Callable[[], None] | None = None
) -> AsyncGenerator[bytes | Handoff, None]:
    """`frames`, with the frames that are ready together joined into one; `on_wait` is called each
    time the next frame has to be waited for, after the frames held were taken (the sender has
    sent them). A `Due` that the frames' source awaits (under a sender that paces, `SENDER_PACES`)
    is a wait too: the frames held go out, then a `Handoff` of the source's step under way, with
    which the sender goes on itself; nothing comes after it."""
    ready: list[bytes] = []
    step_of, clock = frames.__anext__, time.perf_counter
    turn = clock() + TURN_SECONDS
    try:
        while True:
            step = step_of()
            try:
                waits_on = step.send(None)
            except StopIteration as done:  # the frame was ready
                ready.append(done.value)
                if clock() >= turn:  # held the loop long enough: give it a turn
                    held = b"".join(ready)
                    ready.clear()
                    yield held
                    if on_wait is not None:
                        on_wait()
                    await asyncio.sleep(0)
                    turn = clock() + TURN_SECONDS
                continue
            except StopAsyncIteration:
                break
            except BaseException:
                if ready:  # what was made before a failure still goes out first, as it did alone
                    yield b"".join(ready)
                raise
            if ready:
                held = b"".join(ready)
                ready.clear()
                try:
                    yield held
                except BaseException:  # closed (the client left) while the step waits: cancel it
                    await abandon(step, waits_on)
                    raise
            if on_wait is not None:
                on_wait()
            try:
                frame = await rest(step, waits_on)
            except StopAsyncIteration:
                break
            if isinstance(frame, Due):
                # The sender paces the rest itself, from `step` (nothing is held: it went out
                # before the wait). The step is its own from here: this generator ends with it.
                yield Handoff(step, frame)
                return
            turn = clock() + TURN_SECONDS  # the loop had its turn while the stream waited
            ready.append(frame)
        if ready:
            yield b"".join(ready)
    finally:
        await frames.aclose()


@types.coroutine
def rest(step: Coroutine[Any, Any, T], waits_on: Any) -> Generator[Any, Any, T | Due]:
    """The rest of `step`, which stopped at `waits_on`: hand that to the event loop, and pass what
    comes back (a result or an exception) into the step, as `await step` would have; until the
    step is done (its value returned) or awaits a `Due` (returned, for the stream's sender: the
    event loop never sees one, `waits_on` included)."""
    if isinstance(waits_on, Due):
        return waits_on
    signal = waits_on
    while True:
        try:
            sent = yield signal
        except BaseException as exc:  # passed into the step, as await does
            try:
                signal = step.throw(exc)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]  # StopIteration.value is Any
        else:
            try:
                signal = step.send(sent)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]  # StopIteration.value is Any
        if isinstance(signal, Due):
            return signal


async def abandon(step: Coroutine[Any, Any, object], waits_on: Any) -> None:
    """Cancel a step stopped at `waits_on` and let it unwind (its generators' `finally` blocks)."""
    with contextlib.suppress(Exception, asyncio.CancelledError):
        while True:
            if isinstance(waits_on, Due):  # as the sleep it stands for would be cancelled
                waits_on = step.throw(asyncio.CancelledError())
                continue
            if isinstance(waits_on, asyncio.Future):
                waits_on.cancel()
            waits_on = await rest(step, waits_on)
            if not isinstance(waits_on, Due):
                return
