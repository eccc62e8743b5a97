"""The echo backend: a deterministic reply derived from the request, no network.

By default the reply is the text of the last user message (its text parts joined), streamed in
token-sized pieces. When the request forces a call (`function_call` naming a function,
`tool_choice` "required" or naming a tool), the reply is that call, with arguments synthesized to
satisfy the function's JSON Schema.

Under "required" echo picks the first offered tool that no assistant message in the conversation
has called yet, and the first offered tool once all have been called. A framework that keeps
"required" on every turn and offers an output tool after its function tools (pydantic-ai's
structured output) then calls its tools once each and ends on the output tool, as it would with a
model, instead of calling the first tool until its request limit.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from backends.arguments import synthesize
from backends.base import (
    Backend,
    Event,
    Finish,
    FunctionCallDelta,
    GenerationRequest,
    TextDelta,
    ToolCallDelta,
)
from server.ids import tool_call_id
from server.wire.chat_request import (
    AllowedToolsChoice,
    AssistantMessage,
    ChatCompletionRequest,
    FunctionDefinition,
    FunctionToolCall,
    JSONObjectFormat,
    JSONSchemaFormat,
    NamedFunction,
    NamedFunctionChoice,
    TextPart,
    UserMessage,
)


def message_text(content: object) -> str:
    """The plain text of a message's content: a string, or its text parts joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.text for part in content if isinstance(part, TextPart))
    return ""


def last_user_text(body: ChatCompletionRequest) -> str:
    for message in reversed(body.messages):
        if isinstance(message, UserMessage):
            return message_text(message.content)
    return message_text(getattr(body.messages[-1], "content", None))


def forced_function(body: ChatCompletionRequest) -> tuple[FunctionDefinition, bool] | None:
    """The function the request forces, and whether it is a legacy `function_call`."""
    if body.functions and isinstance(body.function_call, NamedFunction):
        wanted = body.function_call.name
        return next(((f, True) for f in body.functions if f.name == wanted), None)
    tools = body.function_tools
    choice = body.tool_choice
    if not tools or choice is None or choice in ("none", "auto"):
        return None
    if choice == "required":
        return first_uncalled(tools, body), False
    if isinstance(choice, NamedFunctionChoice):
        return next(((f, False) for f in tools if f.name == choice.function.name), None)
    if isinstance(choice, AllowedToolsChoice) and choice.allowed_tools.mode == "required":
        allowed = choice.allowed_tools.function_names()
        candidates = [f for f in tools if f.name in allowed]
        return (first_uncalled(candidates, body), False) if candidates else None
    return None


def called_names(body: ChatCompletionRequest) -> set[str]:
    """The functions the conversation's assistant messages have already called."""
    names: set[str] = set()
    for message in body.messages:
        if not isinstance(message, AssistantMessage):
            continue
        if message.function_call is not None:
            names.add(message.function_call.name)
        names.update(c.function.name for c in message.tool_calls or [] if isinstance(c, FunctionToolCall))
    return names


def first_uncalled(tools: list[FunctionDefinition], body: ChatCompletionRequest) -> FunctionDefinition:
    """The first of `tools` not called yet in the conversation, else the first (`tools` is not empty)."""
    called = called_names(body)
    return next((f for f in tools if f.name not in called), tools[0])


def format_reply(body: ChatCompletionRequest, text: str) -> str:
    """Honour `response_format`: a JSON object, or a value synthesized from the requested schema."""
    fmt = body.response_format
    if isinstance(fmt, JSONSchemaFormat):
        return json.dumps(synthesize(fmt.json_schema.schema_, body.seed or 0), ensure_ascii=False)
    if isinstance(fmt, JSONObjectFormat):
        return json.dumps({"message": text}, ensure_ascii=False)
    return text


def without_banned_tokens(text: str, body: ChatCompletionRequest, request: GenerationRequest) -> str:
    """Drop the tokens `logit_bias` bans (bias -100) from the reply, as sampling would never pick them."""
    banned = {int(token) for token, bias in (body.logit_bias or {}).items() if bias <= -100}
    if not banned or body.response_format is not None:
        return text
    tokens = [t for t in request.tokenizer.encode(text) if t not in banned]
    return request.tokenizer.decode(tokens)


def split(request: GenerationRequest, text: str) -> list[str]:
    """Token-sized pieces for a stream; one piece when nobody sees the chunking (the server's cuts
    work inside a piece, so the reply is the same)."""
    return request.tokenizer.pieces(text) if request.body.stream else [text]


class EchoBackend(Backend):
    name = "echo"
    instant = True

    def __init__(self, *, text: str | None = None, prefix: str = "") -> None:
        self.text = text
        self.prefix = prefix

    async def stream(self, request: GenerationRequest) -> AsyncIterator[Event]:
        body = request.body
        forced = forced_function(body)
        if forced is not None:
            function, legacy = forced
            arguments = json.dumps(synthesize(function.parameters, body.seed or 0))
            pieces = split(request, arguments)
            for choice in range(request.n):
                if legacy:
                    yield FunctionCallDelta(arguments="", name=function.name, choice=choice)
                    for piece in pieces:
                        yield FunctionCallDelta(arguments=piece, choice=choice)
                    yield Finish("function_call", choice)
                else:
                    yield ToolCallDelta(0, "", id=tool_call_id(), name=function.name, choice=choice)
                    for piece in pieces:
                        yield ToolCallDelta(0, piece, choice=choice)
                    yield Finish("tool_calls", choice)
            return
        text = self.text if self.text is not None else self.prefix + last_user_text(body)
        text = without_banned_tokens(format_reply(body, text), body, request)
        for piece in split(request, text):
            for choice in range(request.n):
                yield TextDelta(piece, choice)
        for choice in range(request.n):
            yield Finish(None, choice)
