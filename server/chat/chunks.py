"""`chat.completion.chunk` frames built from the pipeline's normalized events.

Every chunk of a stream shares `id`, `object`, `created`, `model`, `service_tier` and
`system_fingerprint`, so that prefix is serialized once per stream; each chunk then adds one choice,
`usage: null` when usage was asked for, and an `obfuscation` pad unless the client turned it off.
Key order is the real API's: id, object, created, model, service_tier, system_fingerprint, choices,
usage, obfuscation.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from random import getrandbits
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
from server.generation.ids import alphanumeric
from server.generation.logprobs import ReplyLogprobs
from server.generation.pipeline import Generation
from server.generation.usage import Usage
from server.http.json import dumps


class ChunkWriter:
    """Serializes chunks for one stream, each framed as its server-sent event (`data: ...\n\n`):
    the frame's constant ends are written with the chunk's, instead of copying every chunk once
    more to frame it (the route streams them with `FRAMED`)."""

    def __init__(self, plan: ChatPlan, *, obfuscation: bool) -> None:
        self.plan = plan
        head = {
            "id": plan.id,
            "object": "chat.completion.chunk",
            "created": plan.created,
            "model": plan.model,
            "service_tier": plan.service_tier,
            "system_fingerprint": plan.system_fingerprint,
        }
        self._prefix = b"data: " + dumps(head)[:-1] + b',"choices":['
        self._usage_null = b',"usage":null' if plan.include_usage else b""
        # What comes before and after a content chunk's text (choice 0's head: the usual one).
        self._content_head = self._prefix + b'{"index":0,"delta":{"content":'
        self._content_tail = b'},"logprobs":null,"finish_reason":null}]' + self._usage_null
        self._content_tail += b',"obfuscation":"' if obfuscation else b"}\n\n"
        self._obfuscation = obfuscation
        # A pad of 0-15 random letters and digits per chunk, as the API sends; not a secret, so the
        # standard library's shared generator is enough (server/generation/ids.py).
        self._pad = alphanumeric(48) if obfuscation else b""

    def _padding(self) -> bytes:
        """One chunk's pad: 0-15 characters from a random place in the stream's 48."""
        bits = getrandbits(9)
        start = bits >> 4
        return self._pad[start : start + (bits & 15)]

    def _tail(self) -> bytes:
        if not self._obfuscation:
            return b"}\n\n"
        return b',"obfuscation":"' + self._padding() + b'"}\n\n'

    def choice(
        self, index: int, delta: dict[str, Any], logprobs: Any = None, finish: str | None = None
    ) -> bytes:
        body = dumps({"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish})
        return self._prefix + body + b"]" + self._usage_null + self._tail()

    def content(self, index: int, text: str) -> bytes:
        """`choice(index, {"content": text})`, the stream's usual chunk, with only the text encoded."""
        head = self._content_head if not index else self._prefix + b'{"index":%d,"delta":{"content":' % index
        if not self._obfuscation:
            return b"".join((head, dumps(text), self._content_tail))
        return b"".join((head, dumps(text), self._content_tail, self._padding(), b'"}\n\n'))

    def usage(self, usage: Usage) -> bytes:
        return self._prefix + b'],"usage":' + dumps(chat_usage(usage)) + self._tail()


def tool_call_delta(event: ToolCallDelta) -> dict[str, Any]:
    """A call's first delta carries index, id, type and name; later ones only index and arguments."""
    if event.name is None:
        return {"index": event.call, "function": {"arguments": event.arguments}}
    return {
        "index": event.call,
        "id": event.id,
        "type": "function",
        "function": {"name": event.name, "arguments": event.arguments},
    }


