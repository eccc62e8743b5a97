"""The request body of `POST /v1/chat/completions`, as the OpenAI API accepts it.

Every model is strict (no string-to-number coercion, as the real API) and keeps unknown keys in
`model_extra`, so the route decides whether an unknown parameter is an error or a logged curiosity.
Field names, types and ranges follow the current `openai` SDK's `completion_create_params`.

Unknown keys (`Wire.unknown_keys`). The API rejects them at the top level ("Unknown parameter:
'reasoning'.", teabranch/open-responses-server#41) but drops them unread inside the messages and the
function definitions: recorded requests it answered with usage carry `type`/`charset` on system,
user and assistant messages (activeagents/activeagent), `additional_properties` on system and user
text parts (Arize-ai/openinference), the SDK's `parsed` on an assistant message with `index` and
`parsed_arguments` on its tool calls (jackmpcollins/magentic; the 400 for that `index` in
labring/FastGPT#1253 was a passing one, gone within the hour per songquanpeng/one-api#1319), and
`required`, `returns`, `requires_confirmation` beside a function's `parameters` (sublayerapp/sublayer,
activeagents/activeagent, Arize-ai/openinference). Their prompt_tokens match a count that leaves
those keys out. Still rejected, as recorded: a developer message's parts ("Unknown parameter:
'messages[0].content[0].cache_control'" for gpt-5.x, where a system message's was accepted) and
the objects inside media parts ("Unknown parameter: 'messages[1].content[1].file.data'", gpt-4o,
from pydantic-ai). Tool and function messages have no recording either way; they follow the other
non-developer roles (our choice).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from server.wire.base import JSONObject, Wire, not_null, stop_sequences

# ---------------------------------------------------------------- content parts


class TextPart(Wire):
    type: Literal["text"]
    text: str
    # Marks the end of a cacheable prefix (`{"mode": "explicit"}` in recorded traffic); the shape is
    # unpublished, so any object passes, as the real API accepted it.
    prompt_cache_breakpoint: JSONObject | None = None


class ImageURL(Wire):
    unknown_keys = "reject"
    url: str
    detail: Literal["auto", "low", "high"] | None = None


class ImagePart(Wire):
    type: Literal["image_url"]
    image_url: ImageURL

    @model_validator(mode="before")
    @classmethod
    def _bare_url(cls, data: Any) -> Any:
        """`image_url` as a bare URL string, the vision preview's first documented form, reads as
        `{"url": ...}`: the API answered usage for it (DataDog/dd-trace-py, gpt-4-vision-preview).
        Whether today's models still take it is not recorded; we take it for every model (our
        choice), and publish only the object form."""
        if isinstance(data, dict) and isinstance(data.get("image_url"), str):
            return {**data, "image_url": {"url": data["image_url"]}}
        return data


class InputAudio(Wire):
    unknown_keys = "reject"
    data: str
    format: Literal["wav", "mp3"]


class AudioPart(Wire):
    type: Literal["input_audio"]
    input_audio: InputAudio


class FileRef(Wire):
    unknown_keys = "reject"
    file_data: str | None = None
    file_id: str | None = None
    filename: str | None = None


class FilePart(Wire):
    type: Literal["file"]
    file: FileRef


class RefusalPart(Wire):
    type: Literal["refusal"]
    refusal: str


UserPart = Annotated[TextPart | ImagePart | AudioPart | FilePart, Field(discriminator="type")]
AssistantPart = Annotated[TextPart | RefusalPart, Field(discriminator="type")]

# ---------------------------------------------------------------- messages


class FunctionCallRequest(Wire):
    name: str
    arguments: str


class ToolCallFunction(Wire):
    name: str
    arguments: str


class FunctionToolCall(Wire):
    # A streamed delta's `index` sent back stays unknown: the API answers "Unknown parameter:
    # 'messages[2].tool_calls[0].index'." (labring/FastGPT#1253, against api.openai.com).
    id: str
    type: Literal["function"]
    function: ToolCallFunction


class CustomToolCallBody(Wire):
    name: str
    input: str


class CustomToolCall(Wire):
    id: str
    type: Literal["custom"]
    custom: CustomToolCallBody


ToolCall = Annotated[FunctionToolCall | CustomToolCall, Field(discriminator="type")]


class AudioRef(Wire):
    id: str


class SystemMessage(Wire):
    unknown_keys = "ignore"
    role: Literal["system"]
    content: str | list[TextPart]
    name: str | None = None


class DeveloperMessage(Wire):
    unknown_keys = "reject"  # its parts too: the one recorded 400 inside a message's parts
    role: Literal["developer"]
    content: str | list[TextPart]
    name: str | None = None


class UserMessage(Wire):
    unknown_keys = "ignore"
    role: Literal["user"]
    content: str | list[UserPart]
    name: str | None = None


class AssistantMessage(Wire):
    unknown_keys = "ignore"
    role: Literal["assistant"]
    content: str | list[AssistantPart] | None = None
    refusal: str | None = None
    # Sent back by clients that append the SDK's response message to the history (the documented
    # agent-loop idiom); the API accepts and ignores it.
    annotations: list[JSONObject] | None = None
    name: str | None = None
    audio: AudioRef | None = None
    function_call: FunctionCallRequest | None = None
    tool_calls: list[ToolCall] | None = Field(default=None, min_length=1)


class ToolMessage(Wire):
    unknown_keys = "ignore"
    role: Literal["tool"]
    content: str | list[TextPart]
    tool_call_id: str
    # Not in the published schema, but the API accepts it: OpenAI's function-calling cookbook
    # (How_to_call_functions_with_chat_models.ipynb) sends `{"role": "tool", "tool_call_id", "name",
    # "content"}` and shows the model's answer, and instructor's retry loop sends it. Nothing reads it.
    name: str | None = None


class FunctionMessage(Wire):
    unknown_keys = "ignore"
    role: Literal["function"]
    content: str | None
    name: str


Message = Annotated[
    SystemMessage | DeveloperMessage | UserMessage | AssistantMessage | ToolMessage | FunctionMessage,
    Field(discriminator="role"),
]
ROLES = ("system", "assistant", "user", "function", "tool", "developer")

# ---------------------------------------------------------------- tools and functions


class FunctionDefinition(Wire):
    unknown_keys = "ignore"
    name: str
    description: str | None = None
    parameters: JSONObject | None = None
    strict: bool | None = None


class FunctionTool(Wire):
    type: Literal["function"]
    function: FunctionDefinition


class CustomToolFormatText(Wire):
    type: Literal["text"]


class Grammar(Wire):
    definition: str
    syntax: Literal["lark", "regex"]


class CustomToolFormatGrammar(Wire):
    type: Literal["grammar"]
    grammar: Grammar


class CustomToolDefinition(Wire):
    name: str
    description: str | None = None
    format: Annotated[CustomToolFormatText | CustomToolFormatGrammar, Field(discriminator="type")] | None = (
        None
    )


class CustomTool(Wire):
    type: Literal["custom"]
    custom: CustomToolDefinition


Tool = Annotated[FunctionTool | CustomTool, Field(discriminator="type")]


class NamedFunction(Wire):
    name: str


class NamedFunctionChoice(Wire):
    type: Literal["function"]
    function: NamedFunction


class NamedCustomChoice(Wire):
    type: Literal["custom"]
    custom: NamedFunction


class AllowedTools(Wire):
    mode: Literal["auto", "required"]
    tools: list[JSONObject]

    def function_names(self) -> set[str]:
        """The names of the function tools listed (entries are free-form objects)."""
        names: set[str] = set()
        for entry in self.tools:
            function = entry.get("function")
            if isinstance(function, dict) and isinstance(function.get("name"), str):
                names.add(function["name"])
        return names


class AllowedToolsChoice(Wire):
    type: Literal["allowed_tools"]
    allowed_tools: AllowedTools


ToolChoice = (
    Literal["none", "auto", "required"]
    | Annotated[NamedFunctionChoice | NamedCustomChoice | AllowedToolsChoice, Field(discriminator="type")]
)
FunctionCallChoice = Literal["none", "auto"] | NamedFunction

# ---------------------------------------------------------------- response format and options


class TextFormat(Wire):
    type: Literal["text"]


class JSONObjectFormat(Wire):
    type: Literal["json_object"]


class JSONSchemaSpec(Wire):
    name: str = Field(max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")
    description: str | None = None
    schema_: JSONObject | None = Field(default=None, alias="schema")
    strict: bool | None = None


class JSONSchemaFormat(Wire):
    type: Literal["json_schema"]
    json_schema: JSONSchemaSpec


ResponseFormat = Annotated[TextFormat | JSONObjectFormat | JSONSchemaFormat, Field(discriminator="type")]


class StreamOptions(Wire):
    include_usage: bool | None = None
    include_obfuscation: bool | None = None


class AudioOutput(Wire):
    format: Literal["wav", "aac", "mp3", "flac", "opus", "pcm16"]
    voice: str | AudioRef


class Prediction(Wire):
    type: Literal["content"]
    content: str | list[TextPart]


class ApproximateLocation(Wire):
    city: str | None = None
    country: str | None = None
    region: str | None = None
    timezone: str | None = None


class UserLocation(Wire):
    type: Literal["approximate"]
    approximate: ApproximateLocation


class WebSearchOptions(Wire):
    search_context_size: Literal["low", "medium", "high"] | None = None
    user_location: UserLocation | None = None


class PromptCacheOptions(Wire):
    mode: Literal["implicit", "explicit"] | None = None
    ttl: Literal["30m"] | None = None


# ---------------------------------------------------------------- the request


class ChatCompletionRequest(Wire):
    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)

    audio: AudioOutput | None = None
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    function_call: Annotated[FunctionCallChoice | None, not_null("model_type")] = None
    functions: Annotated[list[FunctionDefinition] | None, not_null("list_type")] = Field(
        default=None, min_length=1, max_length=128
    )
    logit_bias: dict[str, int] | None = None
    logprobs: bool | None = None
    max_completion_tokens: int | None = Field(default=None, ge=1)
    max_tokens: int | None = Field(default=None, ge=1)
    metadata: dict[str, str] | None = None
    modalities: list[Literal["text", "audio"]] | None = None
    moderation: JSONObject | None = None
    n: int | None = Field(default=None, ge=1, le=128)
    parallel_tool_calls: Annotated[bool | None, not_null("bool_type")] = None
    prediction: Prediction | None = None
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    prompt_cache_key: str | None = None
    prompt_cache_options: PromptCacheOptions | None = None
    prompt_cache_retention: Literal["in_memory", "24h"] | None = None
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"] | None = None
    # `null` means not given for these two: the API answered usage for `response_format: null`
    # (Arize-ai/openinference, gpt-4o) and `tool_choice: null` beside tools (activeagents/activeagent,
    # gpt-4o-mini and gpt-4.1). The other `not_null` fields have no such recording and stay refused.
    response_format: ResponseFormat | None = None
    safety_identifier: str | None = None
    seed: int | None = None
    service_tier: Literal["auto", "default", "flex", "scale", "priority", "fast"] | None = None
    stop: str | Annotated[list[str], Field(max_length=4)] | None = None
    store: bool | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    tool_choice: ToolChoice | None = None  # null: not given (see response_format)
    tools: list[Tool] | None = Field(  # null accepted: recorded traffic (crewAI) sends it
        default=None, min_length=1, max_length=128
    )
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    top_p: float | None = Field(default=None, ge=0, le=1)
    user: Annotated[str | None, not_null("string_type")] = None
    verbosity: Literal["low", "medium", "high"] | None = None
    web_search_options: Annotated[WebSearchOptions | None, not_null("model_type")] = None

    @property
    def function_tools(self) -> list[FunctionDefinition]:
        """The function definitions among `tools` (custom tools are not functions)."""
        return [tool.function for tool in self.tools or [] if isinstance(tool, FunctionTool)]

    @property
    def stop_sequences(self) -> tuple[str, ...]:
        """The sequences that cut the reply: `stop` as one or a list, empty ones left out."""
        return stop_sequences(self.stop)

    @property
    def completion_limit(self) -> int | None:
        """`max_completion_tokens` wins over the deprecated `max_tokens`."""
        return self.max_completion_tokens if self.max_completion_tokens is not None else self.max_tokens
