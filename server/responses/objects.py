"""The `response` object in the real API's key order, and the small objects inside it.

Order seen in the newest real recordings: `id, object, created_at, status`, then the other keys in
alphabetical order, with `user` and `metadata` last; `billing` appears in whole bodies (create,
retrieve), not in the snapshots a stream carries. Every key is sent, null when unused.
"""

from __future__ import annotations

from typing import Any, Literal

from server.generation.usage import Usage
from server.responses.conversation import is_strict
from server.responses.plan import ResponsesPlan
from server.wire.responses_request import (
    CustomTool,
    FunctionTool,
    ResponseCreateRequest,
    TextFormatJSONSchema,
)

JSON = dict[str, Any]
_IMAGE_TOKENS = {"image_tokens": 0, "text_tokens": 0}
TOOL_USAGE: JSON = {
    "image_gen": {
        "input_tokens": 0,
        "input_tokens_details": _IMAGE_TOKENS,
        "output_tokens": 0,
        "output_tokens_details": _IMAGE_TOKENS,
        "total_tokens": 0,
    },
    "web_search": {"num_requests": 0},
}

Status = Literal["queued", "in_progress", "completed", "incomplete", "failed", "cancelled"]


def usage_object(usage: Usage | None) -> JSON | None:
    if usage is None:
        return None
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cache_write_tokens": 0, "cached_tokens": usage.cached_tokens},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }


def _tool(tool: Any) -> JSON:
    if isinstance(tool, FunctionTool):
        return {
            "type": "function",
            "description": tool.description,
            "name": tool.name,
            "output_schema": None,  # in the newest real recordings (2026-07), between name and parameters
            "parameters": tool.parameters,
            "strict": is_strict(tool),
        }
    if isinstance(tool, CustomTool):
        return {
            "type": "custom",
            "description": tool.description,
            "format": tool.format or {"type": "text"},
            "name": tool.name,
        }
    dumped: JSON = tool.model_dump(mode="json", exclude_unset=True, by_alias=True)
    return dumped


def _text(body: ResponseCreateRequest) -> JSON:
    config = body.text
    fmt = config.format if config is not None else None
    if isinstance(fmt, TextFormatJSONSchema):
        shown: JSON = {
            "type": "json_schema",
            "description": fmt.description,
            "name": fmt.name,
            "schema": fmt.schema_,
            "strict": bool(fmt.strict),
        }
    else:
        shown = {"type": fmt.type if fmt is not None else "text"}
    verbosity = config.verbosity if config is not None and config.verbosity else "medium"
    return {"format": shown, "verbosity": verbosity}


def _reasoning(plan: ResponsesPlan) -> JSON:
    requested = plan.body.reasoning
    summary = requested.summary or requested.generate_summary if requested is not None else None
    if not plan.reasoning:
        return {"effort": None, "summary": summary}
    effort = requested.effort if requested is not None and requested.effort else "medium"
    return {"effort": effort, "summary": summary}


def _tool_choice(body: ResponseCreateRequest) -> Any:
    choice = body.tool_choice
    if choice is None or isinstance(choice, str):
        return choice or "auto"
    return choice.model_dump(mode="json", exclude_unset=True, by_alias=True)


def _service_tier(body: ResponseCreateRequest, final: bool) -> str:
    tier = body.service_tier
    if tier in (None, "auto"):
        return "default" if final else "auto"
    return tier


def response_object(
    plan: ResponsesPlan,
    status: Status,
    output: list[JSON],
    *,
    usage: Usage | None = None,
    error: JSON | None = None,
    incomplete: str | None = None,
    completed_at: int | None = None,
    whole: bool = False,
) -> JSON:
    """The response as it stands; `whole` for a body on its own (create, retrieve), not a snapshot
    inside a stream event."""
    body = plan.body
    final = status not in ("queued", "in_progress")
    shown: JSON = {"id": plan.id, "object": "response", "created_at": plan.created_at, "status": status}
    shown["background"] = bool(body.background)
    if whole:
        shown["billing"] = {"payer": "developer"}
    shown["completed_at"] = completed_at
    shown["error"] = error
    shown["frequency_penalty"] = 0.0
    shown["incomplete_details"] = {"reason": incomplete} if incomplete is not None else None
    shown["instructions"] = body.instructions
    shown["max_output_tokens"] = body.max_output_tokens
    shown["max_tool_calls"] = body.max_tool_calls
    shown["model"] = plan.model
    shown["moderation"] = None
    shown["output"] = output
    shown["parallel_tool_calls"] = body.parallel_tool_calls is not False
    shown["presence_penalty"] = 0.0
    shown["previous_response_id"] = body.previous_response_id
    shown["prompt_cache_key"] = body.prompt_cache_key
    shown["prompt_cache_retention"] = body.prompt_cache_retention
    shown["reasoning"] = _reasoning(plan)
    shown["safety_identifier"] = body.safety_identifier
    shown["service_tier"] = _service_tier(body, final)
    shown["store"] = body.store is not False
    shown["temperature"] = float(body.temperature) if body.temperature is not None else 1.0
    shown["text"] = _text(body)
    shown["tool_choice"] = _tool_choice(body)
    shown["tool_usage"] = TOOL_USAGE
    shown["tools"] = [_tool(tool) for tool in body.tools or []]
    shown["top_logprobs"] = body.top_logprobs or 0
    shown["top_p"] = float(body.top_p) if body.top_p is not None else 1.0
    shown["truncation"] = body.truncation or "disabled"
    shown["usage"] = usage_object(usage)
    shown["user"] = body.user
    shown["metadata"] = body.metadata or {}
    return shown
