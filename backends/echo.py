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
from typing import Literal

from pydantic import Field

from backends.arguments import synthesize
from backends.base import (
    Backend,
    Conversation,
    Event,
    Finish,
    FunctionCallDelta,
    GenerationRequest,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
)
from server.generation.conversation import Tool
from server.generation.ids import tool_call_id
from server.generation.latency import Paced
from server.generation.models import reasons


class EchoConfig(Paced):
    type: Literal["echo"]
    text: str | None = Field(default=None, description="A fixed reply instead of the last user message.")
    prefix: str = ""


def forced_function(conversation: Conversation) -> tuple[Tool, bool] | None:
    """The function the request forces, and whether it is a legacy `function_call`."""
    named = conversation.function_choice.named
    if conversation.functions and named is not None:
        return next(((f, True) for f in conversation.functions if f.name == named), None)
    tools = conversation.function_tools
    choice = conversation.tool_choice
    if not tools or choice.mode != "required":
        return None
    if choice.named is not None:
        return next(((f, False) for f in tools if f.name == choice.named), None)
    candidates = [f for f in tools if choice.permits(f.name)]
    return (first_uncalled(candidates, conversation), False) if candidates else None


def first_uncalled(tools: list[Tool], conversation: Conversation) -> Tool:
    """The first of `tools` not called yet in the conversation, else the first (`tools` is not empty)."""
    called = set(conversation.called_names())
    return next((f for f in tools if f.name not in called), tools[0])


def format_reply(conversation: Conversation, text: str) -> str:
    """Honour the output format: a JSON object, or a value synthesized from the requested schema."""
    fmt = conversation.output
    if fmt is not None and fmt.kind == "json_schema":
        return json.dumps(synthesize(fmt.schema, conversation.seed or 0), ensure_ascii=False)
    if fmt is not None and fmt.kind == "json_object":
        return json.dumps({"message": text}, ensure_ascii=False)
    return text


def without_banned_tokens(text: str, request: GenerationRequest) -> str:
    """Drop the tokens `logit_bias` bans (bias -100) from the reply, as sampling would never pick them."""
    conversation = request.conversation
    if not conversation.logit_bias:
        return text
    banned = {token for token, bias in conversation.logit_bias.items() if bias <= -100}
    if not banned or conversation.output is not None:
        return text
    tokens = [t for t in request.tokenizer.encode(text) if t not in banned]
    return request.tokenizer.decode(tokens)


def split(request: GenerationRequest, text: str) -> list[str]:
    """Token-sized pieces for a stream; one piece when nobody sees the chunking (the server's cuts
    work inside a piece, so the reply is the same)."""
    return request.tokenizer.pieces(text) if request.conversation.stream else [text]


def summary_of(call: str | None) -> str:
    """What echo's reasoning summary says, when a reasoning model is asked for one."""
    if call is not None:
        return f"**Calling the tool**\n\nThe request requires a call, so the reply calls `{call}`."
    return "**Echoing the request**\n\nThe reply repeats the last user message."


class EchoBackend(Backend):
    name = "echo"
    instant = True

    def __init__(self, config: EchoConfig) -> None:
        self.config = config

    async def stream(self, request: GenerationRequest) -> AsyncIterator[Event]:
        conversation = request.conversation
        forced = forced_function(conversation)
        if conversation.reasoning_summary and reasons(conversation.model):
            summary = summary_of(forced[0].name if forced is not None else None)
            for choice in range(request.n):
                for piece in split(request, summary):
                    yield ReasoningDelta(piece, 0, choice)
        if forced is not None:
            function, legacy = forced
            arguments = json.dumps(synthesize(function.parameters, conversation.seed or 0))
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
        config = self.config
        text = config.text if config.text is not None else config.prefix + conversation.last_user_text()
        text = without_banned_tokens(format_reply(conversation, text), request)
        for piece in split(request, text):
            for choice in range(request.n):
                yield TextDelta(piece, choice)
        for choice in range(request.n):
            yield Finish(None, choice)
