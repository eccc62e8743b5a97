"""A request as every backend reads it, whatever API dialect it arrived in.

A dialect parses its wire request and maps it into one `Conversation`: the messages with their roles,
text, tool calls and tool results; the tools offered and how the reply may use them; the output format;
and the few sampling inputs a deterministic backend honours. Backends, the fixtures matcher and the
contract guard read only this, so a fixture written for one dialect answers another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from server.generation.images import ImageSize

# `function` is the legacy result of a `function_call`; roles keep the name the client used, so a
# fixture matching on a role sees what was sent.
Role = Literal["system", "developer", "user", "assistant", "tool", "function"]
# The roles whose message may hold nothing but its text (and an author's name): no calls, no call id.
PLAIN_ROLES: tuple[Role, ...] = ("user", "system", "developer")
ToolKind = Literal["function", "custom", "tool_search"]  # tool_search: a client-executed search
PartKind = Literal["text", "refusal", "image", "audio", "file"]
ChoiceMode = Literal["none", "auto", "required"]
FormatKind = Literal["text", "json_object", "json_schema"]
Dialect = Literal["chat", "responses"]

LEGACY_CALL_ID = "function_call"
"""The id a legacy `function_call` carries in `Message.calls` (the wire gives it none)."""


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A call the assistant made earlier in the conversation."""

    id: str
    name: str
    arguments: str
    kind: ToolKind = "function"
    # Responses: the id of the API's own output item this call repeats (`fc_…`); None when the
    # client wrote the call itself (prompt counting prices the two apart, counting_rules.py).
    item_id: str | None = None


@dataclass(frozen=True, slots=True)
class Part:
    """One part of a message's content: text or refusal (`text`), an image (`detail`, `url`), or
    audio or a file (`data`: its base64 data as sent, a file's perhaps as a `data:` URL; `size`: the
    data's length; `format`: the audio's, `wav` or `mp3`). Prompt counting prices each
    (server/generation/media_tokens.py)."""

    kind: PartKind
    text: str = ""
    detail: str | None = None
    url: str = ""
    size: int = 0
    data: str = ""
    format: str = ""


@dataclass(slots=True)
class Message:
    """One message: its role, its plain text (text parts joined), and any calls or result it carries.

    `parts` is None when the content was one plain string (then `text` is all of it), and the parts
    as sent otherwise; counting tells the two apart."""

    role: Role
    text: str
    calls: tuple[ToolCall, ...] = ()
    call_id: str | None = None  # a tool result: the id of the call it answers
    name: str | None = None  # the author's name; for a legacy function result, the function's name
    parts: tuple[Part, ...] | None = None
    # False when the message has no item of its own: Responses opened it to hold function calls that
    # followed no assistant message (prompt counting prices the calls alone, counting_rules.py).
    said: bool = True
    # Responses: the characters of `encrypted_content` of the reasoning items just before this
    # assistant turn (prompt counting estimates what the turn's hidden reasoning costs from it).
    reasoning: int = 0
    # Responses: the hidden reasoning tokens of each reasoning item before this turn whose count is
    # known (chatdouble's own items carry it, server/responses/sealed.py); counted exactly.
    reasoning_tokens: tuple[int, ...] = ()
    # Responses: the function tools an `additional_tools` item adds mid-conversation (a developer
    # message that holds nothing else); prompt counting prices them, backends do not call them yet.
    tools: tuple[Tool, ...] = ()


@dataclass(frozen=True, slots=True)
class Tool:
    """A tool the request offers. `parameters` is its JSON Schema (None: any arguments)."""

    name: str
    parameters: dict[str, Any] | None = None
    strict: bool = False
    description: str | None = None
    kind: ToolKind = "function"
    deferred: bool = False
    """`defer_loading`: offered, but not written into the prompt until a tool search loads it."""


@dataclass(frozen=True, slots=True)
class ToolChoice:
    """How the reply may use the offered tools.

    `mode` none forbids calls, required demands one; `allowed` narrows the tools a call may name (a
    named choice is `required` with one allowed name, and `named` set)."""

    mode: ChoiceMode = "auto"
    allowed: frozenset[str] | None = None
    named: str | None = None

    def permits(self, name: str) -> bool:
        return self.allowed is None or name in self.allowed


@dataclass(frozen=True, slots=True)
class OutputFormat:
    """The requested output format; `schema` only for json_schema."""

    kind: FormatKind = "text"
    schema: dict[str, Any] | None = None
    name: str = ""
    strict: bool = False
    description: str | None = None


@dataclass(slots=True)
class Conversation:
    """What a backend answers: the conversation so far and the constraints on the reply."""

    model: str
    messages: tuple[Message, ...]
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolChoice = ToolChoice()
    # Tools offered the legacy way (chat's `functions`): a call to one is answered as a
    # `function_call`, under `function_choice`.
    functions: tuple[Tool, ...] = ()
    function_choice: ToolChoice = ToolChoice()
    parallel_tool_calls: bool = True
    output: OutputFormat | None = None  # None: the request asked for no format
    seed: int | None = None
    logit_bias: Mapping[int, int] = field(default_factory=dict)
    stream: bool = False
    reasoning_summary: bool = False  # the request asks to see a reasoning model's summary
    # The API the request arrived in: the real API renders some inputs differently per dialect, so
    # prompt counting reads it (server/generation/counting_rules.py).
    dialect: Dialect = "chat"
    # Responses: the types of the hosted tools offered (`web_search_preview`, `apply_patch`, ...),
    # once each, a dated name without its date; no backend calls them, prompt counting prices them.
    hosted_tools: tuple[str, ...] = ()
    # Image URL -> size, for the `http(s)` images downloaded to price them (`images: fetch`); a
    # `data:` URL's size is read from its header when counted.
    image_sizes: Mapping[str, ImageSize] = field(default_factory=dict, compare=False)
    # The request as JSON in its dialect's own shape, built only when read (fixtures' `params`).
    wire: Callable[[], dict[str, Any]] = field(default=dict, repr=False, compare=False)

    @property
    def function_tools(self) -> tuple[Tool, ...]:
        """The offered tools a function call may name (custom tools take free text, not JSON)."""
        if not self.tools:
            return ()  # the common case, read several times a request
        return tuple(tool for tool in self.tools if tool.kind == "function")

    def last_user_text(self) -> str:
        """The last user message's text, else the last message's."""
        for message in reversed(self.messages):
            if message.role == "user":
                return message.text
        return self.messages[-1].text if self.messages else ""

    def called_names(self) -> list[str]:
        """The names of every call the assistant made so far, in order."""
        return [call.name for message in self.messages for call in message.calls]
