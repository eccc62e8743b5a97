"""One clock for the paced streams of an app: their frames made and written from a shared timer.

A paced stream (a fixture's `timing`) used to sleep before each frame: a timer and a future per
stream per frame, and a wake-up of the stream's task whose resumption ran down the whole chain of
middlewares and generators to the sleep, and back up with the frame (issue 14: at 2,000 streams of
20 chunks a second the core was full at about 46 us of CPU per chunk, most of it that chain). Here a
backend awaits the time its next item is due (`Due`), which the stream's sender is handed instead
of a sleep (server/http/ready.py), and the stream parks until then:

- `Pacer` keeps one timer of the event loop per millisecond in which some stream is due, and wakes
  all the streams due in it together. A stream never goes out early: the timer checks the time,
  since the loop's own clock may lag behind a busy iteration.
- `Driver` then makes and writes the stream's frames right there, in the timer's callback, until its
  next `Due`. It steps the frames' source and the ASGI `send` by hand (as server/http/ready.py
  does, whose step under way it takes over: `Handoff`), so no task is woken and no chain resumed,
  and it joins the frames that come ready together into one message itself. It runs them as the
  stream's task would: that task is entered for the time being (`asyncio.current_task()` is the
  stream's; timeouts and cancel scopes work) in a copy of its context variables. Whatever has to
  wait for something else (a backend that awaits, a socket that is full) or ends the stream (the
  last frame, a failure) is handed back to the stream's task (`Handback`), which carries on from
  there as if it had done the step itself.

The stream's task waits on a future meanwhile, so cancelling it (the client left, the server's exit)
ends the wait at once, and the source's step under way is cancelled where it waits, as the sleep the
`Due` stands for would be; a stream whose wait was cancelled is skipped when its time comes.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import time
import types
from collections.abc import AsyncGenerator, Callable, Coroutine, Generator
from dataclasses import dataclass
from typing import Any

from starlette.types import Send

from server.generation.events import Due
from server.http.joined_writes import LATER, Later
from server.http.ready import Handoff, abandon, rest

# The stream's task is entered while the pacer's timer runs its frames, as asyncio's own step does.
_enter_task, _leave_task = asyncio.tasks._enter_task, asyncio.tasks._leave_task

TICKS_PER_SECOND = 1000  # streams due in the same millisecond are woken by one timer
# Frames that come ready one after another are joined into one message, at most this many: then
# they go out and the event loop gets a turn (a source that keeps them coming must not hold it).
READY_FRAMES_PER_TURN = 64


class Pacer:
    """Wakes, at their time, the streams of one event loop that wait for it."""

    def __init__(self) -> None:
        self._slots: dict[int, list[Callable[[], None]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        # What the streams write in a tick goes out as it ends, one connection after another: the
        # writes come back to back, while the clients are awake to read them (written as each
        # stream made its frame, the clients were woken more often, and the streams were later).
        self.later = Later()

    def at(self, loop: asyncio.AbstractEventLoop, when: float, wake: Callable[[], None]) -> None:
        """Call `wake` from `loop` once `time.monotonic()` reaches `when`, never before."""
        if loop is not self._loop:  # a new loop (tests run several): the old one's timers are gone
            self._loop, self._slots = loop, {}
        tick = math.ceil(when * TICKS_PER_SECOND)
        slot = self._slots.get(tick)
        if slot is None:
            self._slots[tick] = [wake]
            # On the loop's own clock, which is `time.monotonic()`'s (uvloop's counts its whole
            # milliseconds): a timer for the millisecond the tick begins fires once it has begun.
            # A delay from `time.monotonic()` would be rounded on uvloop's clock, which lags by up
            # to a millisecond: the timer fired early, and was re-armed turn after turn of the loop
            # until the time came (14 turns a tick in bench/paced_cost.py).
            loop.call_at(tick / TICKS_PER_SECOND, self._fire, tick)
        else:
            slot.append(wake)

    def _fire(self, tick: int) -> None:
        if tick / TICKS_PER_SECOND > time.monotonic():  # the loop's clock was early: not yet
            assert self._loop is not None
            self._loop.call_at(tick / TICKS_PER_SECOND, self._fire, tick)
            return
        flushes: list[Callable[[], None]] = []
        self.later.flushes = flushes
        try:
            for wake in self._slots.pop(tick, ()):
                wake()
        finally:
            self.later.flushes = None
            for flush in flushes:
                flush()


class _Park:
    """What the stream's loop yields to the driver: wake me at the time due (`Driver._at`)."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        yield self


PARK = _Park()


@dataclass(slots=True)
class Handback:
    """Why the pacer gives the stream back to its task: its loop waits for `signal` (a future, or
    None for a bare turn of the event loop), it ended (`end`), or it failed (`error`)."""

    signal: Any = None
    end: bool = False
    error: BaseException | None = None


