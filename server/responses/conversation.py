"""A Responses request mapped into the neutral `Conversation` backends read.

`instructions` become a leading system message, as the API counts them; a string `input` is one user
message; items map one by one, except that consecutive function calls join the assistant message
before them (one assistant turn, as chat sends it), and a function call's output is a tool result.
Reasoning items carry nothing a backend reads: only the size of their encrypted content is kept, on the
assistant turn they led to, for prompt counting (or, for the items chatdouble wrote, the reasoning
tokens they carry: sealed.py). Hosted-tool items are left out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from server.generation.conversation import (
    Conversation,
    Message,
    OutputFormat,
    Part,
    Tool,
    ToolCall,
    ToolChoice,
)
from server.generation.strict import strict_problem
from server.responses.sealed import unseal, unseal_id
from server.wire.responses_input import (
    CustomToolCallItem,
    CustomToolCallOutputItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    HostedItem,
    InputFile,
    InputImage,
    InputItem,
    InputText,
    MessageItem,
    OutputText,
    ReasoningItem,
    Refusal,
)
from server.wire.responses_request import (
    AllowedToolsChoice,
    CustomTool,
    FunctionTool,
    HostedTool,
    NamedCustomChoice,
    NamedFunctionChoice,
    ResponseInputs,
    TextFormatJSONObject,
    TextFormatJSONSchema,
    TextFormatText,
)
from server.wire.responses_request import ToolChoice as WireToolChoice

AUTO = ToolChoice()


def _part(part: object) -> Part | None:
    if isinstance(part, InputText | OutputText):
        return Part("text", part.text)
    if isinstance(part, Refusal):
        return Part("refusal", part.refusal)
    if isinstance(part, InputImage):
        return Part("image", detail=part.detail, url=part.image_url or "")
    if isinstance(part, InputFile):
        data = part.file_data or ""
        return Part("file", size=len(data), data=data)
    return None


def _content(content: str | Sequence[object]) -> tuple[str, tuple[Part, ...] | None]:
    if isinstance(content, str):
        return content, None
    parts = tuple(part for part in map(_part, content) if part is not None)
    return "".join(part.text for part in parts if part.kind == "text"), parts


def _join_call(
    messages: list[Message], call: ToolCall, reasoning: int = 0, known: tuple[int, ...] = ()
) -> None:
    """A call joins the assistant turn it follows (one turn, as chat sends it), or opens one;
    `reasoning`: the encrypted reasoning that came just before it (characters), `known`: the
    reasoning tokens of the items among it that chatdouble wrote (sealed.py)."""
    last = messages[-1] if messages else None
    if last is not None and last.role == "assistant":
        calls = (*last.calls, call)
        messages[-1] = replace(
            last,
            calls=calls,
            reasoning=last.reasoning + reasoning,
            reasoning_tokens=last.reasoning_tokens + known,
        )
    else:
        messages.append(
            Message("assistant", "", (call,), said=False, reasoning=reasoning, reasoning_tokens=known)
        )


def input_messages(items: str | Sequence[InputItem] | None) -> list[Message]:
    """The messages of an `input`, in order (see the module docstring)."""
    if items is None:
        return []
    if isinstance(items, str):
        return [Message("user", items)]
    messages: list[Message] = []
    reasoning = 0  # encrypted reasoning not yet followed by the assistant turn it led to
    known: tuple[int, ...] = ()  # the same, for items of ours: their reasoning tokens
    for item in items:
        if isinstance(item, MessageItem):
            text, parts = _content(item.content)
            ours = item.role == "assistant"
            messages.append(
                Message(
                    item.role,
                    text,
                    parts=parts,
                    reasoning=reasoning if ours else 0,
                    reasoning_tokens=known if ours else (),
                )
            )
            reasoning, known = 0, ()
        elif isinstance(item, FunctionCallItem | CustomToolCallItem):
            if isinstance(item, FunctionCallItem):
                call = ToolCall(item.call_id, item.name, item.arguments, item_id=item.id)
            else:
                call = ToolCall(item.call_id, item.name, item.input, kind="custom", item_id=item.id)
            _join_call(messages, call, reasoning, known)
            reasoning, known = 0, ()
        elif isinstance(item, FunctionCallOutputItem | CustomToolCallOutputItem):
            text, parts = _content(item.output)
            messages.append(Message("tool", text, call_id=item.call_id, parts=parts))
        elif isinstance(item, HostedItem) and item.type == "additional_tools":
            messages.append(Message("developer", "", tools=_added_tools(item)))
        elif isinstance(item, ReasoningItem):
            tokens = unseal(item.encrypted_content)
            if tokens is None and not item.encrypted_content:
                tokens = unseal_id(item.id)  # sent back by id alone: the item we wrote (sealed.py)
            if tokens is None:
                reasoning += len(item.encrypted_content or "")
            else:
                known += (tokens,)
    return messages


def _added_tools(item: HostedItem) -> tuple[Tool, ...]:
    """The function tools of an `additional_tools` item (kept as sent: read leniently)."""
    tools = (item.model_extra or {}).get("tools")
    return tuple(
        Tool(tool["name"], tool.get("parameters"), tool.get("strict") is True, tool.get("description"))
        for tool in (tools if isinstance(tools, list) else [])
        if isinstance(tool, dict) and tool.get("type") == "function" and isinstance(tool.get("name"), str)
    )


def is_strict(tool: FunctionTool) -> bool:
    """Function tools are strict unless they say otherwise (unlike chat); one that says nothing and
    whose schema strict mode cannot take is served as not strict rather than refused."""
    if tool.strict is not None:
        return tool.strict
    return tool.parameters is None or strict_problem(tool.parameters) is None


def output_messages(output: Sequence[dict[str, Any]]) -> list[Message]:
    """A response's output items as the conversation continues them: its messages' text, and its
    function calls joined to the assistant turn."""
    messages: list[Message] = []
    for item in output:
        kind = item.get("type")
        if kind == "message":
            parts = tuple(
                Part("refusal", part.get("refusal", ""))
                if part.get("type") == "refusal"
                else Part("text", part.get("text", ""))
                for part in item.get("content", [])
            )
            text = "".join(part.text for part in parts if part.kind == "text")
            messages.append(Message("assistant", text, parts=parts))
        elif kind == "function_call":
            call = ToolCall(
                str(item.get("call_id", "")),
                str(item.get("name", "")),
                str(item.get("arguments", "")),
                item_id=str(item.get("id", "")) or None,
            )
            _join_call(messages, call)
    return messages


def _tools(body: ResponseInputs) -> tuple[Tool, ...]:
    tools: list[Tool] = []
    for tool in body.tools or []:
        deferred = bool(getattr(tool, "defer_loading", False))
        if isinstance(tool, FunctionTool):
            tools.append(
                Tool(tool.name, tool.parameters, is_strict(tool), tool.description, deferred=deferred)
            )
        elif isinstance(tool, CustomTool):
            tools.append(Tool(tool.name, None, False, tool.description, kind="custom", deferred=deferred))
        elif isinstance(tool, HostedTool) and tool.type == "tool_search":
            search = _client_search(tool)
            if search is not None:
                tools.append(search)
    return tuple(tools)


def _client_search(tool: HostedTool) -> Tool | None:
    """A `tool_search` the client executes (`execution: "client"`), with the description and
    parameters it was given: the model calls it as it calls a function, so the prompt writes it among
    the functions (docs/usage.md; backends do not call it). None for the hosted search."""
    extra = tool.model_extra or {}
    if extra.get("execution") != "client":
        return None
    parameters = extra.get("parameters")
    description = extra.get("description")
    return Tool(
        "tool_search",
        parameters if isinstance(parameters, dict) else None,
        False,
        description if isinstance(description, str) else None,
        kind="tool_search",
    )


DATED = re.compile(r"_\d{4}_\d{2}_\d{2}$")  # `web_search_preview_2025_03_11` is a web_search_preview


def hosted_tools(body: ResponseInputs) -> tuple[str, ...]:
    """The types of the hosted tools offered, once each and without a date, in order."""
    kinds = (DATED.sub("", tool.type) for tool in body.tools or [] if isinstance(tool, HostedTool))
    return tuple(dict.fromkeys(kinds))


def tool_choice(choice: WireToolChoice | None) -> ToolChoice:
    if choice is None or choice == "auto":
        return AUTO
    if choice in ("none", "required"):
        return ToolChoice(mode=choice)
    if isinstance(choice, NamedFunctionChoice):
        return ToolChoice(mode="required", allowed=frozenset((choice.name,)), named=choice.name)
    if isinstance(choice, AllowedToolsChoice):
        return ToolChoice(mode=choice.mode, allowed=frozenset(choice.function_names()))
    if isinstance(choice, NamedCustomChoice):
        return AUTO  # no backend produces custom tool calls yet (docs/usage.md)
    # A hosted tool: echo never calls hosted tools, and a fixture may script their items.
    return AUTO


def output_format(body: ResponseInputs) -> OutputFormat | None:
    fmt = body.text.format if body.text is not None else None
    if isinstance(fmt, TextFormatJSONSchema):
        return OutputFormat("json_schema", fmt.schema_, fmt.name, bool(fmt.strict), fmt.description)
    if isinstance(fmt, TextFormatJSONObject):
        return OutputFormat("json_object")
    if isinstance(fmt, TextFormatText):
        return OutputFormat("text")
    return None


def to_conversation(
    body: ResponseInputs,
    model: str,
    history: Sequence[Message] = (),
    *,
    stream: bool = False,
    wire: dict[str, Any] | None = None,
) -> Conversation:
    """The neutral view of a Responses request; `history` is what `previous_response_id` chains in
    (the previous input and output), placed after the instructions."""
    messages: list[Message] = []
    if body.instructions:
        messages.append(Message("system", body.instructions))
    messages.extend(history)
    messages.extend(input_messages(body.input))
    payload = wire if wire is not None else {}
    return Conversation(
        model=model,
        messages=tuple(messages),
        tools=_tools(body) if body.tools else (),
        hosted_tools=hosted_tools(body) if body.tools else (),
        tool_choice=tool_choice(body.tool_choice),
        parallel_tool_calls=body.parallel_tool_calls is not False,
        output=output_format(body),
        stream=stream,
        reasoning_summary=body.reasoning is not None
        and (body.reasoning.summary or body.reasoning.generate_summary) is not None,
        dialect="responses",
        wire=lambda: payload,
    )
