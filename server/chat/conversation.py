"""A validated `ChatCompletionRequest` mapped into the neutral `Conversation` backends read."""

from __future__ import annotations

from collections.abc import Sequence

from server.generation.conversation import (
    LEGACY_CALL_ID,
    PLAIN_ROLES,
    Conversation,
    Message,
    OutputFormat,
    Part,
    Tool,
    ToolCall,
    ToolChoice,
)
from server.wire.chat_request import (
    AllowedToolsChoice,
    AssistantMessage,
    AudioPart,
    ChatCompletionRequest,
    CustomTool,
    FilePart,
    FunctionCallChoice,
    FunctionDefinition,
    FunctionMessage,
    FunctionToolCall,
    ImagePart,
    JSONObjectFormat,
    JSONSchemaFormat,
    NamedFunction,
    NamedFunctionChoice,
    RefusalPart,
    TextFormat,
    TextPart,
    ToolMessage,
)
from server.wire.chat_request import Message as WireMessage
from server.wire.chat_request import ToolChoice as WireToolChoice


def message_text(content: object) -> str:
    """The plain text of a message's content: a string, or its text parts joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.text for part in content if isinstance(part, TextPart))
    return ""


def _part(part: object) -> Part | None:
    if isinstance(part, TextPart):
        return Part("text", part.text)
    if isinstance(part, RefusalPart):
        return Part("refusal", part.refusal)
    if isinstance(part, ImagePart):
        return Part("image", detail=part.image_url.detail, url=part.image_url.url)
    if isinstance(part, AudioPart):
        audio = part.input_audio
        return Part("audio", size=len(audio.data), data=audio.data, format=audio.format)
    if isinstance(part, FilePart):
        data = part.file.file_data or ""
        return Part("file", size=len(data), data=data)
    return None


def _parts(content: object) -> tuple[Part, ...] | None:
    if not isinstance(content, list):
        return None
    return tuple(part for part in map(_part, content) if part is not None)


def _message(message: WireMessage) -> Message:
    content = getattr(message, "content", None)
    if isinstance(content, str) and message.role in PLAIN_ROLES:
        # The common case, kept cheap: role, text, no calls, no call id, and the name, in order (a
        # class called with keywords gathers them into a dict first).
        return Message(message.role, content, (), None, message.name)
    text, parts = message_text(content), _parts(content)
    if isinstance(message, AssistantMessage):
        calls = tuple(
            ToolCall(call.id, call.function.name, call.function.arguments)
            if isinstance(call, FunctionToolCall)
            else ToolCall(call.id, call.custom.name, call.custom.input, kind="custom")
            for call in message.tool_calls or []
        )
        if message.function_call is not None:
            legacy = message.function_call
            calls += (ToolCall(LEGACY_CALL_ID, legacy.name, legacy.arguments),)
        return Message("assistant", text, calls, name=message.name, parts=parts)
    if isinstance(message, ToolMessage):
        # A tool message's `name` is accepted (clients send it) but the API reads nothing of it.
        return Message("tool", text, call_id=message.tool_call_id, parts=parts)
    if isinstance(message, FunctionMessage):
        return Message("function", text, name=message.name)
    return Message(message.role, text, name=message.name, parts=parts)


def _tool(function: FunctionDefinition) -> Tool:
    return Tool(function.name, function.parameters, bool(function.strict), function.description)


def _tools(body: ChatCompletionRequest) -> tuple[Tool, ...]:
    return tuple(
        Tool(tool.custom.name, None, False, tool.custom.description, kind="custom")
        if isinstance(tool, CustomTool)
        else _tool(tool.function)
        for tool in body.tools or []
    )


AUTO = ToolChoice()


def _tool_choice(choice: WireToolChoice | None) -> ToolChoice:
    if choice is None or choice == "auto":
        return AUTO
    if choice in ("none", "required"):
        return ToolChoice(mode=choice)
    if isinstance(choice, NamedFunctionChoice):
        name = choice.function.name
        return ToolChoice(mode="required", allowed=frozenset((name,)), named=name)
    if isinstance(choice, AllowedToolsChoice):
        allowed = choice.allowed_tools
        return ToolChoice(mode=allowed.mode, allowed=frozenset(allowed.function_names()))
    # A named custom tool: no backend produces custom tool calls yet (docs/usage.md), so it
    # constrains nothing here.
    return AUTO


def _function_choice(choice: FunctionCallChoice | None) -> ToolChoice:
    if choice is None:
        return AUTO
    if isinstance(choice, NamedFunction):
        return ToolChoice(mode="required", allowed=frozenset((choice.name,)), named=choice.name)
    return ToolChoice(mode=choice) if choice == "none" else AUTO


def _output(body: ChatCompletionRequest) -> OutputFormat | None:
    fmt = body.response_format
    if fmt is None:
        return None
    if isinstance(fmt, JSONSchemaFormat):
        spec = fmt.json_schema
        return OutputFormat("json_schema", spec.schema_, spec.name, bool(spec.strict), spec.description)
    if isinstance(fmt, JSONObjectFormat):
        return OutputFormat("json_object")
    if isinstance(fmt, TextFormat):
        return OutputFormat("text")
    return None


def _messages(messages: Sequence[WireMessage]) -> tuple[Message, ...]:
    return tuple(map(_message, messages))


def to_conversation(body: ChatCompletionRequest) -> Conversation:
    """The neutral view of a chat request. Its fields are given in order, not by keyword: a class
    called with keywords first gathers them into a dict (half the cost of making one, every request)."""
    bias = {int(token): value for token, value in body.logit_bias.items()} if body.logit_bias else {}
    conversation = Conversation(
        body.model,
        _messages(body.messages),
        _tools(body) if body.tools else (),  # tools
        # Most requests set none of the three below: each is read only when given.
        AUTO if body.tool_choice is None else _tool_choice(body.tool_choice),  # tool_choice
        tuple(map(_tool, body.functions)) if body.functions else (),  # functions
        AUTO if body.function_call is None else _function_choice(body.function_call),  # function_choice
        body.parallel_tool_calls is not False,  # parallel_tool_calls
        None if body.response_format is None else _output(body),  # output
        body.seed,
        bias,  # logit_bias
        bool(body.stream),
    )
    conversation.wire = lambda: body.model_dump(mode="json", exclude_unset=True, by_alias=True)
    return conversation


def conversation_of(raw: bytes) -> Conversation:
    """The conversation of a body this server accepted before, made again from its bytes (the
    in-process journal keeps them, not the conversation): validated as then, without the checks it
    passed then, so nothing is refused or logged twice."""
    return to_conversation(ChatCompletionRequest.model_validate_json(raw))
