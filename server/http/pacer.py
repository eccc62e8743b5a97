"""One clock for the paced streams of an app: their frames made and written from a shared timer.

A paced stream (a fixture's `timing`) used to sleep before each frame: a timer and a future per
stream per frame, and a wake-up of the stream's task whose resumption ran down the whole chain of
middlewares and generators to the sleep, and back up with the frame (issue 14: at 2,000 streams of
20 chunks a second the core was full at about 46 us of CPU per chunk, most of it that chain). Here a
backend awaits the time its next item is due (`Due`), which the stream's sender is handed instead
of a sleep (server/http/ready.py), and the stream parks until then:

- `Pacer` keeps one timer of the event loop per millisecond in which some stream is due, and wakes
  all the streams due in it together. A stream never goes out early: the timer checks the time,
  since the loop's own clock may lag behind a busy iteration. Nor later than it must: the loop runs
  its timers only between turns, and streams that end together end in one long turn (each one's
  task finishes its response), so a stream that has ended first runs the ticks whose time has
  come (`catch_up`).
- `Driver` then makes and writes the stream's frames right there, in the timer's callback, until its
  next `Due`. Its loop is a coroutine that awaits the frames' source and the ASGI `send` as any
  coroutine does, and the `Due` the source awaits comes out of it to the timer, which resumes it
  when the time comes (the first is the one server/http/ready.py stopped at: `Handoff`). So no
  task is woken and no chain of middlewares resumed. Each frame is sent as it comes; what a tick
  writes still goes out in one write per connection (server/http/joined_writes.py). It runs them
  as the stream's task would: that task is entered for the time being (`asyncio.current_task()`
  is the stream's; timeouts and cancel scopes work) in a copy of its context variables. Whatever
  has to wait for something else (a backend that awaits, a socket that is full) or ends the stream
  (the last frame, a failure) is handed back to the stream's task (`Handback`), which carries on
  from there as if it had done the step itself.

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
# At most this many frames that come ready one after another are sent before the event loop gets
# a turn (a source that keeps them coming must not hold it).
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
        self.busy = 0.0  # seconds the ticks have taken, in all (server/http/turns.py reads it)

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

    def catch_up(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run, from the task at hand, the ticks whose time has come, earliest first.

        The event loop runs its timers between turns, and the streams that end in one tick end in
        one turn: each one's task finishes its response (the end of the body, the middlewares'
        work after it) without a wait, and the streams still running waited for all of them. A
        stream that has ended calls this, so the ticks due meanwhile run between two ends
        (bench.paced, 2,000 streams, three runs in turns: drift p99 62, 24, 32 ms before; 8.7,
        6.7, 22 ms after; measured while first chunks still went out late, which pulled every
        stream's drift down: server/http/joined_writes.py).

        Not called as a stream starts, though a burst of streams setting up is a long turn too:
        called there (after the first frame, as the stream's task hands the rest to the pacer),
        the new streams queued behind the running ones. At 2,000 streams the timers of the sleeps
        before their first frames fired in time, but the tasks they woke waited in the loop's
        queue behind tasks running ticks, up to 5 s for a third of them: the running streams
        need nearly all of the core, and went first. A burst is kept short another way: the
        requests set up a few at a time, about 2 ms of setups per turn (server/http/turns.py).
        """
        if loop is not self._loop or not self._slots or self.later.flushes is not None:
            return  # another loop's, none waiting, or inside a tick already
        now = math.floor(time.monotonic() * TICKS_PER_SECOND)
        due = sorted(tick for tick in self._slots if tick <= now)
        if not due:
            return
        task = asyncio.current_task(loop)
        assert task is not None
        _leave_task(loop, task)  # the streams' own tasks are entered as their frames are made
        try:
            for tick in due:
                self._fire(tick)
        finally:
            _enter_task(loop, task)

    def _fire(self, tick: int) -> None:
        if tick / TICKS_PER_SECOND > time.monotonic():  # the loop's clock was early: not yet
            assert self._loop is not None
            self._loop.call_at(tick / TICKS_PER_SECOND, self._fire, tick)
            return
        began = time.perf_counter()
        flushes: list[Callable[[], None]] = []
        self.later.flushes = flushes
        try:
            for wake in self._slots.pop(tick, ()):
                wake()
        finally:
            self.later.flushes = None
            for flush in flushes:
                flush()
            self.busy += time.perf_counter() - began


