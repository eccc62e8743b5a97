"""Requests setting up share the event loop's turns with the streams already running.

The event loop runs its timers, and so the pacer's ticks that send the paced streams' chunks
(server/http/pacer.py), only between its turns. In one turn it runs every callback that was ready
when the turn began, and the first step of each request that came in is one of them: the request's
whole setup (validation, the plan, the backend's first step, the headers), some hundreds of
microseconds for a stream. When 2,000 streams are asked for at once, hundreds of setups ran in one
turn of 100 ms and more, and every chunk due meanwhile was as late (bench.paced at 2,000: drift p99
of the chunks due in the first second 70 to 190 ms).

`Turns` gives a turn `budget` seconds: the first request of a turn always goes on; each later one
goes on while the turn has taken less than the budget, and otherwise waits for a later turn, in
order of arrival. A turn's time counts from the end of the one before, so the timers that fired in
between count against it: while the running streams need most of the core, fewer set up per turn.
A turn wakes about as many as fit in the last one; one that finds the budget spent waits again,
first in line. So a chunk waits for at most about one budget's worth of setups. The streams still
run as soon as they are set up: a burst's last streams start later (their first chunk), and every
chunk of a stream keeps its time from then on.

Requests wait only while an earlier request is still under way (`active`). One that has not
finished while another starts is waiting for something (a timer, a backend, its client) and a long
turn would make it late; plain bodies and zero-delay streams are done within their first step, so a
run of them never waits. Only the creating endpoints' short way in
(server/http/direct.py) passes here: the rest are short and rare. A request never waits for
another request to finish, only for a later turn, so one that asks this server again (a proxy to
itself) cannot wait on itself.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

# Seconds of setups per turn of the loop: a paced chunk due meanwhile is late by about as much.
BUDGET = 0.002


class Turns:
    """Admits the requests of one event loop, `budget` seconds of setups per turn while a request
    is under way; the caller counts the requests it let on that have not finished (`active`)."""

    def __init__(self, budget: float = BUDGET) -> None:
        self.budget = budget
        self.active = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opened: float | None = None  # perf_counter when this turn began, None between bursts
        self._admitted = 0  # setups let on in this turn
        self._spent = False  # whether a setup had to wait in this turn
        self._waiting: deque[asyncio.Future[None]] = deque()

    def wait(self) -> asyncio.Future[None] | None:
        """None when the request may set up now, else what to await before asking `again`."""
        if not self.active and not self._waiting:
            return None
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop (tests run several): the old one's turns are gone
            self._loop, self._opened, self._waiting = loop, None, deque()
        return self._ask(loop, first=False)

    def again(self) -> asyncio.Future[None] | None:
        """After a wait: None when the request may set up now, else a new wait, first in line."""
        return self._ask(asyncio.get_running_loop(), first=True)

    def _ask(self, loop: asyncio.AbstractEventLoop, first: bool) -> asyncio.Future[None] | None:
        now = time.perf_counter()
        if self._opened is None:  # no turn of setups under way: this request begins one
            self._opened, self._admitted, self._spent = now, 0, False
            loop.call_soon(self._next_turn)  # runs once the callbacks ready now have run
        elif (
            self._spent
            or (self._waiting and not first)
            or (self._admitted and now - self._opened >= self.budget)
        ):
            self._spent = True
            future = loop.create_future()
            if first:
                self._waiting.appendleft(future)
            else:
                self._waiting.append(future)
            return future
        self._admitted += 1  # a turn lets one on at least, however long its timers took
        return None

    def _next_turn(self) -> None:
        # As many as fit in the turn just ended, and one more; twice as many if none had to wait.
        wake = self._admitted + 1 if self._spent else max(1, 2 * self._admitted)
        waiting, woken = self._waiting, 0
        while woken < wake and waiting:
            future = waiting.popleft()
            if not future.done():  # else its request was cancelled meanwhile
                future.set_result(None)
                woken += 1
        if not woken:
            self._opened = None
            return
        # The woken run in the loop's next turn, after its timers: their time counts from now, so
        # a turn whose timers took long lets fewer set up.
        self._opened, self._admitted, self._spent = time.perf_counter(), 0, False
        asyncio.get_running_loop().call_soon(self._next_turn)
