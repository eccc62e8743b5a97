"""The contract guard: a backend's reply must be one the real API could have given to this request.

A tool call naming a tool that was not offered, a call under `tool_choice: "none"`, a different tool
than the one forced, no call when one was required, several calls with `parallel_tool_calls: false`,
arguments that are not JSON or fail the tool's schema, or content that fails the requested
`response_format`: each is answered with a labelled error naming the backend and the violation, so a
wrong fixture fails loudly instead of teaching a client something the API never does. In `warn`
mode the violation is logged and the reply goes through.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from server.errors import APIError
from server.generation.conversation import Conversation, Tool
from server.generation.events import ChannelKind, FinishReason
from server.generation.schemas import first_error, resolve_ref

log = logging.getLogger("chatdouble.contract")


@dataclass(slots=True)
class Transcript:
    """What a choice said, gathered as its channels close."""

    content: str = ""
    refusal: str = ""
    calls: list[tuple[str, str]] = field(default_factory=list)
    function: tuple[str, str] | None = None

    def record(self, kind: ChannelKind, text: str) -> None:
        if kind == "content":
            self.content += text
        elif kind == "refusal":
            self.refusal += text
        elif kind == "tool" and self.calls:
            name, arguments = self.calls[-1]
            self.calls[-1] = (name, arguments + text)
        elif kind == "function" and self.function is not None:
            self.function = (self.function[0], self.function[1] + text)


class ContractViolationError(APIError):
    def __init__(self, backend: str, what: str) -> None:
        super().__init__(
            500,
            f"chatdouble contract violation by backend '{backend}': {what}",
            type="server_error",
            code="contract_violation",
            headers={"x-should-retry": "false"},
        )


class Guard:
    """Checks one request's replies; built per request by the route."""

    def __init__(self, conversation: Conversation, backend: str, *, warn_only: bool = False) -> None:
        self.conversation = conversation
        self.backend = backend
        self.warn_only = warn_only
        # Most requests offer neither: the empty tables are made without a comprehension each.
        self.tools = {tool.name: tool for tool in conversation.function_tools} if conversation.tools else {}
        self.functions = (
            {tool.name: tool for tool in conversation.functions} if conversation.functions else {}
        )
        # Nothing offered, forced or formatted, as in most requests: a reply has nothing to keep to
        # but its calls, which `check_call` refuses as they come.
        output = conversation.output
        self.unbound = (
            not self.tools
            and not self.functions
            and conversation.function_choice.named is None
            and (output is None or output.kind == "text")
        )

    def violation(self, what: str) -> None:
        if self.warn_only:
            log.warning("contract violation by backend '%s' (passed through): %s", self.backend, what)
            return
        raise ContractViolationError(self.backend, what)

    def check_call(self, name: str, *, legacy: bool, index: int) -> None:
        conversation = self.conversation
        offered = self.functions if legacy else self.tools
        kind = "function" if legacy else "tool"
        if name not in offered:
            names = ", ".join(repr(n) for n in offered) or "none"
            self.violation(
                f"the reply calls {kind} '{name}', which the request did not offer (offered: {names})"
            )
            return
        choice = conversation.function_choice if legacy else conversation.tool_choice
        setting = "function_call" if legacy else "tool_choice"
        if choice.mode == "none":
            self.violation(f"the reply calls {kind} '{name}' although {setting} is 'none'")
        elif choice.named is not None and choice.named != name:
            self.violation(f"the reply calls {kind} '{name}' but {setting} forces '{choice.named}'")
        elif not choice.permits(name):
            self.violation(f"the reply calls tool '{name}', which tool_choice.allowed_tools does not allow")
        if not legacy and index >= 1 and not conversation.parallel_tool_calls:
            self.violation("the reply makes more than one tool call although parallel_tool_calls is false")

    def check_reply(self, reply: Transcript, finish_reason: FinishReason) -> None:
        conversation = self.conversation
        if finish_reason == "length" or self.unbound:
            return  # a cut reply is incomplete by design (its JSON need not parse)
        if not reply.calls and reply.function is None and not reply.refusal:
            choice = conversation.tool_choice
            # `required` over an allowed set naming no offered function leaves nothing to call: every
            # reply would break it, so it demands no call.
            if choice.mode == "required" and any(choice.permits(name) for name in self.tools):
                self.violation("tool_choice requires a tool call but the reply has none")
            named = conversation.function_choice.named
            if named is not None:
                self.violation(f"function_call forces '{named}' but the reply has no function call")
        for name, arguments in reply.calls:
            self._check_arguments(self.tools.get(name), name, arguments, "tool")
        if reply.function is not None:
            self._check_arguments(
                self.functions.get(reply.function[0]), reply.function[0], reply.function[1], "function"
            )
        self._check_format(reply)

    def _check_arguments(self, function: Tool | None, name: str, arguments: str, kind: str) -> None:
        if function is None:
            return
        try:
            value = json.loads(arguments)
        except ValueError:
            self.violation(f"the arguments of {kind} '{name}' are not valid JSON: {arguments[:200]!r}")
            return
        problem = first_error(function.parameters, value)
        if problem is None and function.strict and isinstance(value, dict):
            problem = _strict_extra(function.parameters or {}, value, function.parameters or {})
        if problem is not None:
            self.violation(f"the arguments of {kind} '{name}' fail its parameters schema: {problem}")

    def _check_format(self, reply: Transcript) -> None:
        fmt = self.conversation.output
        if reply.refusal or (reply.calls or reply.function):
            return
        if fmt is None or fmt.kind == "text":
            return
        try:
            value = json.loads(reply.content)
        except ValueError:
            self.violation(
                f"response_format is {fmt.kind} but the content is not JSON: {reply.content[:200]!r}"
            )
            return
        if fmt.kind == "json_object" and not isinstance(value, dict):
            self.violation("response_format is json_object but the content is not a JSON object")
        if fmt.kind == "json_schema":
            problem = first_error(fmt.schema, value)
            if problem is not None:
                self.violation(f"the content fails response_format schema '{fmt.name}': {problem}")


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Follow local `$ref`s (`#/$defs/x`, `#/definitions/x`) to the schema they name."""
    for _ in range(32):
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#"):
            return schema
        node = resolve_ref(root, ref)
        schema = node if isinstance(node, dict) else {}
    return schema


def _strict_extra(schema: dict[str, Any], value: dict[str, Any], root: dict[str, Any]) -> str | None:
    """Under `strict: true` every object is closed, even where the schema forgot to say so."""
    schema = _resolve(schema, root)
    properties = schema.get("properties") or {}
    extra = [key for key in value if key not in properties]
    if extra:
        return f"additional properties are not allowed under strict mode: {extra}"
    for key, item in value.items():
        sub = properties.get(key)
        if isinstance(item, dict) and isinstance(sub, dict):
            sub = _resolve(sub, root)
            if sub.get("type") == "object":
                problem = _strict_extra(sub, item, root)
                if problem:
                    return problem
    return None
