"""The request bodies of the Responses API: `POST /v1/responses`, `/v1/responses/input_tokens` and
`/v1/responses/compact`, as the OpenAI API accepts them.

Strict like chat's (no coercion, unknown keys kept for the route to reject or log), with names, types
and ranges from the current `openai` SDK's `response_create_params`. What the server reads is modelled
closely: messages and their parts, function calls and their outputs, reasoning items, item
references, function and custom tools, tool choice, text format. Hosted tools (web search, file
search, code interpreter, MCP, ...) and their call items are accepted as sent (`Open`): a backend may
script them, but nothing here interprets them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from server.wire.base import JSONObject, Open, Wire, not_null
from server.wire.responses_input import InputItem

# ---------------------------------------------------------------- tools


class FunctionTool(Wire):
    type: Literal["function"]
    name: str
    parameters: JSONObject | None = None
    strict: bool | None = None
    description: str | None = None
    defer_loading: bool | None = None


class CustomTool(Wire):
    type: Literal["custom"]
    name: str
    description: str | None = None
    format: JSONObject | None = None
    defer_loading: bool | None = None


HOSTED_TOOLS = (
    "file_search",
    "computer",
    "computer_use",
    "computer_use_preview",
    "web_search",
    "web_search_2025_08_26",
    "web_search_preview",
    "web_search_preview_2025_03_11",
    "mcp",
    "code_interpreter",
    "image_generation",
    "local_shell",
    "shell",
    "namespace",
    "tool_search",
    "apply_patch",
)


class HostedTool(Open):
    type: Literal[HOSTED_TOOLS]  # type: ignore[valid-type]  # a literal of the tuple's strings


Tool = Annotated[FunctionTool | CustomTool | HostedTool, Field(discriminator="type")]


class NamedFunctionChoice(Wire):
    type: Literal["function"]
    name: str


class NamedCustomChoice(Wire):
    type: Literal["custom"]
    name: str


class AllowedToolsChoice(Wire):
    type: Literal["allowed_tools"]
    mode: Literal["auto", "required"]
    tools: list[JSONObject]

    def function_names(self) -> set[str]:
        """The names of the function tools listed (entries are free-form objects)."""
        return {
            entry["name"]
            for entry in self.tools
            if entry.get("type") == "function" and isinstance(entry.get("name"), str)
        }


class HostedToolChoice(Open):
    type: Literal[(*HOSTED_TOOLS, "programmatic_tool_calling")]  # type: ignore[valid-type]  # literal of strings


ToolChoice = (
    Literal["none", "auto", "required"]
    | Annotated[
        NamedFunctionChoice | NamedCustomChoice | AllowedToolsChoice | HostedToolChoice,
        Field(discriminator="type"),
    ]
)

# ---------------------------------------------------------------- text, reasoning and options


class TextFormatText(Wire):
    type: Literal["text"]


class TextFormatJSONObject(Wire):
    type: Literal["json_object"]


class TextFormatJSONSchema(Wire):
    type: Literal["json_schema"]
    name: str = Field(max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")
    schema_: JSONObject = Field(alias="schema")
    description: str | None = None
    strict: bool | None = None


TextFormat = Annotated[
    TextFormatText | TextFormatJSONObject | TextFormatJSONSchema, Field(discriminator="type")
]


class TextConfig(Wire):
    format: TextFormat | None = None
    verbosity: Literal["low", "medium", "high"] | None = None


class ReasoningConfig(Wire):
    effort: Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"] | None = None
    summary: Literal["auto", "concise", "detailed"] | None = None
    generate_summary: Literal["auto", "concise", "detailed"] | None = None
    context: Literal["auto", "current_turn", "all_turns"] | None = None
    mode: Literal["standard", "pro"] | None = None


class StreamOptions(Wire):
    include_obfuscation: bool | None = None


class ConversationRef(Wire):
    id: str


class PromptCacheOptions(Wire):
    mode: Literal["implicit", "explicit"] | None = None
    ttl: Literal["30m", "12h"] | None = None
    comparison_response_id: str | None = None
    prewarm: bool | None = None


INCLUDABLE = Literal[
    "web_search_call.action.sources",
    "web_search_call.results",
    "code_interpreter_call.outputs",
    "computer_call_output.output.image_url",
    "file_search_call.results",
    "message.input_image.image_url",
    "message.output_text.logprobs",
    "reasoning.encrypted_content",
]

# ---------------------------------------------------------------- the bodies


class ResponseInputs(Wire):
    """What every Responses body may say about its input and how it is read."""

    model: str | None = None
    input: str | list[InputItem] | None = None
    instructions: str | None = None
    previous_response_id: str | None = None
    conversation: str | ConversationRef | None = None
    tools: Annotated[list[Tool] | None, not_null("list_type")] = None
    # null means not given: the API answered usage for `tool_choice: null` beside function tools
    # (activeagents/activeagent, gpt-4.1), as it does on chat.
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    text: TextConfig | None = None
    reasoning: ReasoningConfig | None = None
    truncation: Literal["auto", "disabled"] | None = None


PROMPT_STAND_IN_MODEL = "gpt-4o"
"""The model a request is served as when it names none: a stored prompt's (`prompt: {"id": ...}`),
which we do not have, and the input-tokens endpoint's. Our choice: the recordings show the API
taking a prompt without `model` (DataDog/dd-trace-py, openai/openai-dotnet), not which model it ran."""


class ResponseCreateRequest(ResponseInputs):
    model: str = Field(min_length=1)  # required here unless a stored prompt names it, optional elsewhere

    @model_validator(mode="before")
    @classmethod
    def _prompt_names_the_model(cls, data: Any) -> Any:
        """A stored prompt carries its model, so a request that uses one may leave `model` out (the
        API answered such requests with usage); without either, "you must provide a model parameter"."""
        if isinstance(data, dict) and "model" not in data and isinstance(data.get("prompt"), dict):
            return {**data, "model": PROMPT_STAND_IN_MODEL}
        return data

    background: bool | None = None
    context_management: list[JSONObject] | None = Field(default=None, min_length=1)
    include: list[INCLUDABLE] | None = None
    max_output_tokens: int | None = Field(default=None, ge=16)
    max_tool_calls: int | None = Field(default=None, ge=1)
    metadata: dict[str, str] | None = None
    moderation: JSONObject | None = None
    prompt: JSONObject | None = None
    prompt_cache_key: str | None = None
    prompt_cache_options: PromptCacheOptions | None = None
    prompt_cache_retention: Literal["in_memory", "24h"] | None = None
    safety_identifier: str | None = Field(default=None, max_length=64)
    service_tier: Literal["auto", "default", "flex", "scale", "priority", "fast"] | None = None
    store: bool | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    top_p: float | None = Field(default=None, ge=0, le=1)
    user: str | None = None


class InputTokensRequest(ResponseInputs):
    """`POST /v1/responses/input_tokens`: the same input, counted instead of answered."""

    personality: str | None = None


class CompactRequest(Wire):
    """`POST /v1/responses/compact`."""

    model: str = Field(min_length=1)
    input: str | list[InputItem] | None = None
    instructions: str | None = None
    previous_response_id: str | None = None
    prompt_cache_key: str | None = None
    prompt_cache_options: PromptCacheOptions | None = None
    prompt_cache_retention: Literal["in_memory", "24h"] | None = None
    service_tier: Literal["auto", "default", "flex", "scale", "priority", "fast"] | None = None
