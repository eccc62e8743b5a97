"""What the server adds to any backend's reply on its way out: a latency profile's pauses and a
scripted fault part-way through. Applied by the pipeline to its normalized events, so echo,
fixtures and replayed recordings are paced alike, on every dialect, streamed or not (a whole
response waits for all of its tokens, as the real API's does).

Pacing follows the tokens, not the pieces: each choice's first token is ready `ttft` after the
start, every further one an `inter_token` draw later, and a piece goes out when its last token is
ready. The choices of `n` > 1 are generated side by side, each with its own first-token time. Each
piece is due at a time counted from the request's arrival and the pause is what is left until then
on the clock, so the server's own work (reading the request, between pieces) does not add up (a test
gives a clock that only its recorded sleeps advance, and the pauses depend on the seed alone). A backend that paces its own reply (a fixture with a `timing`, a recording
replayed at its recorded pace) says so in its `AnsweredAs`, and then only the fault applies.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass

from server.generation.events import (
    AnsweredAs,
    Event,
    Finish,
    FunctionCallDelta,
    ReasoningDelta,
    RefusalDelta,
    TextDelta,
    ToolCallDelta,
)
from server.generation.latency import Delays
from server.generation.tokens import Tokenizer

Sleep = Callable[[float], Awaitable[None]]


@dataclass(slots=True)
class Shaping:
    """One request's pacing (`delays`; None: not paced) and fault (`fault` makes the exception,
    raised once `fault_after` pieces went out, or before the first finish of a shorter reply)."""

    delays: Delays | None = None
    fault: Callable[[], BaseException] | None = None
    fault_after: int = 0
    sleep: Sleep = asyncio.sleep
    clock: Callable[[], float] = time.perf_counter
    started: float | None = None  # on `clock`, when the request came in; None: when pacing starts

    async def shape(
        self,
        events: AsyncGenerator[Event, None],
        tokenizer: Tokenizer,
        answered: Callable[[], AnsweredAs | None],
    ) -> AsyncGenerator[Event, None]:
        """`events` paced and cut; `answered` tells, once the first event is there, whether the
        backend paced its reply itself (it says so before its first event)."""
        clock = _Clock(self.delays, tokenizer, self.clock, self.started) if self.delays is not None else None
        sent = 0
        try:
            async for event in events:
                if clock is not None and sent == 0 and _self_paced(answered()):
                    clock = None
                if self.fault is not None and (sent == self.fault_after or isinstance(event, Finish)):
                    raise self.fault()
                if clock is not None:
                    pause = clock.pause(event)
                    if pause > 0:
                        await self.sleep(pause)
                if not isinstance(event, Finish):
                    sent += 1
                yield event
        finally:
            await events.aclose()


def _self_paced(answered: AnsweredAs | None) -> bool:
    return answered is not None and answered.paced


class _Clock:
    """When each piece is ready, per choice, from the start of the reply (seconds)."""

    __slots__ = ("delays", "now", "ready", "started", "time", "tokenizer")

    def __init__(
        self, delays: Delays, tokenizer: Tokenizer, time: Callable[[], float], started: float | None
    ) -> None:
        self.delays = delays
        self.tokenizer = tokenizer
        self.time = time
        self.started = time() if started is None else started
        self.now = 0.0  # when the previous piece was due
        self.ready: dict[int, float] = {}  # per choice: when its latest token was generated

    def pause(self, event: Event) -> float:
        last = self.ready.get(event.choice)
        if isinstance(event, Finish):  # a finish follows its last token; an empty reply waits its ttft
            done = self.delays.ttft() if last is None else last
        else:
            tokens = tokens_in(event, self.tokenizer)
            if last is None:
                done = self.delays.ttft() + self.delays.tokens(tokens - 1)
            else:
                done = last + self.delays.tokens(tokens)
        self.ready[event.choice] = done
        self.now = max(self.now, done)
        return max(0.0, self.started + self.now - self.time())


def tokens_in(event: Event, tokenizer: Tokenizer) -> int:
    """The tokens a piece stands for (at least one: a call's opening piece, a scripted item)."""
    if isinstance(event, TextDelta | RefusalDelta | ReasoningDelta):
        text = event.text
    elif isinstance(event, ToolCallDelta | FunctionCallDelta):
        text = event.arguments
    else:
        text = ""
    return max(1, tokenizer.count(text))
