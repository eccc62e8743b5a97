"""Cross-field rules of a Responses request, in the API's words where they are known."""

from __future__ import annotations

from backends.feasibility import schema_refusal
from server.errors import invalid_request
from server.generation.admission import check_output_cap, check_parameters
from server.generation.profiles import Profile
from server.responses.conversation import is_strict
from server.wire.responses_request import (
    FunctionTool,
    NamedFunctionChoice,
    ResponseCreateRequest,
    ResponseInputs,
    TextFormatJSONSchema,
)


def check_create(body: ResponseCreateRequest) -> None:
    if body.stream_options is not None and not body.stream:
        raise invalid_request(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.", param="stream_options"
        )
    check_inputs(body)


def check_for_model(body: ResponseCreateRequest, profile: Profile) -> None:
    """What the model refuses: sampling on a reasoning model, an effort on one that does not reason,
    a reply cap above its own."""
    effort = body.reasoning.effort if body.reasoning is not None else None
    given = {"temperature": body.temperature, "top_p": body.top_p, "reasoning_effort": effort}
    check_parameters(profile, given, "responses", effort)
    check_output_cap(profile, "max_output_tokens", body.max_output_tokens)


def check_inputs(body: ResponseInputs) -> None:
    if body.previous_response_id is not None and body.conversation is not None:
        raise invalid_request(
            "Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' or "
            "'conversation'.",
            param="previous_response_id",
            code="mutually_exclusive_parameters",
        )
    functions = {tool.name for tool in body.tools or [] if isinstance(tool, FunctionTool)}
    choice = body.tool_choice
    if isinstance(choice, NamedFunctionChoice) and choice.name not in functions:
        raise invalid_request(
            f"Tool choice '{choice.name}' not found in 'tools' parameter.", param="tool_choice"
        )
    for index, tool in enumerate(body.tools or []):
        if isinstance(tool, FunctionTool):
            problem = schema_refusal(tool.parameters, is_strict(tool))
            if problem is not None:
                raise invalid_request(
                    f"Invalid schema for function '{tool.name}': {problem}",
                    param=f"tools[{index}].parameters",
                    code="invalid_function_parameters",
                )
    fmt = body.text.format if body.text is not None else None
    if isinstance(fmt, TextFormatJSONSchema):
        problem = schema_refusal(fmt.schema_, bool(fmt.strict))
        if problem is not None:
            raise invalid_request(
                f"Invalid schema for response_format '{fmt.name}': {problem}",
                param="text.format.schema",
                code="invalid_json_schema",
            )