class StreamFormatter:
    """Maps normalized events to chunk JSON strings, per the real API's streaming shapes."""

    def __init__(self, plan: ChatPlan, generation: Generation, *, obfuscation: bool = True) -> None:
        self.generation = generation
        self.plan = plan
        self._obfuscation = obfuscation
        self.writer = ChunkWriter(plan, obfuscation=obfuscation)  # remade at the first event
        self._started = [False] * plan.plan.n
        self._logprobs_of = ReplyLogprobs(plan.plan.tokenizer, plan.top_logprobs)
        self._finishes: list[tuple[int, FinishReason]] = []

    def _answered_as(self) -> None:
        """At the first event a replayed recording has given its model, fingerprint and padding."""
        recorded = self.generation.answered_as
        if recorded is not None:
            plan = self.plan.as_recorded(recorded)
            self._logprobs_of = ReplyLogprobs(plan.plan.tokenizer, plan.top_logprobs, recorded.logprobs)
            obfuscation = self._obfuscation and recorded.obfuscation is not False
            if plan is not self.plan or obfuscation != self._obfuscation:  # else the first writer is right
                self.plan = plan
                self.writer = ChunkWriter(plan, obfuscation=obfuscation)

    def _logprobs(self, choice: int, text: str, key: str) -> dict[str, Any] | None:
        if not self.plan.logprobs:
            return None
        # A recording holds the content's logprobs only; a refusal's are synthesized.
        entries = chat_logprobs(self._logprobs_of.entries(choice, text, recorded=key == "content"))
        other = "refusal" if key == "content" else "content"
        return {key: entries, other: None} if key == "content" else {"content": None, "refusal": entries}

    def _role(self, event: Event) -> list[bytes]:
        """The first chunk of a choice: role, and for calls the first call itself."""
        choice = event.choice
        self._started[choice] = True
        empty_logprobs: dict[str, Any] | None = None
        if isinstance(event, RefusalDelta):
            if self.plan.logprobs:
                empty_logprobs = {"content": None, "refusal": []}
            delta: dict[str, Any] = {"role": "assistant", "content": None, "refusal": ""}
        elif isinstance(event, ToolCallDelta) and event.name is not None:
            call = tool_call_delta(event)
            if event.parallel:
                return [
                    self.writer.choice(choice, {"role": "assistant", "content": None}),
                    self.writer.choice(choice, {"tool_calls": [call]}),
                ]
            delta = {"role": "assistant", "content": None, "tool_calls": [call], "refusal": None}
            return [self.writer.choice(choice, delta)]
        elif isinstance(event, FunctionCallDelta) and event.name is not None:
            delta = {
                "role": "assistant",
                "content": None,
                "function_call": {"name": event.name, "arguments": event.arguments},
                "refusal": None,
            }
            return [self.writer.choice(choice, delta)]
        else:
            if self.plan.logprobs:
                empty_logprobs = {"content": [], "refusal": None}
            delta = {"role": "assistant", "content": "", "refusal": None}
        return [self.writer.choice(choice, delta, empty_logprobs), *self._delta(event)]

    def _delta(self, event: Event) -> list[bytes]:
        choice = event.choice
        if isinstance(event, TextDelta):
            if not event.text:
                return []
            if not self.plan.logprobs:
                return [self.writer.content(choice, event.text)]
            return [
                self.writer.choice(
                    choice, {"content": event.text}, self._logprobs(choice, event.text, "content")
                )
            ]
        if isinstance(event, RefusalDelta):
            if not event.text:
                return []
            return [
                self.writer.choice(
                    choice, {"refusal": event.text}, self._logprobs(choice, event.text, "refusal")
                )
            ]
        if isinstance(event, ToolCallDelta):
            return [self.writer.choice(choice, {"tool_calls": [tool_call_delta(event)]})]
        if isinstance(event, FunctionCallDelta):
            return [self.writer.choice(choice, {"function_call": {"arguments": event.arguments}})]
        return []

    async def chunks(self, events: AsyncGenerator[Event, None]) -> AsyncGenerator[bytes, None]:
        """Chunk JSON strings; finish chunks come after every choice's content, then usage."""
        first, plain = True, False
        started, content = self._started, self.writer.content
        try:
            async for event in events:
                if plain and event.__class__ is TextDelta and started[event.choice]:
                    if event.text:  # the usual chunk, as `_delta` writes it
                        yield content(event.choice, event.text)
                    continue
                if first:
                    self._answered_as()
                    first = False
                    # From the first event on, the writer is settled: a started choice's text
                    # without logprobs takes the short way above.
                    plain, content = not self.plan.logprobs, self.writer.content
                if isinstance(event, Finish):
                    if not self._started[event.choice]:
                        for chunk in self._role(TextDelta("", event.choice)):
                            yield chunk
                    self._finishes.append((event.choice, event.reason or "stop"))
                    continue
                for chunk in self._role(event) if not self._started[event.choice] else self._delta(event):
                    yield chunk
        finally:
            await events.aclose()
        for choice, reason in sorted(self._finishes):
            yield self.writer.choice(choice, {}, None, reason)
        if self.plan.include_usage:
            yield self.writer.usage(self.generation.usage())
