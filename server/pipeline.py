"""The generation pipeline: the one place that applies OpenAI's semantics to a backend's output.

`Generation.events()` consumes a backend's events and yields normalized ones: content cut before the
first stop sequence or at the token limit (even when either spans deltas), a resolved finish reason
for every choice, and completion tokens counted. Streaming and non-streaming responses are both built
from these events, so the two can never disagree.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

from backends.base import (
    Backend,
    Event,
    Finish,
    FunctionCallDelta,
    GenerationRequest,
    RefusalDelta,
    TextDelta,
    ToolCallDelta,
)
from server.tokens import Tokenizer
from server.wire.chat_response import CompletionTokensDetails, PromptTokensDetails, Usage

# Tokens a tool call costs beyond its name and arguments (OpenAI does not document it; see docs).
TOOL_CALL_OVERHEAD = 0


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything decided about a request before the backend runs."""

    id: str
    created: int
    model: str
    n: int
    stop: tuple[str, ...]
    limit: int | None
    prompt_tokens: int
    include_usage: bool
    logprobs: bool
    top_logprobs: int
    service_tier: str
    system_fingerprint: str
    tokenizer: Tokenizer
    request: GenerationRequest


@dataclass(slots=True)
class ChoiceState:
    """The text a choice has accumulated and how much of it is safe to release."""

    text: str = ""
    pending: list[str] = field(default_factory=list)
    released: int = 0
    stable_chars: int = 0
    stable_tokens: int = 0
    searched: int = 0
    refusal: str = ""
    tool_arguments: list[str] = field(default_factory=list)
    tool_names: list[str] = field(default_factory=list)
    function_call: bool = False
    finish: str | None = None


class Generation:
    """Runs one backend for one plan and yields normalized events."""

    def __init__(self, plan: Plan, backend: Backend) -> None:
        self.plan = plan
        self.backend = backend
        self.states = [ChoiceState() for _ in range(plan.n)]
        self._longest_stop = max((len(s) for s in plan.stop), default=0)
        self.completion_tokens = 0

    async def events(self) -> AsyncGenerator[Event, None]:
        open_choices = self.plan.n
        stream = self.backend.stream(self.plan.request)
        try:
            async for event in stream:
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
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        for index, state in enumerate(self.states):
            if state.finish is None:
                for out in self._finish(state, index, None):
                    yield out
        self.completion_tokens = sum(self._completion_tokens(state) for state in self.states)

    def _apply(self, state: ChoiceState, event: Event) -> list[Event]:
        if isinstance(event, TextDelta):
            return self._text(state, event)
        if isinstance(event, Finish):
            return self._finish(state, event.choice, event.reason)
        if isinstance(event, ToolCallDelta):
            if event.name is not None:
                state.tool_names.append(event.name)
                state.tool_arguments.append("")
            if state.tool_arguments:
                state.tool_arguments[-1] += event.arguments
        elif isinstance(event, FunctionCallDelta):
            if not state.function_call:
                state.function_call = True
                state.tool_names.append(event.name or "")
                state.tool_arguments.append("")
            state.tool_arguments[-1] += event.arguments
        elif isinstance(event, RefusalDelta):
            state.refusal += event.text
        return [event]

    def _text(self, state: ChoiceState, event: TextDelta) -> list[Event]:
        if not event.text:
            return []
        state.text += event.text
        state.pending.append(event.text)
        cut = self._stop_cut(state)
        if cut is None and self.plan.limit is not None:
            cut = self._limit_cut(state, self.plan.limit)
        if cut is not None:
            text, reason = cut
            state.text = text
            return [
                *self._release(state, len(text), event.choice),
                *self._finish(state, event.choice, reason),
            ]
        boundary = len(state.text)
        if self._longest_stop:
            boundary -= self._longest_stop - 1
        if self.plan.limit is not None:
            boundary = min(boundary, state.stable_chars)
        return self._release(state, boundary, event.choice)

    def _stop_cut(self, state: ChoiceState) -> tuple[str, str] | None:
        if not self._longest_stop:
            return None
        start = max(0, state.searched - self._longest_stop + 1)
        hits = [i for i in (state.text.find(s, start) for s in self.plan.stop if s) if i >= 0]
        state.searched = len(state.text)
        if not hits:
            return None
        return state.text[: min(hits)], "stop"

    def _limit_cut(self, state: ChoiceState, limit: int) -> tuple[str, str] | None:
        """Count tokens incrementally: all but the last two tokens of the text seen are stable."""
        tokenizer = self.plan.tokenizer
        tail = state.text[state.stable_chars :]
        tokens = tokenizer.encode(tail)
        if state.stable_tokens + len(tokens) > limit:
            kept, _ = tokenizer.truncate(tail, limit - state.stable_tokens)
            return state.text[: state.stable_chars] + kept, "length"
        if len(tokens) > 2:
            data = b"".join(tokenizer.token_bytes(t) for t in tokens[:-2])
            try:
                state.stable_chars += len(data.decode("utf-8"))
                state.stable_tokens += len(tokens) - 2
            except UnicodeDecodeError:
                pass
        return None

    def _release(self, state: ChoiceState, boundary: int, choice: int) -> list[Event]:
        """Release whole pending deltas that end within `boundary`; on a cut, the partial one too."""
        out: list[Event] = []
        while state.pending:
            piece = state.pending[0]
            end = state.released + len(piece)
            if end > boundary:
                break
            out.append(TextDelta(piece, choice))
            state.released = end
            state.pending.pop(0)
        return out

    def _finish(self, state: ChoiceState, choice: int, reason: str | None) -> list[Event]:
        out: list[Event] = []
        if len(state.text) > state.released:
            out.append(TextDelta(state.text[state.released :], choice))
            state.released = len(state.text)
        state.pending.clear()
        if reason is None:
            reason = "function_call" if state.function_call else "tool_calls" if state.tool_names else "stop"
        state.finish = reason
        out.append(Finish(reason, choice))
        return out

    def _completion_tokens(self, state: ChoiceState) -> int:
        tokenizer = self.plan.tokenizer
        total = tokenizer.count(state.text) + tokenizer.count(state.refusal)
        for name, arguments in zip(state.tool_names, state.tool_arguments, strict=True):
            total += tokenizer.count(name) + tokenizer.count(arguments) + TOOL_CALL_OVERHEAD
        return total

    def usage(self) -> Usage:
        prompt = self.plan.prompt_tokens
        return usage_dict(prompt, self.completion_tokens)


def usage_dict(prompt_tokens: int, completion_tokens: int) -> Usage:
    prompt_details: PromptTokensDetails = {"cached_tokens": 0, "audio_tokens": 0}
    completion_details: CompletionTokensDetails = {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    }
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": prompt_details,
        "completion_tokens_details": completion_details,
    }


def service_tier(requested: str | None) -> str:
    """The tier the response reports: `auto` (or nothing) is served as `default`."""
    return "default" if requested in (None, "auto") else requested
