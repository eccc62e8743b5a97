"""Cross-field rules of a chat request that its schema cannot express, in the real API's words:
parameter combinations, tool-message sequencing (the API's "preceeding" typo included), forced tools
that must be offered, `logit_bias` keys (server/http/logit_bias.py), and the JSON Schemas a request carries."""

from __future__ import annotations

from backends.feasibility import schema_refusal
from server.errors import invalid_request
from server.generation.admission import check_output_cap, check_parameters
from server.generation.profiles import Profile
from server.http.logit_bias import check_logit_bias
from server.wire.chat_request import (
    AllowedToolsChoice,
    ChatCompletionRequest,
    FunctionTool,
    JSONSchemaFormat,
    NamedFunction,
    NamedFunctionChoice,
)


def check_semantics(body: ChatCompletionRequest) -> None:
    """Cross-field rules the schema cannot express, in the API's words."""
    if body.top_logprobs is not None and not body.logprobs:
        raise invalid_request(
            "The 'top_logprobs' parameter is only allowed when 'logprobs' is enabled.", param="top_logprobs"
        )
    if body.stream_options is not None and not body.stream:
        raise invalid_request(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.", param="stream_options"
        )
    if body.tool_choice is not None and not body.tools:
        raise invalid_request(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            param="tool_choice",
        )
    if body.function_call is not None and not body.functions:
        raise invalid_request(
            "Invalid value for 'function_call': 'function_call' is only allowed when 'functions' are specified.",
            param="function_call",
        )
    _check_forced_names(body)
    check_logit_bias(body.logit_bias)
    _check_tool_sequence(body)
    _check_schemas(body)


def check_for_model(body: ChatCompletionRequest, profile: Profile) -> None:
    """What the model refuses: parameters it does not take, a reply cap above its own."""
    given = {
        "max_tokens": body.max_tokens,
        "temperature": body.temperature,
        "top_p": body.top_p,
        "presence_penalty": body.presence_penalty,
        "frequency_penalty": body.frequency_penalty,
        "logprobs": body.logprobs,
        "reasoning_effort": body.reasoning_effort,
    }
    check_parameters(profile, given, "chat", body.reasoning_effort)
    param = "max_tokens" if body.max_completion_tokens is None else "max_completion_tokens"
    check_output_cap(profile, param, body.completion_limit)


def _check_forced_names(body: ChatCompletionRequest) -> None:
    """A forced tool or function must be one the request offers."""
    choice = body.tool_choice
    if choice is not None and not isinstance(choice, str):  # a named tool, or allowed tools
        offered = {function.name for function in body.function_tools}
        if isinstance(choice, NamedFunctionChoice) and choice.function.name not in offered:
            raise invalid_request(
                f"Invalid value for 'tool_choice': function '{choice.function.name}' is not in 'tools'.",
                param="tool_choice",
                code="invalid_value",
            )
        unknown = (
            sorted(choice.allowed_tools.function_names() - offered)
            if isinstance(choice, AllowedToolsChoice)
            else []
        )
        if unknown:
            raise invalid_request(
                f"Invalid value for 'tool_choice.allowed_tools': function '{unknown[0]}' is not in 'tools'.",
                param="tool_choice.allowed_tools.tools",
                code="invalid_value",
            )
    legacy = body.function_call
    if isinstance(legacy, NamedFunction) and legacy.name not in {
        function.name for function in body.functions or []
    }:
        raise invalid_request(
            f"Invalid value for 'function_call': function '{legacy.name}' is not in 'functions'.",
            param="function_call",
            code="invalid_value",
        )


def _check_schemas(body: ChatCompletionRequest) -> None:
    """Function parameters and response formats must be JSON Schemas the server can apply, within
    strict mode's limits when `strict` is set, and satisfiable by some value within the synthesizer's
    caps (no reply could pass the contract guard otherwise)."""
    if not (body.tools or body.functions or body.response_format):
        return  # most requests: no schema at all
    functions = [
        (f"tools[{i}].function.parameters", tool.function)
        for i, tool in enumerate(body.tools or [])
        if isinstance(tool, FunctionTool)
    ]
    functions += [(f"functions[{i}].parameters", f) for i, f in enumerate(body.functions or [])]
    for param, function in functions:
        problem = schema_refusal(function.parameters, bool(function.strict))
        if problem is not None:
            raise invalid_request(
                f"Invalid schema for function '{function.name}': {problem}",
                param=param,
                code="invalid_function_parameters",
            )
    fmt = body.response_format
    if isinstance(fmt, JSONSchemaFormat) and fmt.json_schema.schema_ is not None:
        problem = schema_refusal(fmt.json_schema.schema_, bool(fmt.json_schema.strict))
        if problem is not None:
            raise invalid_request(
                f"Invalid schema for response_format '{fmt.json_schema.name}': {problem}",
                param="response_format",
                code="invalid_json_schema",
            )


def _check_tool_sequence(body: ChatCompletionRequest) -> None:
    waiting: list[str] = []
    for index, message in enumerate(body.messages):
        if message.role == "tool":
            if message.tool_call_id in waiting:
                waiting.remove(message.tool_call_id)
                continue
            raise invalid_request(
                "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with "
                "'tool_calls'.",
                param=f"messages.[{index}].role",
            )
        if waiting:
            raise invalid_request(
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(waiting)}",
                param=f"messages.[{index}].role",
            )
        if message.role == "assistant" and message.tool_calls:
            waiting = [call.id for call in message.tool_calls]
    # A conversation may end on an assistant turn with unanswered calls only if it is the last message.
