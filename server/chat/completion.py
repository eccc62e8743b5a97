"""The non-streamed `chat.completion` body, folded from the pipeline's normalized events."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from server.chat.plan import ChatPlan
from server.chat.shapes import chat_logprobs, chat_usage
from server.generation.events import (
    Event,
    Finish,
    FinishReason,
    FunctionCallDelta,
    RefusalDelta,
    TextDelta,
    ToolCallDelta,
)
from server.generation.logprobs import ReplyLogprobs
from server.generation.pipeline import Generation
from server.wire.chat_response import ChatCompletion, Choice, FunctionCall, TokenLogprob, ToolCall


class _Draft:
    __slots__ = ("content", "finish", "function_call", "refusal", "tool_calls")

    def __init__(self) -> None:
        self.content: list[str] = []
        self.refusal: list[str] = []
        self.tool_calls: list[ToolCall] = []
        self.function_call: FunctionCall | None = None
        self.finish: FinishReason = "stop"


def _fold(draft: _Draft, event: Event) -> None:
    if isinstance(event, TextDelta):
        draft.content.append(event.text)
    elif isinstance(event, RefusalDelta):
        draft.refusal.append(event.text)
    elif isinstance(event, ToolCallDelta):
        if event.name is not None:
            draft.tool_calls.append(
                {"id": event.id or "", "type": "function", "function": {"name": event.name, "arguments": ""}}
            )
        if draft.tool_calls:
            draft.tool_calls[-1]["function"]["arguments"] += event.arguments
    elif isinstance(event, FunctionCallDelta):
        if draft.function_call is None:
            draft.function_call = {"name": event.name or "", "arguments": ""}
        draft.function_call["arguments"] += event.arguments
    elif isinstance(event, Finish):
        draft.finish = event.reason or "stop"


def _logprobs(
    source: ReplyLogprobs, choice: int, text: str | None, *, recorded: bool = True
) -> list[TokenLogprob] | None:
    return chat_logprobs(source.entries(choice, text, recorded=recorded)) if text else None


async def collect(
    plan: ChatPlan, generation: Generation, events: AsyncGenerator[Event, None]
) -> ChatCompletion:
    tokenizer = plan.plan.tokenizer
    n = plan.plan.n
    # One choice, as nearly every request asks, without a comprehension (a function on 3.11).
    drafts = [_Draft()] if n == 1 else [_Draft() for _ in range(n)]
    async for event in events:
        _fold(drafts[event.choice], event)
    plan = plan.as_recorded(generation.answered_as)  # a replayed recording may have given its model
    source = None
    if plan.logprobs:
        recorded = generation.answered_as.logprobs if generation.answered_as is not None else ()
        source = ReplyLogprobs(tokenizer, plan.top_logprobs, recorded)
    choices: list[Choice] = []
    for index, draft in enumerate(drafts):
        has_text = bool(draft.content) or not (draft.tool_calls or draft.function_call or draft.refusal)
        content = "".join(draft.content) if has_text else None
        refusal = "".join(draft.refusal) if draft.refusal else None
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if draft.tool_calls:
            message["tool_calls"] = draft.tool_calls
        if draft.function_call is not None:
            message["function_call"] = draft.function_call
        message["refusal"] = refusal
        message["annotations"] = []
        logprobs: dict[str, Any] | None = None
        if source is not None:
            logprobs = {
                "content": _logprobs(source, index, content),
                "refusal": _logprobs(source, index, refusal, recorded=False),
            }
            if content is not None and logprobs["content"] is None:
                logprobs["content"] = []
        choices.append(
            {"index": index, "message": message, "logprobs": logprobs, "finish_reason": draft.finish}  # type: ignore[typeddict-item]
        )
    return {
        "id": plan.id,
        "object": "chat.completion",
        "created": plan.created,
        "model": plan.model,
        "choices": choices,
        "usage": chat_usage(generation.usage()),
        "service_tier": plan.service_tier,
        "system_fingerprint": plan.system_fingerprint,
    }
