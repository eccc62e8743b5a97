"""`POST /v1/embeddings`: the request body and the response shapes.

Field names and types follow the `openai` SDK's `embedding_create_params` and
`create_embedding_response`. `input` is taken as any JSON value here and checked by the endpoint
(server/embeddings/plan.py), because the API answers every malformed `input` with one message of
its own rather than the typed validator's; the schema it publishes is the API's union.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, WithJsonSchema
from typing_extensions import TypedDict

from server.wire.base import Wire, not_null

# "any array must be 2048 dimensions or less" (the SDK's `input` docstring): inputs per request.
MAX_INPUTS = 2048

_TEXT: dict[str, Any] = {"type": "string", "minLength": 1}
_TOKENS: dict[str, Any] = {
    "type": "array",
    "items": {"type": "integer"},
    "minItems": 1,
    "maxItems": MAX_INPUTS,
}
INPUT_SCHEMA: dict[str, Any] = {
    "description": "The text to embed: a string, an array of strings, an array of token ids, or an "
    "array of token-id arrays. No input may be empty; at most 2048 inputs.",
    "anyOf": [
        _TEXT,
        {"type": "array", "items": _TEXT, "minItems": 1, "maxItems": MAX_INPUTS},
        _TOKENS,
        {"type": "array", "items": _TOKENS, "minItems": 1, "maxItems": MAX_INPUTS},
    ],
}

EncodingFormat = Literal["float", "base64"]


class EmbeddingCreateRequest(Wire):
    input: Annotated[Any, WithJsonSchema(INPUT_SCHEMA)]
    model: Annotated[str, not_null("string_type")]
    dimensions: Annotated[int | None, Field(ge=1)] = None
    """Only `text-embedding-3` and later models take it; `text-embedding-ada-002` refuses it, even null."""
    encoding_format: Annotated[EncodingFormat | None, not_null("literal_error")] = None
    user: Annotated[str | None, not_null("string_type")] = None


# ---------------------------------------------------------------- response


class Embedding(TypedDict):
    object: Literal["embedding"]
    index: int
    embedding: list[float] | str
    """Floats, or with `encoding_format: base64` the little-endian float32 bytes in base64."""


class EmbeddingUsage(TypedDict):
    prompt_tokens: int
    total_tokens: int


class CreateEmbeddingResponse(TypedDict):
    object: Literal["list"]
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage
