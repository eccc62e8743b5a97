"""The `text_completion` frames of a stream, built from the pipeline's normalized events.

Every frame is the same object as the body (the SDK's `Completion`), keys in the API's stream order:
id, object, created, choices (one), model. A choice's text arrives in frames with `finish_reason:
null`; its end is a frame of its own with empty text and the reason (and, with logprobs, an empty
logprobs object), sent as the choice ends. With `stream_options.include_usage` the last frame is id,
object, created, model, usage and `choices: []`. (Recorded gpt-3.5-turbo-instruct streams: vercel/ai's
completion-model tests; LangStream's Azure OpenAI tests for the empty logprobs of the last frame.)
With `echo` a choice's first frame is its prompt.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from server.completions.body import text_finish
from server.completions.plan import CompletionPlan
from server.completions.shapes import text_logprobs, text_usage
from server.generation.events import Event, Finish, TextDelta
from server.generation.logprobs import ReplyLogprobs
from server.generation.pipeline import Generation
from server.http.json import dumps
from server.wire.completions_response import TextCompletionLogprobs, TextFinishReason


def empty_logprobs() -> TextCompletionLogprobs:
    return {"tokens": [], "token_logprobs": [], "top_logprobs": [], "text_offset": []}


class TextChunkWriter:
    """Serializes the frames of one stream; the parts every frame shares are serialized once."""

    def __init__(self, plan: CompletionPlan) -> None:
        self.plan = plan
        head = {"id": plan.id, "object": "text_completion", "created": plan.created}
        self._prefix = dumps(head)[:-1] + b',"choices":['
        self._suffix = b'],"model":' + dumps(plan.model) + b"}"

    def choice(
        self,
        index: int,
        text: str,
        logprobs: TextCompletionLogprobs | None = None,
        finish: TextFinishReason | None = None,
    ) -> bytes:
        body = dumps({"text": text, "index": index, "logprobs": logprobs, "finish_reason": finish})
        return self._prefix + body + self._suffix

    def usage(self, generation: Generation) -> bytes:
        plan = self.plan
        return dumps(
            {
                "id": plan.id,
                "object": "text_completion",
                "created": plan.created,
                "model": plan.model,
                "usage": text_usage(generation.usage()),
                "choices": [],
            }
        )


class TextStream:
    """Maps one generation's normalized events to frames."""

    def __init__(self, plan: CompletionPlan, generation: Generation) -> None:
        self.plan = plan
        self.generation = generation
        self.writer = TextChunkWriter(plan)  # remade at the first event, for a recording's model
        n = plan.plan.n
        self._started = [False] * n
        self._logprobs_of = ReplyLogprobs(plan.plan.tokenizer, plan.logprobs or 0)
        self._offsets = [len(plan.prompt_of(choice).text) for choice in range(n)]  # characters

    async def chunks(self, events: AsyncGenerator[Event, None]) -> AsyncGenerator[bytes, None]:
        try:
            first = True
            async for event in events:
                if first:
                    recorded = self.generation.answered_as
                    self.plan = self.plan.as_recorded(recorded)
                    if recorded is not None:
                        top = self.plan.logprobs or 0
                        self._logprobs_of = ReplyLogprobs(self.plan.plan.tokenizer, top, recorded.logprobs)
                    self.writer = TextChunkWriter(self.plan)
                    first = False
                for chunk in self._frames(event):
                    yield chunk
            if self.plan.include_usage:
                yield self.writer.usage(self.generation)
        finally:
            await events.aclose()

    def _frames(self, event: Event) -> list[bytes]:
        choice = event.choice
        out: list[bytes] = []
        if not self._started[choice]:
            self._started[choice] = True
            if self.plan.echo:
                out.append(self.writer.choice(choice, self.plan.prompt_of(choice).text))
        if isinstance(event, TextDelta) and event.text:
            out.append(self.writer.choice(choice, event.text, self._logprobs(choice, event.text)))
        elif isinstance(event, Finish):
            logprobs = empty_logprobs() if self.plan.logprobs is not None else None
            out.append(self.writer.choice(choice, "", logprobs, text_finish(event.reason)))
        return out

    def _logprobs(self, choice: int, text: str) -> TextCompletionLogprobs | None:
        top = self.plan.logprobs
        if top is None:
            return None
        logprobs = text_logprobs(self._logprobs_of, choice, text, self._offsets[choice])
        self._offsets[choice] += len(text)
        return logprobs
