"""The input of a Responses API request: content parts and input items, as the API accepts them.

Messages (with string or part content), function calls and their outputs, reasoning items, custom
tool calls and item references are modelled closely; hosted tools' items are accepted as sent.
Imports nothing of ours but the wire base.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from server.wire.base import JSONObject, Open, Wire

# ---------------------------------------------------------------- content parts


class InputText(Wire):
    type: Literal["input_text"]
    text: str
    # Marks the end of a cacheable prefix (`{"mode": "explicit"}` in recorded traffic); the shape is
    # unpublished, so any object passes, as the real API accepted it.
    prompt_cache_breakpoint: JSONObject | None = None


class InputImage(Wire):
    type: Literal["input_image"]
    detail: Literal["low", "high", "auto", "original"] | None = None
    image_url: str | None = None
    file_id: str | None = None


class InputFile(Wire):
    type: Literal["input_file"]
    file_data: str | None = None
    file_id: str | None = None
    file_url: str | None = None
    filename: str | None = None
    detail: Literal["low", "high", "auto"] | None = None


class InputAudio(Open):
    type: Literal["input_audio"]


class OutputText(Wire):
    type: Literal["output_text"]
    text: str
    annotations: list[JSONObject] | None = None
    logprobs: list[JSONObject] | None = None


class Refusal(Wire):
    type: Literal["refusal"]
    refusal: str


InputPart = Annotated[InputText | InputImage | InputFile | InputAudio, Field(discriminator="type")]
MessagePart = Annotated[
    InputText | InputImage | InputFile | InputAudio | OutputText | Refusal, Field(discriminator="type")
]

# ---------------------------------------------------------------- input items

ROLES = ("user", "assistant", "system", "developer")


class MessageItem(Wire):
    """A message; `type` may be left out (the SDK's "easy" input message)."""

    type: Literal["message"] = "message"
    role: Literal["user", "assistant", "system", "developer"]
    content: str | list[MessagePart]
    id: str | None = None
    status: Literal["in_progress", "completed", "incomplete"] | None = None
    phase: Literal["commentary", "final_answer"] | None = None


class FunctionCallItem(Wire):
    type: Literal["function_call"]
    call_id: str
    name: str
    arguments: str
    id: str | None = None
    status: Literal["in_progress", "completed", "incomplete"] | None = None
    namespace: str | None = None


class FunctionCallOutputItem(Wire):
    type: Literal["function_call_output"]
    call_id: str
    output: str | list[InputPart]
    id: str | None = None
    status: Literal["in_progress", "completed", "incomplete"] | None = None


class SummaryText(Wire):
    type: Literal["summary_text"]
    text: str


class ReasoningItem(Wire):
    type: Literal["reasoning"]
    id: str | None = None
    summary: list[SummaryText]
    content: list[JSONObject] | None = None
    encrypted_content: str | None = None
    status: Literal["in_progress", "completed", "incomplete"] | None = None


class CustomToolCallItem(Wire):
    type: Literal["custom_tool_call"]
    call_id: str
    name: str
    input: str
    id: str | None = None
    # The output item sent back as it came carries its status; the API answered usage for it
    # (langchain-ai/langchain, gpt-5), as for a function call's.
    status: Literal["in_progress", "completed", "incomplete"] | None = None


class CustomToolCallOutputItem(Wire):
    type: Literal["custom_tool_call_output"]
    call_id: str
    output: str | list[InputPart]
    id: str | None = None


class ItemReference(Wire):
    type: Literal["item_reference"] | None = "item_reference"
    id: str


HOSTED_ITEMS = (
    "file_search_call",
    "computer_call",
    "computer_call_output",
    "web_search_call",
    "tool_search_call",
    "tool_search_output",
    "additional_tools",
    "configuration_update",
    "compaction",
    "compaction_trigger",
    "image_generation_call",
    "code_interpreter_call",
    "local_shell_call",
    "local_shell_call_output",
    "shell_call",
    "shell_call_output",
    "apply_patch_call",
    "apply_patch_call_output",
    "mcp_list_tools",
    "mcp_approval_request",
    "mcp_approval_response",
    "mcp_call",
    "program",
    "program_output",
)


class HostedItem(Open):
    """An item of a hosted tool (or another kind the server passes by): kept as sent."""

    type: Literal[HOSTED_ITEMS]  # type: ignore[valid-type]  # a literal of the tuple's strings
    id: str | None = None


def _item_tag(value: Any) -> str:
    """Items are told apart by `type`; a message may omit it, and so may an item reference."""
    if isinstance(value, dict):
        kind = value.get("type")
        if kind is None:
            return "item_reference" if "role" not in value and "id" in value else "message"
        return kind if isinstance(kind, str) and kind in ITEM_TAGS else "hosted"
    if isinstance(
        value, ItemReference
    ):  # read again (a model copied into another body): its `type` may be None
        return "item_reference"
    kind = getattr(value, "type", "message")
    return kind if kind in ITEM_TAGS else "hosted"


ITEM_TAGS = frozenset(
    {
        "message",
        "function_call",
        "function_call_output",
        "reasoning",
        "custom_tool_call",
        "custom_tool_call_output",
        "item_reference",
    }
)

InputItem = Annotated[
    Annotated[MessageItem, Tag("message")]
    | Annotated[FunctionCallItem, Tag("function_call")]
    | Annotated[FunctionCallOutputItem, Tag("function_call_output")]
    | Annotated[ReasoningItem, Tag("reasoning")]
    | Annotated[CustomToolCallItem, Tag("custom_tool_call")]
    | Annotated[CustomToolCallOutputItem, Tag("custom_tool_call_output")]
    | Annotated[ItemReference, Tag("item_reference")]
    | Annotated[HostedItem, Tag("hosted")],
    Discriminator(_item_tag),
]
