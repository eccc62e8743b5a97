"""Requests setting up share the event loop's turns with the streams already running.

The event loop runs its timers, and so the pacer's ticks that send the paced streams' chunks
(server/http/pacer.py), only between its turns. In one turn it runs every callback that was ready
when the turn began, and the first step of each request that came in is one of them: the request's
whole setup (validation, the plan, the backend's first step, the headers), some hundreds of
microseconds for a stream. When 2,000 streams are asked for at once, hundreds of setups ran in one
turn of 100 ms and more, and every chunk due meanwhile was as late (bench.paced at 2,000: drift p99
of the chunks due in the first second 70 to 190 ms).

`Turns` gives a turn `budget` seconds: the first request of a turn always goes on; each later one
goes on while the turn's setups, and the pacer's ticks since the turn before, have taken less than
the budget, and otherwise waits for a later turn, in order of arrival. So while the running streams
need most of the core, fewer set up per turn. A turn wakes about as many as fit in the last one;
one that finds the budget spent waits again, first in line. So a chunk waits for at most about one
budget's worth of setups. The streams still run as soon as they are set up: a burst's last streams
start later (their first chunk), and every chunk of a stream keeps its time from then on.

No request waits for ever. With the running streams always first, a burst larger than the core
can pace waited for them to end (bench.paced at 5,000: no more than 2,300 to 2,800 streams open at
once, TTFT p99 11 to 13 s). So once the request in front has waited longer than `PATIENCE`, the
setups of a turn may also take as long as the ticks took, times the seconds it has waited beyond
it (at 5,000: all 5,000 open at once, TTFT p99 2.3 to 3.0 s).

Requests wait only while an earlier request is still under way (`active`): one that has not
finished while another starts is waiting for something (a timer, a backend, its client), and a
long turn could make it late. Plain bodies are done within their first step, so a run of them never
waits. Only the ticks count against a turn, not the other work in it: a zero-delay stream long
enough to take several turns (the Responses API's) is under way too, and its next frames, counted,
would leave the new requests one setup per turn while nothing waits for a time. Only the creating
endpoints' short way in (server/http/direct.py) passes here: the rest are short and rare. A request
never waits for another request to finish, only for a later turn, so one that asks this server
again (a proxy to itself) cannot wait on itself.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

# Seconds of setups and ticks per turn of the loop: a paced chunk due meanwhile is late by about
# as much.
BUDGET = 0.002
# Seconds a request waits for its setup before the setups get a share of the turns besides what
# the ticks leave them.
PATIENCE = 1.0


class Turns:
    """Admits the requests of one event loop, `budget` seconds of setups and ticks per turn while a
    request is under way; the caller counts the requests it let on that have not finished
    (`active`). `ticks()` is the time the pacer's ticks have taken so far (`Pacer.busy`)."""

    def __init__(
        self, ticks: Callable[[], float], budget: float = BUDGET, patience: float = PATIENCE
    ) -> None:
        self.ticks = ticks
        self.budget = budget
        self.patience = patience
        self.active = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._turning = False  # whether a turn of setups is under way (else none waits)
        self._ticked = 0.0  # `ticks()` when it began
        self._admitted = 0  # setups let on in this turn
        self._until = 0.0  # perf_counter until which this turn lets more set up
        self._spent = False  # whether a setup had to wait in this turn
        # The requests waiting for a turn, and since when (perf_counter), in order of arrival.
        self._waiting: deque[tuple[asyncio.Future[float], float]] = deque()

    def wait(self) -> asyncio.Future[float] | None:
        """None when the request may set up now, else what to await before asking `again` with
        what it gives (when the request began to wait)."""
        if not self.active and not self._waiting:
            return None
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop (tests run several): the old one's turns are gone
            self._loop, self._turning, self._waiting = loop, False, deque()
        return self._ask(loop, None)

    def again(self, since: float) -> asyncio.Future[float] | None:
        """After a wait begun at `since`: None when the request may set up now, else a new wait,
        first in line."""
        return self._ask(asyncio.get_running_loop(), since)

    def _ask(self, loop: asyncio.AbstractEventLoop, since: float | None) -> asyncio.Future[float] | None:
        now = time.perf_counter()
        if not self._turning:  # no turn of setups under way: this request begins one
            self._turning, self._ticked, self._admitted, self._spent = True, self.ticks(), 0, False
            loop.call_soon(self._next_turn)  # runs once the callbacks ready now have run
        elif self._spent or (self._waiting and since is None) or (self._admitted and now >= self._until):
            self._spent = True
            future: asyncio.Future[float] = loop.create_future()
            if since is not None:
                self._waiting.appendleft((future, since))
            else:
                self._waiting.append((future, now))
            return future
        if not self._admitted:  # a turn lets one on at least, however long the ticks took
            self._until = now + self._allowance(now, now if since is None else since)
        self._admitted += 1
        return None

    def _allowance(self, now: float, since: float) -> float:
        """How long the setups of this turn may take from now, as its first (the request waiting
        longest, since `since`) goes on: what the ticks since the last turn left of the budget, or,
        once the request has waited past the patience, as long as those ticks took times the
        patiences beyond it."""
        ticks = self.ticks() - self._ticked
        overdue = max(0.0, now - since - self.patience) / self.patience
        return max(self.budget - ticks, ticks * overdue)

    def _next_turn(self) -> None:
        # As many as fit in the turn just ended, and one more; twice as many if none had to wait.
        wake = self._admitted + 1 if self._spent else max(1, 2 * self._admitted)
        waiting, woken = self._waiting, 0
        while woken < wake and waiting:
            future, since = waiting.popleft()
            if not future.done():  # else its request was cancelled meanwhile
                future.set_result(since)
                woken += 1
        if not woken:
            self._turning = False
            return
        # The woken run in the loop's next turn, after its timers: the ticks' time counts from
        # now, so a turn whose ticks took long lets fewer set up.
        self._ticked, self._admitted, self._spent = self.ticks(), 0, False
        asyncio.get_running_loop().call_soon(self._next_turn)
