"""Builders of fixture documents, in the format of fixture files (docs/fixtures.md).

A reply (`text`, `tool_call`, `error`) is what one step answers: it goes in a fixture's `response`, or
as a step of a `sequence`. `fixture` wraps a reply with its match. These only build dictionaries; the
client sends them (`ChatDouble.add`, or its `reply`, `tool_call`, `error` and `sequence` shortcuts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Document = dict[str, Any]


def text(content: str, **options: Any) -> Document:
    """A reply with this content (`template: True`, `finish_reason`, ... as in the file format)."""
    return {"text": content, **options}


def tool_call(
    name: str, arguments: Mapping[str, Any] | str | None = None, *, id: str | None = None
) -> Document:
    """A reply that calls one tool; `arguments` as a mapping is sent as compact JSON, a string as is."""
    return tool_calls([call(name, arguments, id=id)])


def call(name: str, arguments: Mapping[str, Any] | str | None = None, *, id: str | None = None) -> Document:
    """One call of a `tool_calls` reply."""
    entry: Document = {"name": name, "arguments": {} if arguments is None else arguments}
    if isinstance(arguments, Mapping):
        entry["arguments"] = dict(arguments)
    if id is not None:
        entry["id"] = id
    return entry


def tool_calls(calls: Sequence[Mapping[str, Any]], content: str | None = None) -> Document:
    """A reply with several tool calls (parallel calls), each built by `call`, and optional content."""
    reply: Document = {"tool_calls": [dict(entry) for entry in calls]}
    if content is not None:
        reply["text"] = content
    return reply


def error(
    status: int,
    message: str | None = None,
    *,
    type: str | None = None,
    code: str | None = None,
    param: str | None = None,
    headers: Mapping[str, str | int | float] | None = None,
) -> Document:
    """A reply that is an API error; what is left out follows from the status as the server words it."""
    body: Document = {"status": status}
    for name, value in (("message", message), ("type", type), ("code", code), ("param", param)):
        if value is not None:
            body[name] = value
    if headers:
        body["headers"] = dict(headers)
    return {"error": body}


def as_reply(step: str | Mapping[str, Any]) -> Document:
    """A reply from a string (its text) or a reply document."""
    return text(step) if isinstance(step, str) else dict(step)


def fixture(
    reply: str | Mapping[str, Any] | None = None,
    *,
    match: Mapping[str, Any] | None = None,
    sequence: Sequence[str | Mapping[str, Any]] | None = None,
    id: str | None = None,
    times: int | None = None,
    priority: int | None = None,
    **options: Any,
) -> Document:
    """One fixture: a reply (or a `sequence` of them) and the `match` that selects it (no match:
    every request). `options` are the file format's other fields (`cycle`, `timing`, `fault`, ...)."""
    if (reply is None) == (sequence is None):
        raise ValueError("give exactly one of a reply and a sequence")
    document: Document = {}
    if id is not None:
        document["id"] = id
    if match:
        document["match"] = dict(match)
    if sequence is not None:
        document["sequence"] = [as_reply(step) for step in sequence]
    else:
        assert reply is not None
        document["response"] = as_reply(reply)
    if times is not None:
        document["times"] = times
    if priority is not None:
        document["priority"] = priority
    return {**document, **options}
