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
from server.schemas import first_error
from server.wire.chat_request import (
    AllowedToolsChoice,
    ChatCompletionRequest,
    FunctionDefinition,
    JSONObjectFormat,
    JSONSchemaFormat,
    NamedFunction,
    NamedFunctionChoice,
)

log = logging.getLogger("chatdouble.contract")


@dataclass(slots=True)
class Reply:
    """What a choice said, gathered as its channels close."""

    content: str = ""
    refusal: str = ""
    calls: list[tuple[str, str]] = field(default_factory=list)
    function: tuple[str, str] | None = None

    def record(self, kind: str, text: str) -> None:
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

    def __init__(self, body: ChatCompletionRequest, backend: str, *, warn_only: bool = False) -> None:
        self.body = body
        self.backend = backend
        self.warn_only = warn_only
        self.tools = {function.name: function for function in body.function_tools}
        self.functions = {f.name: f for f in body.functions or []}

    def violation(self, what: str) -> None:
        if self.warn_only:
            log.warning("contract violation by backend '%s' (passed through): %s", self.backend, what)
            return
        raise ContractViolationError(self.backend, what)

    def check_call(self, name: str, *, legacy: bool, index: int) -> None:
        body = self.body
        offered = self.functions if legacy else self.tools
        kind = "function" if legacy else "tool"
        if name not in offered:
            names = ", ".join(repr(n) for n in offered) or "none"
            self.violation(
                f"the reply calls {kind} '{name}', which the request did not offer (offered: {names})"
            )
            return
        if legacy:
            if body.function_call == "none":
                self.violation(f"the reply calls function '{name}' although function_call is 'none'")
            elif isinstance(body.function_call, NamedFunction) and body.function_call.name != name:
                self.violation(
                    f"the reply calls function '{name}' but function_call forces '{body.function_call.name}'"
                )
            return
        choice = body.tool_choice
        if choice == "none":
            self.violation(f"the reply calls tool '{name}' although tool_choice is 'none'")
        elif isinstance(choice, NamedFunctionChoice) and choice.function.name != name:
            self.violation(f"the reply calls tool '{name}' but tool_choice forces '{choice.function.name}'")
        elif isinstance(choice, AllowedToolsChoice):
            allowed = choice.allowed_tools.function_names()
            if name not in allowed:
                self.violation(
                    f"the reply calls tool '{name}', which tool_choice.allowed_tools does not allow"
                )
        if index >= 1 and body.parallel_tool_calls is False:
            self.violation("the reply makes more than one tool call although parallel_tool_calls is false")

    def check_reply(self, reply: Reply, finish_reason: str) -> None:
        body = self.body
        if finish_reason == "length":
            return  # a cut reply is incomplete by design: its JSON need not parse
        if not reply.calls and reply.function is None and not reply.refusal:
            choice = body.tool_choice
            forced = choice == "required" or isinstance(choice, NamedFunctionChoice)
            if isinstance(choice, AllowedToolsChoice):
                # `required` over an allowed set that names no function leaves nothing to call: every
                # reply would break it, so it demands no call.
                allowed = choice.allowed_tools
                forced = allowed.mode == "required" and bool(allowed.function_names())
            if forced and self.tools:
                self.violation("tool_choice requires a tool call but the reply has none")
            if isinstance(body.function_call, NamedFunction):
                self.violation(
                    f"function_call forces '{body.function_call.name}' but the reply has no function call"
                )
        for name, arguments in reply.calls:
            self._check_arguments(self.tools.get(name), name, arguments, "tool")
        if reply.function is not None:
            self._check_arguments(
                self.functions.get(reply.function[0]), reply.function[0], reply.function[1], "function"
            )
        self._check_format(reply)

    def _check_arguments(
        self, function: FunctionDefinition | None, name: str, arguments: str, kind: str
    ) -> None:
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

    def _check_format(self, reply: Reply) -> None:
        fmt = self.body.response_format
        if reply.refusal or (reply.calls or reply.function):
            return
        if isinstance(fmt, JSONObjectFormat | JSONSchemaFormat):
            try:
                value = json.loads(reply.content)
            except ValueError:
                self.violation(
                    f"response_format is {fmt.type} but the content is not JSON: {reply.content[:200]!r}"
                )
                return
            if isinstance(fmt, JSONObjectFormat) and not isinstance(value, dict):
                self.violation("response_format is json_object but the content is not a JSON object")
            if isinstance(fmt, JSONSchemaFormat):
                problem = first_error(fmt.json_schema.schema_, value)
                if problem is not None:
                    self.violation(
                        f"the content fails response_format schema '{fmt.json_schema.name}': {problem}"
                    )


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Follow local `$ref`s (`#/$defs/x`, `#/definitions/x`) to the schema they name."""
    for _ in range(32):
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#"):
            return schema
        node: Any = root
        for part in ref.lstrip("#").split("/"):
            if part:
                node = (
                    node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, dict) else {}
                )
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
