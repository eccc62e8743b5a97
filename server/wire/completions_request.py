"""The request body of `POST /v1/completions` (the legacy text completions), as the API accepts it.

Strict like every request shape (server/wire/base.py). Field names, types, ranges and nullability
follow the `openai` SDK's `completion_create_params` and openai-openapi's `CreateCompletionRequest`:
every parameter but `user` may be `null`, `prompt` is required (and may be null: the model then starts
a new document), `max_tokens` defaults to 16 and may be 0, `logprobs` is an integer 0..5.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from server.wire.base import Wire, not_null, stop_sequences
from server.wire.chat_request import StreamOptions

DEFAULT_MAX_TOKENS = 16
"""The API's default `max_tokens` here (chat has no default limit)."""

TokenArray = Annotated[list[int], Field(min_length=1)]
Prompt = (
    str
    | Annotated[list[str], Field(min_length=1)]
    | TokenArray
    | Annotated[list[TokenArray], Field(min_length=1)]
)


class CompletionRequest(Wire):
    model: str = Field(min_length=1)
    prompt: Prompt | None

    best_of: int | None = Field(default=None, ge=0, le=20)
    echo: bool | None = None
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    logit_bias: dict[str, int] | None = None
    logprobs: int | None = Field(default=None, ge=0, le=5)
    max_tokens: int | None = Field(default=None, ge=0)
    n: int | None = Field(default=None, ge=1, le=128)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    seed: int | None = None
    stop: str | Annotated[list[str], Field(max_length=4)] | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    suffix: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    user: Annotated[str | None, not_null("string_type")] = None

    @property
    def stop_sequences(self) -> tuple[str, ...]:
        """The sequences that cut the reply: `stop` as one or a list, empty ones left out."""
        return stop_sequences(self.stop)

    @property
    def completion_limit(self) -> int:
        return DEFAULT_MAX_TOKENS if self.max_tokens is None else self.max_tokens
