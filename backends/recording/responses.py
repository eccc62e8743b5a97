"""A Responses API answer folded for recording: a streamed one event by event, a whole one item by
item, into the `Choice` a fixture reply is written from (`cassette`).

Message text becomes content, function calls calls (their `call_id`, name and argument pieces),
reasoning summaries summary parts, and every other output item (a hosted tool's call) an item kept
whole as it was when done. A reasoning item's encrypted content and a message's annotations and
phase are not kept. `incomplete` answers keep their reason as the finish reason.
"""

from __future__ import annotations

from typing import Any

from backends.recording.answer import Call, Choice, piece

OWN_ITEMS = ("message", "function_call", "reasoning")
INCOMPLETE = {"max_output_tokens": "length", "content_filter": "content_filter"}
INFO = ("id", "model", "usage")


def _info(response: dict[str, Any], into: dict[str, Any], choice: Choice) -> None:
    for name in INFO:
        if response.get(name) is not None:
            into[name] = response[name]
    details = response.get("incomplete_details") or {}
    if response.get("status") == "incomplete":
        choice.finish = INCOMPLETE.get(str(details.get("reason")), "length")


class ResponsesStream:
    """Folds a stream's events, each with the time since the one before it."""

    def __init__(self) -> None:
        self.choice = Choice()
        self.info: dict[str, Any] = {}
        self.clock = 0.0
        self._calls: dict[str, int] = {}  # a function call's item id -> its index
        self._parts: dict[tuple[int, int], int] = {}  # (output index, summary index) -> summary part

    def feed(self, event: dict[str, Any], delay: float) -> None:
        self.clock += delay
        kind = event.get("type")
        choice = self.choice
        if "obfuscation" in event:
            self.info["obfuscation"] = True
        if isinstance(event.get("response"), dict):
            _info(event["response"], self.info, choice)
        elif kind == "response.output_text.delta":
            piece(choice.content, event.get("delta"), self.clock)
        elif kind == "response.refusal.delta" and isinstance(event.get("delta"), str):
            choice.refusal.append(event["delta"])  # replayed in token-sized pieces
        elif kind == "response.function_call_arguments.delta":
            index = self._calls.get(str(event.get("item_id")))
            if index is not None:
                piece(choice.calls[index].pieces, event.get("delta"), self.clock)
        elif kind == "response.reasoning_summary_text.delta":
            where = (int(event.get("output_index", 0)), int(event.get("summary_index", 0)))
            if where not in self._parts:
                self._parts[where] = len(choice.reasoning)
                choice.reasoning.append([])
            piece(choice.reasoning[self._parts[where]], event.get("delta"), self.clock)
        elif kind == "response.output_item.added":
            item = event.get("item") or {}
            if item.get("type") == "function_call":
                self._calls[str(item.get("id"))] = len(choice.calls)
                choice.calls[len(choice.calls)] = Call(
                    item.get("call_id"), item.get("name") or "", [], self.clock
                )
        elif kind == "response.output_item.done":
            item = event.get("item") or {}
            if item.get("type") not in OWN_ITEMS:
                choice.items.append((item, self.clock))


def whole(body: dict[str, Any]) -> tuple[Choice, dict[str, Any]]:
    """A non-streamed answer's reply and its noted fields; a `ValueError` for a response still to
    come (`background: true` answers at once with a queued one), which is not recorded."""
    if body.get("status") in ("queued", "in_progress"):
        raise ValueError("a background response, not its answer")
    choice = Choice()
    info: dict[str, Any] = {}
    _info(body, info, choice)
    for item in body.get("output") or []:
        kind = item.get("type")
        if kind == "message":
            for part in item.get("content") or []:
                if part.get("type") == "refusal":
                    choice.refusal.append(str(part.get("refusal", "")))
                else:
                    piece(choice.content, part.get("text"), 0.0)
        elif kind == "function_call":
            arguments = [(str(item.get("arguments") or ""), 0.0)]
            choice.calls[len(choice.calls)] = Call(item.get("call_id"), item.get("name") or "", arguments)
        elif kind == "reasoning":
            for part in item.get("summary") or []:
                if part.get("text"):
                    choice.reasoning.append([(str(part["text"]), 0.0)])
        else:
            choice.items.append((item, 0.0))
    return choice, info
