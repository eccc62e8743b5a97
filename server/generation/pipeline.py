"""The generation pipeline: the one place that applies OpenAI's semantics to a backend's output.

`Generation.events()` consumes a backend's events and yields normalized ones: content cut before the
first stop sequence or at the token limit (even when either spans deltas), a resolved finish reason
for every choice, and completion tokens counted. Streaming and non-streaming responses are both built
from these events, so the two can never disagree.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field

from server.generation.channel import Channel
from server.generation.contract import Guard, Transcript
from server.generation.events import (
    AnsweredAs,
    ChannelKind,
    Event,
    Finish,
    FinishReason,
    FunctionCallDelta,
    OutputItem,
    ReasoningDelta,
    RefusalDelta,
    TextDelta,
    ToolCallDelta,
)
from server.generation.shaping import Shaping
from server.generation.tokens import Tokenizer
from server.generation.usage import Usage


@dataclass(slots=True)
class Plan:
    """The limits decided for a request before the backend runs."""

    n: int
    stop: tuple[str, ...]
    limit: int | None
    prompt_tokens: int
    tokenizer: Tokenizer
    # Hidden reasoning tokens each reply spends before its first visible token (a reasoning model's);
    # they count against `limit`, so a small limit ends the reply (`length`) with nothing shown.
    reasoning_tokens: int = 0

    @property
    def hidden(self) -> int:
        """The reasoning tokens one reply actually spends: no more than its limit."""
        if not self.reasoning_tokens:  # not a reasoning model's: nothing to weigh
            return 0
        return self.reasoning_tokens if self.limit is None else min(self.reasoning_tokens, self.limit)


@dataclass(slots=True)
class ChoiceState:
    """What one choice has produced so far: the token cost of closed channels (the hidden
    reasoning's to begin with) and its open channel. `closed_tokens` comes first, so that a state
    is made without a keyword (a class called with keywords gathers them into a dict first)."""

    closed_tokens: int = 0
    channel: Channel | None = None
    kind: ChannelKind | None = None  # the open channel's kind
    call: int = -1
    calls: int = 0
    function_call: bool = False
    finish: FinishReason | None = None
    said: Transcript = field(default_factory=Transcript)


class Generation:
    """Runs one backend for one plan and yields normalized events."""

    def __init__(
        self,
        plan: Plan,
        stream: AsyncIterator[Event | AnsweredAs],
        guard: Guard | None = None,
        *,
        extras: bool = False,
        announced: bool = False,
        shaping: Shaping | None = None,
    ) -> None:
        """`extras`: pass reasoning summaries and scripted output items on (the Responses API shows
        them; chat has no place for them). `announced`: the backend yields an `AnsweredAs` first
        (`Backend.announces`), so `prime` may read it without waiting. `shaping`: a latency
        profile's pauses and a chaos fault (server/generation/shaping.py); None, the usual case,
        adds nothing to the path."""
        self.plan = plan
        self.shaping = shaping
        self.extras = extras
        self.announced = announced
        self.stream = stream
        self.guard = guard
        hidden = self.hidden = plan.hidden  # each reply's hidden reasoning tokens
        # One choice, as nearly every request asks, without a comprehension (a function on 3.11).
        self.states = [ChoiceState(hidden)] if plan.n == 1 else [ChoiceState(hidden) for _ in range(plan.n)]
        self.completion_tokens = 0
        # What a replayed recording says about the answer (its model, fingerprint, padding); the
        # backend yields it before any other event, so a dialect reads it before its first byte.
        self.answered_as: AnsweredAs | None = None
        self._first: Event | None = None  # read by `prime`, not yet passed on

    async def prime(self) -> None:
        """Read the backend's first item now: a dialect that writes the answer's model before any
        event calls this when the backend `announces` an `AnsweredAs` (else it would wait for the
        first event). A failure of the backend is raised here."""
        first = await anext(aiter(self.stream), None)
        if isinstance(first, AnsweredAs):
            self.answered_as = first
        else:
            self._first = first

    def events(self) -> AsyncGenerator[Event, None]:
        """The normalized events, paced and cut as the request's shaping says."""
        if self.shaping is None:
            return self._events()
        return self.shaping.shape(self._events(), self.plan.tokenizer, lambda: self.answered_as)

    async def _events(self) -> AsyncGenerator[Event, None]:
        open_choices = self.plan.n
        stream = self.stream if self._first is None else _after(self._first, self.stream)
        spent = self.plan.limit is not None and self.hidden >= self.plan.limit
        try:
            if spent:  # reasoning spent the whole budget: every reply ends before a word
                open_choices, stream = 0, _nothing()
                for index, state in enumerate(self.states):
                    for out in self._finish(state, index, "length"):
                        yield out
            n, states = self.plan.n, self.states
            async for event in stream:
                if event.__class__ is TextDelta and 0 <= event.choice < n:
                    # The usual delta: an open content channel takes it whole, and it goes on as
                    # it came (else nothing was taken, and the general way below looks at it).
                    state = states[event.choice]
                    channel = state.channel
                    if (
                        state.finish is None
                        and state.kind == "content"
                        and channel is not None
                        and channel.takes_whole(event.text)
                    ):
                        yield event
                        continue
                if isinstance(event, AnsweredAs):
                    self.answered_as = event
                    continue
                if not 0 <= event.choice < self.plan.n:
                    continue
                state = self.states[event.choice]
                if state.finish is not None:
                    continue
                for out in self._apply(state, event):
                    yield out
                if state.finish is not None:
                    open_choices -= 1
                    if open_choices == 0:
                        break
        finally:
            aclose = getattr(self.stream, "aclose", None)
            if aclose is not None:
                await aclose()
        for index, state in enumerate(self.states):
            if state.finish is None:
                for out in self._finish(state, index, None):
                    yield out
        self.completion_tokens = sum(state.closed_tokens for state in self.states)

    def _apply(self, state: ChoiceState, event: Event) -> list[Event]:
        choice = event.choice
        if isinstance(event, Finish):
            return self._finish(state, choice, event.reason)
        if isinstance(event, TextDelta):  # one an open channel takes whole never comes here (`_events`)
            return self._feed(state, choice, "content", -1, event.text, event)
        if isinstance(event, RefusalDelta):
            return self._feed(state, choice, "refusal", -1, event.text, event)
        if isinstance(event, FunctionCallDelta):
            out: list[Event] = []
            if not state.function_call:
                out += self._close(state, choice)
                if self._over_budget(state, event.name or ""):
                    return out + self._finish(state, choice, "length")
                state.function_call = True
                state.said.function = (event.name or "", "")
                state.closed_tokens += self.plan.tokenizer.count(event.name or "")
                if self.guard is not None:
                    self.guard.check_call(event.name or "", legacy=True, index=0)
                out.append(FunctionCallDelta("", event.name or "", choice))
                state.channel, state.kind = self._channel(state, "function"), "function"
            return out + self._feed(state, choice, "function", -1, event.arguments)
        if isinstance(event, ReasoningDelta | OutputItem):
            return [event] if self.extras else []  # only some dialects have a place for these
        if isinstance(event, ToolCallDelta):
            out = []
            if event.name is not None:
                out += self._close(state, choice)
                if self._over_budget(state, event.name):
                    return out + self._finish(state, choice, "length")
                if self.guard is not None:
                    self.guard.check_call(event.name, legacy=False, index=state.calls)
                state.call = event.call
                state.calls += 1
                state.said.calls.append((event.name, ""))
                state.closed_tokens += self.plan.tokenizer.count(event.name)
                out.append(
                    ToolCallDelta(
                        event.call, "", id=event.id, name=event.name, choice=choice, parallel=event.parallel
                    )
                )
                state.channel, state.kind = self._channel(state, "tool"), "tool"
            if state.kind != "tool":
                return out
            return out + self._feed(state, choice, "tool", state.call, event.arguments)
        return []

    def _over_budget(self, state: ChoiceState, name: str) -> bool:
        """A call whose name alone would pass the token limit is never started."""
        limit = self.plan.limit
        return limit is not None and state.closed_tokens + self.plan.tokenizer.count(name) > limit

    def _channel(self, state: ChoiceState, kind: ChannelKind) -> Channel:
        limit = self.plan.limit
        budget = None if limit is None else max(0, limit - state.closed_tokens)
        stop = self.plan.stop if kind == "content" else ()
        return Channel(self.plan.tokenizer, stop, budget)  # by keyword, they would be put in a dict first

    def _feed(
        self,
        state: ChoiceState,
        choice: int,
        kind: ChannelKind,
        call: int,
        piece: str,
        sent: Event | None = None,
    ) -> list[Event]:
        """Feed `piece` to the choice's `kind` channel; `sent`, the backend's event holding just
        `piece`, goes on as it came when the channel releases the piece whole (most deltas)."""
        out: list[Event] = []
        if state.kind != kind:
            if state.channel is not None:  # a reply's first channel has none to close before it
                out += self._close(state, choice)
            state.channel, state.kind = self._channel(state, kind), kind
        assert state.channel is not None
        pieces, cut = state.channel.feed(piece)
        if sent is not None and cut is None and pieces == [piece]:
            out.append(sent)
            return out
        out += [self._event(kind, call, choice, text) for text in pieces]
        if cut is not None:
            out += self._finish(state, choice, cut.reason)
        return out

    def _event(self, kind: ChannelKind, call: int, choice: int, text: str) -> Event:
        if kind == "content":
            return TextDelta(text, choice)
        if kind == "refusal":
            return RefusalDelta(text, choice)
        if kind == "function":
            return FunctionCallDelta(text, None, choice)
        return ToolCallDelta(call, text, choice=choice)

    def _close(self, state: ChoiceState, choice: int) -> list[Event]:
        """Flush the open channel and add its tokens to the choice's count."""
        channel, kind = state.channel, state.kind
        if channel is None:
            return []
        assert kind is not None
        held = channel.flush()  # most often nothing: every delta went out whole
        out = [self._event(kind, state.call, choice, text) for text in held] if held else []
        text = channel.text
        state.closed_tokens += channel.tokenizer.count(text)
        state.said.record(kind, text)
        state.channel, state.kind = None, None
        return out

    def _finish(self, state: ChoiceState, choice: int, reason: FinishReason | None) -> list[Event]:
        out = self._close(state, choice)
        if reason is None:
            reason = "function_call" if state.function_call else "tool_calls" if state.calls else "stop"
        state.finish = reason
        if self.guard is not None:
            self.guard.check_reply(state.said, reason)
        out.append(Finish(reason, choice))
        return out

    def usage(self) -> Usage:
        # prompt, completion, cached and reasoning tokens, in order: by keyword, the class would
        # gather them into a dict first
        return Usage(self.plan.prompt_tokens, self.completion_tokens, 0, self.hidden * self.plan.n)


async def _after(
    first: Event, rest: AsyncIterator[Event | AnsweredAs]
) -> AsyncGenerator[Event | AnsweredAs, None]:
    yield first
    async for item in rest:
        yield item


async def _nothing() -> AsyncGenerator[Event | AnsweredAs, None]:
    return
    yield  # an async generator that yields nothing
