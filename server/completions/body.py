"""The non-streamed `text_completion` body, folded from the pipeline's normalized events.

Only text reaches a completion: a backend's refusal, calls or output items have no place here (the
contract guard reports calls, as none were offered). `echo` puts the prompt before each choice's text.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from server.completions.plan import CompletionPlan
from server.completions.shapes import text_logprobs, text_usage
from server.generation.events import Event, Finish, FinishReason, TextDelta
from server.generation.logprobs import ReplyLogprobs
from server.generation.pipeline import Generation
from server.wire.completions_response import TextCompletion, TextCompletionChoice, TextFinishReason


def text_finish(reason: FinishReason | None) -> TextFinishReason:
    """A finish reason this endpoint has: calls cannot end a completion (the guard stops them, or
    lets them through in `warn` mode, where the text simply stopped)."""
    if reason == "length" or reason == "content_filter":
        return reason
    return "stop"


async def collect(
    plan: CompletionPlan, generation: Generation, events: AsyncGenerator[Event, None]
) -> TextCompletion:
    texts: list[list[str]] = [[] for _ in range(plan.plan.n)]
    finishes: list[TextFinishReason] = ["stop"] * plan.plan.n
    async for event in events:
        if isinstance(event, TextDelta):
            texts[event.choice].append(event.text)
        elif isinstance(event, Finish):
            finishes[event.choice] = text_finish(event.reason)
    plan = plan.as_recorded(generation.answered_as)
    recorded = generation.answered_as.logprobs if generation.answered_as is not None else ()
    source = ReplyLogprobs(plan.plan.tokenizer, plan.logprobs or 0, recorded)
    choices: list[TextCompletionChoice] = []
    for index, parts in enumerate(texts):
        prompt = plan.prompt_of(index)
        text = "".join(parts)
        logprobs = None
        if plan.logprobs is not None:
            logprobs = text_logprobs(source, index, text, len(prompt.text))
        choices.append(
            {
                "text": prompt.text + text if plan.echo else text,
                "index": index,
                "logprobs": logprobs,
                "finish_reason": finishes[index],
            }
        )
    return {
        "id": plan.id,
        "object": "text_completion",
        "created": plan.created,
        "model": plan.model,
        "choices": choices,
        "usage": text_usage(generation.usage()),
    }
