"""The response shapes of `POST /v1/completions`: the `text_completion` object, which is also every
frame of its stream (the SDK's `Completion`: "both the streamed and non-streamed response objects
share the same shape").

TypedDicts, as server/wire/chat_response.py, in the key order the API sends. A body is id, object,
created, model, choices, usage; a stream chunk is id, object, created, choices, model, and the
usage chunk (with `stream_options.include_usage`) id, object, created, model, usage, `choices: []`
(recorded chunks of gpt-3.5-turbo-instruct: vercel/ai's completion-model tests, created 1711363440;
LangStream's Azure OpenAI wiremock stream).
"""

from __future__ import annotations

from typing import Literal, NotRequired

from typing_extensions import TypedDict

TextFinishReason = Literal["stop", "length", "content_filter"]


class TextCompletionLogprobs(TypedDict):
    """The legacy logprobs object: per token its text, logprob, the top alternatives by text, and
    its character offset in the prompt followed by the completion."""

    tokens: list[str]
    token_logprobs: list[float | None]
    top_logprobs: list[dict[str, float] | None]
    text_offset: list[int]


class TextCompletionChoice(TypedDict):
    text: str
    index: int
    logprobs: TextCompletionLogprobs | None
    finish_reason: TextFinishReason | None


class TextCompletionUsage(TypedDict):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class TextCompletion(TypedDict):
    id: str
    object: Literal["text_completion"]
    created: int
    model: str
    choices: list[TextCompletionChoice]
    usage: NotRequired[TextCompletionUsage]