class Driver:
    """Runs the rest of one stream from the pacer's timer while its frames come ready.

    The stream's loop (`_run`) is a coroutine of its own. The pacer's timer steps it (`_wake`)
    until it parks again at the next `Due`; when it waits for anything else, the stream's task
    carries it on (`_carry`) until it parks again, then parks it with the pacer.
    """

    __slots__ = ("_at", "_context", "_coro", "_future", "_loop", "_pacer", "_task", "_waker")

    def __init__(
        self, pacer: Pacer, frames: AsyncGenerator[bytes, None], send: Send, handoff: Handoff
    ) -> None:
        self._pacer = pacer
        self._loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        self._task = task
        self._context = contextvars.copy_context()
        self._context.run(LATER.set, pacer.later)  # the frames it writes from a tick
        self._at = 0.0
        self._coro = self._run(frames, send, handoff.step, handoff.due)
        self._future: asyncio.Future[Handback] = self._loop.create_future()
        self._waker = self._wake  # one bound method, not one per frame

    async def run(self) -> None:
        """Send the rest of the frames (from the stream's task)."""
        self._coro.send(None)  # it parks at once, at the step's `Due`
        at: float | None = self._at
        while at is not None:
            handback = await self._parked(at)
            if handback.end:
                return
            if handback.error is not None:
                raise handback.error
            at = await self._carry(handback.signal)

    async def _run(
        self, frames: AsyncGenerator[bytes, None], send: Send, step: Coroutine[Any, Any, bytes], signal: Any
    ) -> None:
        """The frames from `step` on, which is stopped at `signal`: each `Due` waited for in the
        pacer (`PARK`), the frames that come ready together sent in one message. As in
        server/http/ready.py, a step is taken by hand: it either finishes (a frame) or stops at
        what it waits on, and a step stopped is cancelled, as the wait it stands for, when the
        stream is."""
        next_step = frames.__anext__
        held: list[bytes] = []
        try:
            while True:
                if signal is _GO:  # the step goes on from its wait, or a new one starts
                    try:
                        signal = step.send(None)
                    except StopIteration as done:
                        frame = done.value
                    else:
                        continue
                else:  # the step waits: what is held goes out first
                    if held:
                        body, held = b"".join(held), []  # one frame: itself, not a copy
                        try:
                            await send({"type": "http.response.body", "body": body, "more_body": True})
                        except (Exception, asyncio.CancelledError):
                            await abandon(step, signal)
                            raise
                    if signal.__class__ is Due:
                        self._at = signal.at
                        try:
                            await PARK
                        except (Exception, asyncio.CancelledError):  # the stream was stopped
                            await abandon(step, signal)
                            raise
                        signal = _GO
                        continue
                    # Something else: the stream's task waits for it, as `await` would.
                    frame = await rest(step, signal)
                    if frame.__class__ is Due:
                        signal = frame
                        continue
                held.append(frame)
                if len(held) == READY_FRAMES_PER_TURN:  # ready, one after another: a turn
                    body, held = b"".join(held), []
                    await send({"type": "http.response.body", "body": body, "more_body": True})
                    await asyncio.sleep(0)
                step, signal = next_step(), _GO
        except StopAsyncIteration:
            failed = None
        except Exception as exc:  # the source failed: what it made before goes out first
            failed = exc
        if held:
            await send({"type": "http.response.body", "body": b"".join(held), "more_body": True})
        if failed is not None:
            raise failed

    async def _parked(self, at: float) -> Handback:
        """Wait in the pacer until the loop needs the task again."""
        future: asyncio.Future[Handback] = self._loop.create_future()
        self._future = future
        self._pacer.at(self._loop, at, self._waker)
        try:
            return await future
        except asyncio.CancelledError:
            if not future.done() or future.cancelled():
                await self._unwind(PARK)  # parked: cancelled at its `Due`
            elif not future.result().end and future.result().error is None:
                await self._unwind(future.result().signal)  # handed back as the cancel came
            raise

    def _wake(self) -> None:
        if self._future.done():  # cancelled: the task has gone on without us
            return
        loop, task = self._loop, self._task
        _enter_task(loop, task)
        try:
            signal = self._context.run(self._coro.send, None)
        except StopIteration:
            handback = Handback(end=True)
        except BaseException as exc:  # the task raises it, as its own step would have
            handback = Handback(error=exc)
        else:
            if signal is PARK:
                self._pacer.at(loop, self._at, self._waker)
                return
            handback = Handback(signal)
        finally:
            _leave_task(loop, task)
        self._future.set_result(handback)

    @types.coroutine
    def _carry(self, signal: Any) -> Generator[Any, Any, float | None]:
        """Go on with the loop in the task, from where it waits on `signal`, until it parks again
        (its time returned) or ends (None)."""
        coro = self._coro
        while True:
            try:
                sent = yield signal
            except BaseException as exc:  # passed into the loop, as await does
                try:
                    signal = coro.throw(exc)
                except StopIteration:
                    return None
            else:
                try:
                    signal = coro.send(sent)
                except StopIteration:
                    return None
            if signal is PARK:
                return self._at

    @types.coroutine
    def _unwind(self, signal: Any) -> Generator[Any, Any, None]:
        """Cancel the loop where it waits on `signal` and let it unwind (the source's step with it)."""
        coro = self._coro
        if isinstance(signal, asyncio.Future):
            signal.cancel()
        try:
            signal = coro.throw(asyncio.CancelledError())
            while signal is not PARK:  # its cleanup awaits
                try:
                    sent = yield signal
                except BaseException as exc:
                    signal = coro.throw(exc)
                else:
                    signal = coro.send(sent)
            coro.close()  # not to be parked again
        except (StopIteration, Exception, asyncio.CancelledError):
            pass


_GO = object()  # `Driver._run`: the step is to be taken by hand, not waited for
