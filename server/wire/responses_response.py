"""The response shapes of the Responses API: the `response` object, its output items and usage, the
stream's events, the input-item list page, and the small objects of delete, input token counts and
compaction. (Kept in one file past 400 lines: it is the one list of the stream's event shapes, and
each shape is a few declarative lines.)

TypedDicts, as chat's (server/wire/chat_response.py): the dialect builds plain dicts in the real
API's key order, and these types document them in the OpenAPI document. Keys marked `NotRequired`
are absent (not null) when unused. Names follow the official SDK's types where it has one, so that
no shape shares a component name with a request-side shape (`OutputText` is the request's).

Output items and input items are open: a backend may script any item the API has (a web search
call, an MCP call, ...), passed through as written. The shapes the server builds itself, a message,
a function call and a reasoning item, are described in full; the rest by what every item has, an
`id` and a `type`.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired

from pydantic import with_config
from pydantic.config import JsonDict
from typing_extensions import TypedDict

ResponseStatus = Literal["queued", "in_progress", "completed", "incomplete", "failed", "cancelled"]
ItemStatus = Literal["in_progress", "completed", "incomplete"]

# ---------------------------------------------------------------- output items


class ResponseOutputText(TypedDict):
    type: Literal["output_text"]
    annotations: list[dict[str, Any]]
    logprobs: list[dict[str, Any]]
    text: str


class ResponseOutputRefusal(TypedDict):
    type: Literal["refusal"]
    refusal: str


class ResponseOutputMessage(TypedDict):
    id: str
    type: Literal["message"]
    status: ItemStatus
    content: list[ResponseOutputText | ResponseOutputRefusal]
    phase: NotRequired[Literal["commentary", "final_answer"] | None]
    role: Literal["assistant"]


class ResponseFunctionToolCall(TypedDict):
    id: str
    type: Literal["function_call"]
    status: ItemStatus
    arguments: str
    """The arguments as a JSON text; `""` in `response.output_item.added`, growing with the deltas."""
    call_id: str
    name: str


class ResponseSummaryText(TypedDict):
    type: Literal["summary_text"]
    text: str


class ResponseReasoningItem(TypedDict):
    id: str
    type: Literal["reasoning"]
    content: NotRequired[list[dict[str, Any]]]
    encrypted_content: NotRequired[str | None]
    summary: list[ResponseSummaryText]
    status: NotRequired[ItemStatus]


def _another_kind(schema: JsonDict) -> None:
    """An item of a kind described above is held to that description, not let through as "other"."""
    properties = schema["properties"]
    assert isinstance(properties, dict)
    kind = properties["type"]
    assert isinstance(kind, dict)
    kind["not"] = {"enum": list(BUILT_ITEMS)}


BUILT_ITEMS = ("message", "function_call", "reasoning")


@with_config(json_schema_extra=_another_kind)
class ResponseOtherItem(TypedDict):
    """Any other item a backend scripts (`web_search_call`, `mcp_call`, `compaction`, ...), as
    written, its other keys unchecked; the server gives it an id when it has none."""

    id: str
    type: str


ResponseOutputItem = (
    ResponseOutputMessage | ResponseFunctionToolCall | ResponseReasoningItem | ResponseOtherItem
)

# ---------------------------------------------------------------- the response object


class ResponseInputTokensDetails(TypedDict):
    cache_write_tokens: int
    cached_tokens: int


class ResponseOutputTokensDetails(TypedDict):
    reasoning_tokens: int


class ResponseUsage(TypedDict):
    input_tokens: int
    input_tokens_details: ResponseInputTokensDetails
    output_tokens: int
    output_tokens_details: ResponseOutputTokensDetails
    total_tokens: int


class ResponseError(TypedDict):
    """Why a response failed (only these two keys, unlike the error envelope)."""

    code: str
    message: str


class ResponseIncompleteDetails(TypedDict):
    reason: Literal["max_output_tokens", "content_filter"]


class ResponseReasoning(TypedDict):
    effort: str | None
    summary: str | None


class ResponseTextConfig(TypedDict):
    format: dict[str, Any]
    verbosity: Literal["low", "medium", "high"]


class ResponseBilling(TypedDict):
    payer: str


class Response(TypedDict):
    """The `response` object: what create answers (whole, or `queued` in the background), what
    retrieve and cancel return, and what the stream's lifecycle events carry. Key order as sent:
    `id, object, created_at, status`, then alphabetical, `user` and `metadata` last."""

    id: str
    object: Literal["response"]
    created_at: int
    status: ResponseStatus
    background: bool
    billing: NotRequired[ResponseBilling]
    """In a body on its own (create, retrieve, cancel), not in the snapshots a stream carries."""
    completed_at: int | None
    error: ResponseError | None
    frequency_penalty: float
    incomplete_details: ResponseIncompleteDetails | None
    instructions: str | None
    max_output_tokens: int | None
    max_tool_calls: int | None
    model: str
    moderation: dict[str, Any] | None
    output: list[ResponseOutputItem]
    parallel_tool_calls: bool
    presence_penalty: float
    previous_response_id: str | None
    prompt_cache_key: str | None
    prompt_cache_retention: str | None
    reasoning: ResponseReasoning
    safety_identifier: str | None
    service_tier: str
    store: bool
    temperature: float
    text: ResponseTextConfig
    tool_choice: str | dict[str, Any]
    tool_usage: dict[str, Any]
    tools: list[dict[str, Any]]
    top_logprobs: int
    top_p: float
    truncation: Literal["auto", "disabled"]
    usage: ResponseUsage | None
    """Null until the response ends (queued, in progress, failed, cancelled)."""
    user: str | None
    metadata: dict[str, str]


# ---------------------------------------------------------------- the other routes' objects


class ResponseDeleted(TypedDict):
    """`DELETE /v1/responses/{response_id}`."""

    id: str
    object: Literal["response.deleted"]
    deleted: Literal[True]


class ResponseInputItem(TypedDict):
    """An item of a request's input as listed back: every one has an id; a message has a `role`
    and `content` parts (a string input is one user message of `input_text`); other kinds keep
    their fields as sent."""

    id: str
    type: str


class ResponseItemList(TypedDict):
    """`GET /v1/responses/{response_id}/input_items`: one page."""

    object: Literal["list"]
    data: list[ResponseInputItem]
    first_id: str | None
    last_id: str | None
    has_more: bool


class InputTokenCount(TypedDict):
    """`POST /v1/responses/input_tokens`."""

    object: Literal["response.input_tokens"]
    input_tokens: int


class CompactedResponse(TypedDict):
    """`POST /v1/responses/compact`: the user messages kept as they were, then one opaque
    `compaction` item that stands for the rest."""

    id: str
    object: Literal["response.compaction"]
    created_at: int
    output: list[ResponseInputItem]
    usage: ResponseUsage


# ---------------------------------------------------------------- stream events
# Each event is `event: <type>` and `data: <JSON>`; the JSON's keys are `type` first, then
# alphabetical. `sequence_number` counts from 0, one per event of the response.


class ResponseLifecycleEvent(TypedDict):
    """The response as it stands: first `response.created`, then `response.queued` (background)
    and `response.in_progress`, last one terminal event."""

    type: Literal[
        "response.created",
        "response.queued",
        "response.in_progress",
        "response.completed",
        "response.incomplete",
        "response.failed",
    ]
    response: Response
    sequence_number: int


class ResponseOutputItemEvent(TypedDict):
    type: Literal["response.output_item.added", "response.output_item.done"]
    item: ResponseOutputItem
    output_index: int
    sequence_number: int


class ResponseContentPartEvent(TypedDict):
    type: Literal["response.content_part.added", "response.content_part.done"]
    content_index: int
    item_id: str
    output_index: int
    part: ResponseOutputText | ResponseOutputRefusal
    sequence_number: int


class ResponseTextDeltaEvent(TypedDict):
    type: Literal["response.output_text.delta"]
    content_index: int
    delta: str
    item_id: str
    logprobs: list[dict[str, Any]]
    obfuscation: NotRequired[str]
    """Random letters and digits that bring the delta's length to a multiple of 16; absent with
    `stream_options.include_obfuscation: false`."""
    output_index: int
    sequence_number: int


class ResponseTextDoneEvent(TypedDict):
    type: Literal["response.output_text.done"]
    content_index: int
    item_id: str
    logprobs: list[dict[str, Any]]
    output_index: int
    sequence_number: int
    text: str


class ResponseRefusalDeltaEvent(TypedDict):
    type: Literal["response.refusal.delta"]
    content_index: int
    delta: str
    item_id: str
    output_index: int
    sequence_number: int


class ResponseRefusalDoneEvent(TypedDict):
    type: Literal["response.refusal.done"]
    content_index: int
    item_id: str
    output_index: int
    refusal: str
    sequence_number: int


class ResponseFunctionCallArgumentsDeltaEvent(TypedDict):
    type: Literal["response.function_call_arguments.delta"]
    delta: str
    item_id: str
    obfuscation: NotRequired[str]
    output_index: int
    sequence_number: int


class ResponseFunctionCallArgumentsDoneEvent(TypedDict):
    """No `name`, as the real API sends it (the SDK's type lists one)."""

    type: Literal["response.function_call_arguments.done"]
    arguments: str
    item_id: str
    output_index: int
    sequence_number: int


class ResponseReasoningSummaryPartEvent(TypedDict):
    type: Literal["response.reasoning_summary_part.added", "response.reasoning_summary_part.done"]
    item_id: str
    output_index: int
    part: ResponseSummaryText
    sequence_number: int
    summary_index: int


class ResponseReasoningSummaryTextDeltaEvent(TypedDict):
    type: Literal["response.reasoning_summary_text.delta"]
    delta: str
    item_id: str
    obfuscation: NotRequired[str]
    output_index: int
    sequence_number: int
    summary_index: int


class ResponseReasoningSummaryTextDoneEvent(TypedDict):
    type: Literal["response.reasoning_summary_text.done"]
    item_id: str
    output_index: int
    sequence_number: int
    summary_index: int
    text: str


class ResponseStreamError(TypedDict):
    type: str
    code: str | None
    message: str
    param: str | None


class ResponseErrorEvent(TypedDict):
    """A failure after the stream began, nested as the real API sends it (the SDK's type is flat);
    `response.failed` follows."""

    type: Literal["error"]
    error: ResponseStreamError
    sequence_number: int


ResponseStreamEvent = (
    ResponseLifecycleEvent
    | ResponseOutputItemEvent
    | ResponseContentPartEvent
    | ResponseTextDeltaEvent
    | ResponseTextDoneEvent
    | ResponseRefusalDeltaEvent
    | ResponseRefusalDoneEvent
    | ResponseFunctionCallArgumentsDeltaEvent
    | ResponseFunctionCallArgumentsDoneEvent
    | ResponseReasoningSummaryPartEvent
    | ResponseReasoningSummaryTextDeltaEvent
    | ResponseReasoningSummaryTextDoneEvent
    | ResponseErrorEvent
)

STREAM_EVENT_TYPES: tuple[str, ...] = (
    "response.created",
    "response.queued",
    "response.in_progress",
    "response.completed",
    "response.incomplete",
    "response.failed",
    "response.output_item.added",
    "response.output_item.done",
    "response.content_part.added",
    "response.content_part.done",
    "response.output_text.delta",
    "response.output_text.done",
    "response.refusal.delta",
    "response.refusal.done",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.reasoning_summary_part.added",
    "response.reasoning_summary_part.done",
    "response.reasoning_summary_text.delta",
    "response.reasoning_summary_text.done",
    "error",
)