@dataclass(slots=True)
class Handback:
    """Why the pacer gives the stream back to its task: its loop waits for `signal` (a future, or
    None for a bare turn of the event loop), it ended (`end`), or it failed (`error`)."""

    signal: Any = None
    end: bool = False
    error: BaseException | None = None


class Driver:
    """Runs the rest of one stream from the pacer's timer while its frames come ready.

    The stream's loop (`_run`) is a coroutine of its own, which awaits the frames' source as any
    coroutine would: a `Due` the source awaits comes out of it, and the pacer's timer steps it
    (`_wake`) from there until the next one. When it waits for anything else, the stream's task
    carries it on (`rest`, server/http/ready.py) until the next `Due`, then parks it with the
    pacer again.
    """

    __slots__ = ("_context", "_coro", "_future", "_loop", "_pacer", "_ready", "_step", "_task", "_waker")

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
        self._ready = 0  # frames sent since the pacer last woke the stream, or it last had a turn
        self._coro = self._run(frames, send, handoff.step, handoff.due)
        self._step = self._coro.send  # one bound method, not one per frame
        self._future: asyncio.Future[Handback] = self._loop.create_future()
        self._waker = self._wake  # one bound method, not one per frame

    async def run(self) -> None:
        """Send the rest of the frames (from the stream's task)."""
        due = self._coro.send(None)  # it stops at once, at the step's `Due`
        at: float | None = due.at
        while at is not None:
            handback = await self._parked(at)
            if handback.end:
                break
            if handback.error is not None:
                raise handback.error
            # Carried on in the task, from where it waits, until its next `Due` or its end.
            waits_on = await rest(self._coro, handback.signal)
            at = waits_on.at if waits_on is not None else None
        self._pacer.catch_up(self._loop)  # ended: the streams due meanwhile go before its end

    async def _run(
        self, frames: AsyncGenerator[bytes, None], send: Send, step: Coroutine[Any, Any, bytes], due: Due
    ) -> None:
        """The frames from `step` on, which is stopped at `due`, each sent as it comes; frames sent
        in the same tick go out in one write all the same (server/http/joined_writes.py)."""
        try:
            await due
        except BaseException:  # stopped before its time: the step is cancelled at its `Due`
            await abandon(step, due)
            raise
        next_step = frames.__anext__
        try:
            frame = await step
            while True:
                await send({"type": "http.response.body", "body": frame, "more_body": True})
                self._ready += 1
                if self._ready == READY_FRAMES_PER_TURN:  # ready, one after another: a turn
                    await asyncio.sleep(0)
                    self._ready = 0
                frame = await next_step()
        except StopAsyncIteration:
            return

    async def _parked(self, at: float) -> Handback:
        """Wait in the pacer until the loop needs the task again."""
        future: asyncio.Future[Handback] = self._loop.create_future()
        self._future = future
        self._pacer.at(self._loop, at, self._waker)
        try:
            return await future
        except asyncio.CancelledError:
            if not future.done() or future.cancelled():
                await self._unwind(None)  # parked: cancelled at its `Due`
            elif not future.result().end and future.result().error is None:
                await self._unwind(future.result().signal)  # handed back as the cancel came
            raise

    def _wake(self) -> None:
        if self._future.done():  # cancelled: the task has gone on without us
            return
        loop, task = self._loop, self._task
        self._ready = 0
        _enter_task(loop, task)
        try:
            signal = self._context.run(self._step, None)
        except StopIteration:
            handback = Handback(end=True)
        except BaseException as exc:  # the task raises it, as its own step would have
            handback = Handback(error=exc)
        else:
            if signal.__class__ is Due:
                self._pacer.at(loop, signal.at, self._waker)
                return
            handback = Handback(signal)
        finally:
            _leave_task(loop, task)
        if not self._future.done():  # the step may have cancelled its own task meanwhile
            self._future.set_result(handback)

    @types.coroutine
    def _unwind(self, signal: Any) -> Generator[Any, Any, None]:
        """Cancel the loop where it waits (on `signal`; None: at a `Due`) and let it unwind (the
        source's step with it), as a sleep the `Due` stands for would be cancelled."""
        coro = self._coro
        if isinstance(signal, asyncio.Future):
            signal.cancel()
        try:
            signal = coro.throw(asyncio.CancelledError())
            while True:  # its cleanup awaits
                if signal.__class__ is Due:
                    signal = coro.throw(asyncio.CancelledError())
                    continue
                try:
                    sent = yield signal
                except BaseException as exc:
                    signal = coro.throw(exc)
                else:
                    signal = coro.send(sent)
        except (StopIteration, Exception, asyncio.CancelledError):
            pass
