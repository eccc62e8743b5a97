"""The response shapes of `POST /v1/chat/completions`: the `chat.completion` body and the
`chat.completion.chunk` stream frames.

These are TypedDicts rather than models: the hot path builds plain dicts in the key order the real
API sends and serialises them once, while the same types document the OpenAPI schema. Keys marked
`NotRequired` are absent (not null) when unused, exactly as OpenAI omits them.
"""

from __future__ import annotations

from typing import Literal, NotRequired

from typing_extensions import TypedDict

FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "function_call"]


class TopLogprob(TypedDict):
    token: str
    logprob: float
    bytes: list[int] | None


class TokenLogprob(TypedDict):
    token: str
    logprob: float
    bytes: list[int] | None
    top_logprobs: list[TopLogprob]


class ChoiceLogprobs(TypedDict):
    content: list[TokenLogprob] | None
    refusal: list[TokenLogprob] | None


class FunctionCall(TypedDict):
    name: str
    arguments: str


class ToolCall(TypedDict):
    id: str
    type: Literal["function"]
    function: FunctionCall


class ChatCompletionMessage(TypedDict):
    """The reply message (the SDK's `ChatCompletionMessage`; `AssistantMessage` is the request's)."""

    role: Literal["assistant"]
    content: str | None
    refusal: str | None
    annotations: list[dict[str, object]]
    function_call: NotRequired[FunctionCall]
    tool_calls: NotRequired[list[ToolCall]]


class Choice(TypedDict):
    index: int
    message: ChatCompletionMessage
    logprobs: ChoiceLogprobs | None
    finish_reason: FinishReason


class PromptTokensDetails(TypedDict):
    cached_tokens: int
    audio_tokens: int


class CompletionTokensDetails(TypedDict):
    reasoning_tokens: int
    audio_tokens: int
    accepted_prediction_tokens: int
    rejected_prediction_tokens: int


class Usage(TypedDict):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: PromptTokensDetails
    completion_tokens_details: CompletionTokensDetails


class ChatCompletion(TypedDict):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    service_tier: str
    system_fingerprint: str


class ChoiceDeltaFunctionCall(TypedDict, total=False):
    name: str
    arguments: str


class ChoiceDeltaToolCallFunction(TypedDict, total=False):
    name: str
    arguments: str


class ChoiceDeltaToolCall(TypedDict):
    index: int
    id: NotRequired[str]
    type: NotRequired[Literal["function"]]
    function: ChoiceDeltaToolCallFunction


class Delta(TypedDict, total=False):
    role: Literal["assistant"]
    content: str | None
    refusal: str | None
    function_call: ChoiceDeltaFunctionCall
    tool_calls: list[ChoiceDeltaToolCall]


class ChunkChoice(TypedDict):
    index: int
    delta: Delta
    logprobs: ChoiceLogprobs | None
    finish_reason: FinishReason | None


class ChatCompletionChunk(TypedDict):
    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    service_tier: str
    system_fingerprint: str
    choices: list[ChunkChoice]
    usage: NotRequired[Usage | None]
