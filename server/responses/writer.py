"""The Responses API's events from the pipeline's normalized events, and the output they build.

One writer serves a stream, a whole body and a background response alike: it numbers every event
(`sequence_number` from 0), opens and closes output items strictly one after another (added, parts,
deltas, done; never interleaved, as the SDK's stream helper requires), and keeps the output items
as they stand. Event keys follow the real API's current order: `type` first, then alphabetical.
Deltas carry an `obfuscation` pad that brings their length to a multiple of 16, unless turned off.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from server.generation.events import (
    Event,
    Finish,
    FinishReason,
    OutputItem,
    ReasoningDelta,
    RefusalDelta,
    TextDelta,
    ToolCallDelta,
)
from server.generation.ids import alphanumeric
from server.generation.usage import Usage
from server.responses.objects import JSON, Status, response_object
from server.responses.plan import ResponsesPlan
from server.responses.sealed import seal, sealed_id


class ResponseWriter:
    def __init__(self, plan: ResponsesPlan) -> None:
        self.plan = plan
        self.output: list[JSON] = []
        self.sequence = 0
        self.status: Status = "in_progress"
        self.usage: Usage | None = None
        self.error: JSON | None = None
        self.incomplete: str | None = None
        self.completed_at: int | None = None
        self._item: JSON | None = None  # the open item
        self._part: JSON | None = None  # its open content part (or summary part)

    # ------------------------------------------------------------ framing

    def _event(self, kind: str, **fields: Any) -> JSON:
        # `sequence_number` takes its alphabetical place too: before `summary_index` and `text`.
        fields["sequence_number"] = self.sequence
        self.sequence += 1
        event: JSON = {"type": kind}
        for key in sorted(fields):
            event[key] = fields[key]
        return event

    def _where(self, item: JSON) -> dict[str, Any]:
        """Where an event of the open item belongs: its id and its place in the output."""
        return {"item_id": item["id"], "output_index": len(self.output) - 1}

    def _pad(self, delta: str) -> dict[str, str]:
        pad = self._padding(delta)
        return {} if pad is None else {"obfuscation": pad}

    def _padding(self, delta: str) -> str | None:
        if not self.plan.obfuscation:
            return None
        # 0-15 random letters and digits, not a secret: the shared generator's bits (as chat's pads)
        return alphanumeric(-len(delta) % 16).decode()

    def snapshot(self, *, whole: bool = False) -> JSON:
        return response_object(
            self.plan,
            self.status,
            self.output,
            usage=self.usage,
            error=self.error,
            incomplete=self.incomplete,
            completed_at=self.completed_at,
            whole=whole,
        )

    # ------------------------------------------------------------ the stream

    def start(self, *, queued: bool = False) -> list[JSON]:
        """`response.created`, then `response.queued` (background) or `response.in_progress`."""
        if queued:
            self.status = "queued"
            return [
                self._event("response.created", response=self.snapshot()),
                self._event("response.queued", response=self.snapshot()),
            ]
        return [
            self._event("response.created", response=self.snapshot()),
            self._event("response.in_progress", response=self.snapshot()),
        ]

    def begin(self) -> list[JSON]:
        """A queued response starts: `response.in_progress`, then a reasoning model's reasoning item."""
        self.status = "in_progress"
        events = [self._event("response.in_progress", response=self.snapshot())]
        return events + self.opening()

    def opening(self) -> list[JSON]:
        """A reasoning model's output begins with its reasoning item."""
        return self._open_reasoning() if self.plan.reasoning else []

    def feed(self, event: Event) -> list[JSON]:
        if isinstance(event, TextDelta):
            return self._text(event.text, "output_text")
        if isinstance(event, RefusalDelta):
            return self._text(event.text, "refusal")
        if isinstance(event, ToolCallDelta):
            return self._call(event)
        if isinstance(event, ReasoningDelta):
            return self._summary(event)
        if isinstance(event, OutputItem):
            return [*self._close(), *self._whole_item(dict(event.item))]
        if isinstance(event, Finish):
            return self._close("incomplete" if event.reason == "length" else "completed")
        return []

    def finish(self, usage: Usage, reason: FinishReason | None) -> list[JSON]:
        """The terminal event: `response.completed`, or `response.incomplete` for a cut reply."""
        out = self._close()
        self.usage = usage
        self.completed_at = int(time.time())
        if reason == "length":
            self.status, self.incomplete = "incomplete", "max_output_tokens"
            return [*out, self._event("response.incomplete", response=self.snapshot())]
        self.status = "completed"
        return [*out, self._event("response.completed", response=self.snapshot())]

    def fail(self, error: Mapping[str, Any]) -> list[JSON]:
        """A failure after the stream started: the `error` event, then `response.failed`."""
        out = self._close("incomplete")
        self.status = "failed"
        self.error = {"code": error.get("code") or "server_error", "message": error.get("message", "")}
        shown = {
            "type": error.get("type", "server_error"),
            "code": error.get("code"),
            "message": error.get("message", ""),
            "param": error.get("param"),
        }
        return [
            *out,
            self._event("error", error=shown),
            self._event("response.failed", response=self.snapshot()),
        ]

    def cancel(self) -> None:
        self._close("incomplete")
        self.status = "cancelled"

    # ------------------------------------------------------------ items

    def _add(self, item: JSON) -> list[JSON]:
        self._item = item
        self.output.append(item)
        # The item as it is now: its content (or summary) list grows later, after this event is written.
        shown = {key: list(value) if isinstance(value, list) else value for key, value in item.items()}
        return [self._event("response.output_item.added", item=shown, output_index=len(self.output) - 1)]

    def _whole_item(self, item: JSON) -> list[JSON]:
        if "id" not in item:  # first, where the API puts it
            item = {"id": self.plan.ids.make(_PREFIXES.get(str(item.get("type")), "item")), **item}
        self.output.append(item)
        index = len(self.output) - 1
        return [
            self._event("response.output_item.added", item=item, output_index=index),
            self._event("response.output_item.done", item=item, output_index=index),
        ]

    def _open_reasoning(self) -> list[JSON]:
        item_id = sealed_id(self.plan.ids.make("rs"), self.plan.plan.hidden)
        item: JSON = {"id": item_id, "type": "reasoning", "summary": []}
        if self.plan.sealed_reasoning:
            # The real order (2026 captures): content and the sealed reasoning before the summary.
            item = {
                **item,
                "content": [],
                "encrypted_content": seal(self.plan.created_at, self.plan.plan.hidden),
                "summary": [],
            }
        return self._add(item)

    def _summary(self, event: ReasoningDelta) -> list[JSON]:
        out: list[JSON] = []
        if self._item is None or self._item["type"] != "reasoning":
            out += self._close() + self._open_reasoning()
        item = self._item
        assert item is not None
        where = self._where(item)
        summary: list[JSON] = item["summary"]
        if self._part is None or event.part >= len(summary):
            out += self._close_part()
            self._part = {"type": "summary_text", "text": ""}
            summary.append(self._part)
            part = {"type": "summary_text", "text": ""}
            out.append(
                self._event(
                    "response.reasoning_summary_part.added",
                    **where,
                    part=part,
                    summary_index=len(summary) - 1,
                )
            )
        self._part["text"] += event.text
        out.append(
            self._event(
                "response.reasoning_summary_text.delta",
                **where,
                delta=event.text,
                summary_index=len(summary) - 1,
                **self._pad(event.text),
            )
        )
        return out

    def _text(self, text: str, kind: str) -> list[JSON]:
        out: list[JSON] = []
        item = self._item
        if item is None or item["type"] != "message":
            out += self._close()
            item = {
                "id": self.plan.ids.make("msg"),
                "type": "message",
                "status": "in_progress",
                "content": [],
            }
            item["role"] = "assistant"
            out += self._add(item)
        content: list[JSON] = item["content"]
        part = self._part
        if part is None or part["type"] != kind:
            out += self._close_part()
            part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
            if kind == "refusal":
                part = {"type": "refusal", "refusal": ""}
            self._part = part
            content.append(part)
            out.append(
                self._event(
                    "response.content_part.added",
                    **self._where(item),
                    content_index=len(content) - 1,
                    part=dict(part),
                )
            )
        if not text:
            return out
        if kind == "refusal":
            part["refusal"] += text
            delta = self._event(
                "response.refusal.delta", **self._where(item), content_index=len(content) - 1, delta=text
            )
            out.append(delta)
        else:
            out.append(self._text_delta(item, part, text))
        return out

    def _text_delta(self, item: JSON, part: JSON, text: str) -> JSON:
        """`response.output_text.delta`, the stream's usual event, built at once with its keys in
        `_event`'s order (type, then alphabetical)."""
        part["text"] += text
        sequence, self.sequence = self.sequence, self.sequence + 1
        delta: JSON = {
            "type": "response.output_text.delta",
            "content_index": len(item["content"]) - 1,
            "delta": text,
            "item_id": item["id"],
            "logprobs": [],
        }
        pad = self._padding(text)
        if pad is not None:
            delta["obfuscation"] = pad
        delta["output_index"] = len(self.output) - 1
        delta["sequence_number"] = sequence
        return delta

    def _call(self, event: ToolCallDelta) -> list[JSON]:
        out: list[JSON] = []
        if event.name is not None:
            out += self._close()
            item: JSON = {
                "id": self.plan.ids.make("fc"),
                "type": "function_call",
                "status": "in_progress",
                "arguments": "",
                "call_id": event.id or "",
                "name": event.name,
            }
            out += self._add(item)
        item_open = self._item
        if item_open is None or item_open["type"] != "function_call" or not event.arguments:
            return out
        item_open["arguments"] += event.arguments
        where = self._where(item_open)
        out.append(
            self._event(
                "response.function_call_arguments.delta",
                **where,
                delta=event.arguments,
                **self._pad(event.arguments),
            )
        )
        return out

    def _close_part(self) -> list[JSON]:
        part, item = self._part, self._item
        if part is None or item is None:
            return []
        self._part = None
        where = self._where(item)
        if part["type"] == "summary_text":
            index = len(item["summary"]) - 1
            return [
                self._event(
                    "response.reasoning_summary_text.done", **where, summary_index=index, text=part["text"]
                ),
                self._event(
                    "response.reasoning_summary_part.done", **where, part=dict(part), summary_index=index
                ),
            ]
        index = len(item["content"]) - 1
        if part["type"] == "refusal":
            done = self._event("response.refusal.done", **where, content_index=index, refusal=part["refusal"])
        else:
            done = self._event(
                "response.output_text.done", **where, content_index=index, logprobs=[], text=part["text"]
            )
        return [
            done,
            self._event("response.content_part.done", **where, content_index=index, part=dict(part)),
        ]

    def _close(self, status: str = "completed") -> list[JSON]:
        item = self._item
        if item is None:
            return []
        out = self._close_part()
        self._item = None
        index = len(self.output) - 1
        if item["type"] == "function_call":
            where = {"item_id": item["id"], "output_index": index}
            out.append(
                self._event("response.function_call_arguments.done", **where, arguments=item["arguments"])
            )
        if "status" in item:
            item["status"] = status
        out.append(self._event("response.output_item.done", item=item, output_index=index))
        return out


_PREFIXES = {
    "web_search_call": "ws",
    "file_search_call": "fs",
    "code_interpreter_call": "ci",
    "image_generation_call": "ig",
    "mcp_call": "mcp",
    "mcp_list_tools": "mcpl",
    "computer_call": "cu",
    "message": "msg",
    "reasoning": "rs",
}
