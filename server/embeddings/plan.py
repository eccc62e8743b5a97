"""What the server decides about an embeddings request before a backend sees it: the inputs as
tokens, the vector size, the usage, and the API's refusals with its wording.

Sources for the wording (the API's answers as clients quote them):
- any malformed `input` (an empty string, an empty string in an array, an empty or over-long array,
  a value of another type): `'$.input' is invalid. Please check the API reference: ...`, param and
  code null. openai/openai-python#576, aryn-ai/sycamore#943, lightdash/lightdash#18938.
- `dimensions` on text-embedding-ada-002, even null: `This model does not support specifying
  dimensions.`, param and code null. sbintuitions/JMTEB#14, SciPhi-AI/R2R#768, Canner/WrenAI#583.
- an input over the model's window (8,192 tokens): `This model's maximum context length is 8192
  tokens, however you requested 8610 tokens (8610 in your prompt; 0 for the completion). Please
  reduce your prompt; or completion length.`, param and code null. pingcap/autoflow#265
  (text-embedding-3-small), geldata/gel#7438; the check is shared with the legacy completions
  (server/generation/admission.py).

Each model's vector size, input window and whether it takes `dimensions` come from its profile
(server/generation/profiles.py), the one table every endpoint reads.
- over 300,000 tokens in all: `Requested 453357 tokens, max 300000 tokens per request`, type and code
  `max_tokens_per_request`, param null. OpenDataBox/CrackSQL#27, assafelovic/gpt-researcher#1524.
- a chat model: 403 `You are not allowed to generate embeddings from this model`, type
  invalid_request_error. infiniflow/ragflow#1835 (gpt-4o), langchain-ai/langchain#9270.
- `dimensions` above the model's size has no quoted answer; it is worded as the typed validator
  words a maximum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.errors import APIError, invalid_request
from server.generation.admission import check_prompt_window
from server.generation.profiles import Profile
from server.generation.tokens import Tokenizer
from server.wire.embeddings import MAX_INPUTS, EmbeddingCreateRequest, EncodingFormat

MAX_REQUEST_TOKENS = 300_000
# A name no embedding profile claims (a local model): the API's limit and the SDK's default size.
MAX_INPUT_TOKENS = 8192  # "8192 tokens for all embedding models" (the SDK's `input` docstring)
DEFAULT_DIMENSIONS = 1536
# Families the API knows as chat or reasoning models, which it refuses to embed with.
CHAT_PREFIXES = ("gpt-", "chatgpt-", "o1", "o3", "o4", "codex-", "computer-use-")

INVALID_INPUT = (
    "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."
)


@dataclass(frozen=True, slots=True)
class EmbeddingPlan:
    model: str
    tokens: list[list[int]]
    texts: list[str]
    dimensions: int
    encoding: EncodingFormat
    prompt_tokens: int


def native_dimensions(profile: Profile) -> int:
    """The model's own vector size (the profile table's, server/generation/profiles.py)."""
    return profile.dimensions or DEFAULT_DIMENSIONS


def max_input_tokens(profile: Profile) -> int:
    """The most tokens one input may hold: an embedding profile's window, else the API's 8192."""
    return profile.context_window if profile.dimensions is not None else MAX_INPUT_TOKENS


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _is_tokens(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) > 0
        and all(isinstance(t, int) and not isinstance(t, bool) for t in value)
    )


def inputs_of(value: Any) -> list[str | list[int]]:
    """The inputs `input` holds, each a text or a token-id list; the API's one error otherwise."""
    if _is_text(value):
        return [value]
    if _is_tokens(value):
        return [value]
    if (
        isinstance(value, list)
        and 0 < len(value) <= MAX_INPUTS
        and (all(_is_text(item) for item in value) or all(_is_tokens(item) for item in value))
    ):
        return list(value)
    raise invalid_request(INVALID_INPUT)


def _dimensions(body: EmbeddingCreateRequest, profile: Profile) -> int:
    native = native_dimensions(profile)
    if "dimensions" not in body.model_fields_set:
        return native
    if "dimensions" in profile.refuses:
        raise invalid_request("This model does not support specifying dimensions.")
    if body.dimensions is None:
        return native
    if body.dimensions > native:
        raise invalid_request(
            f"Invalid 'dimensions': integer above maximum value. Expected a value <= {native}, "
            f"but got {body.dimensions} instead.",
            param="dimensions",
            code="integer_above_max_value",
        )
    return body.dimensions


def check_model(model: str) -> None:
    if model.startswith(CHAT_PREFIXES):
        raise APIError(403, "You are not allowed to generate embeddings from this model")


def plan_embeddings(body: EmbeddingCreateRequest, tokenizer: Tokenizer, profile: Profile) -> EmbeddingPlan:
    inputs = inputs_of(body.input)
    check_model(body.model)
    dimensions = _dimensions(body, profile)
    tokens = [tokenizer.encode(item) if isinstance(item, str) else item for item in inputs]
    total = sum(len(t) for t in tokens)
    if total > MAX_REQUEST_TOKENS:
        raise APIError(
            400,
            f"Requested {total} tokens, max {MAX_REQUEST_TOKENS} tokens per request",
            type="max_tokens_per_request",
            code="max_tokens_per_request",
        )
    window = max_input_tokens(profile)
    for item in tokens:
        check_prompt_window(window, len(item), 0)
    texts = [item if isinstance(item, str) else _decoded(item, tokenizer) for item in inputs]
    return EmbeddingPlan(body.model, tokens, texts, dimensions, body.encoding_format or "float", total)


def _decoded(tokens: list[int], tokenizer: Tokenizer) -> str:
    """A token-id input as text: the tokens the encoding has, decoded; unknown ids give nothing."""
    known = [t for t in tokens if 0 <= t < tokenizer.ordinary_tokens and tokenizer.is_ordinary(t)]
    return tokenizer.decode(known)
