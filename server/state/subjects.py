"""What verify reads of a journaled request (`Subject`), as JSON for a shared journal.

Verify matches with the fixtures' matcher, which reads of a conversation only the model, each
message's role, text and author name, the tool result's call id and the calls' ids and names, the
offered tools' and functions' names, and the request as its dialect gives it (`params`). Those are
written, and read back into a `Conversation` that holds them and nothing else. The client's bytes
(for `match.request`) travel as Latin-1 text, which maps every byte to one character and back.
"""

from __future__ import annotations

from typing import Any

from server.generation.conversation import Conversation, Message, Tool, ToolCall
from server.state.requests import Subject


def encode(subject: Subject) -> dict[str, Any]:
    encoded: dict[str, Any] = {"raw": subject.raw.decode("latin-1")}
    conversation = subject.conversation
    if conversation is not None:
        encoded["conversation"] = {
            "model": conversation.model,
            "messages": [
                [m.role, m.text, m.name, m.call_id, [[call.id, call.name] for call in m.calls]]
                for m in conversation.messages
            ],
            "tools": [tool.name for tool in conversation.tools],
            "functions": [function.name for function in conversation.functions],
            "params": conversation.wire(),
        }
    return encoded


def decode(encoded: dict[str, Any]) -> Subject:
    raw = str(encoded["raw"]).encode("latin-1")
    held = encoded.get("conversation")
    if held is None:
        return Subject(None, raw)
    params: dict[str, Any] = held["params"]
    conversation = Conversation(
        model=held["model"],
        messages=tuple(
            Message(role, text, tuple(ToolCall(id, name, "") for id, name in calls), call_id, name)
            for role, text, name, call_id, calls in held["messages"]
        ),
        tools=tuple(Tool(name) for name in held["tools"]),
        functions=tuple(Tool(name) for name in held["functions"]),
        wire=lambda: params,
    )
    return Subject(conversation, raw)
