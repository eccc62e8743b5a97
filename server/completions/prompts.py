"""The prompts of a completions request as text and tokens.

`prompt` is a string, strings, one token array or token arrays: each string or token array is one
prompt, answered by its own `n` choices. Token arrays are decoded to text (the backend and `echo`
see text) and counted as sent; strings are counted with the model's encoding. A null prompt is the
document separator `<|endoftext|>`, one token, as the reference describes ("if a prompt is not
specified the model will generate as if from the beginning of a new document"). `suffix` is text
the model reads after the gap it fills, so its tokens are prompt tokens too.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.errors import invalid_request
from server.generation.tokens import Tokenizer
from server.wire.completions_request import CompletionRequest

END_OF_TEXT = "<|endoftext|>"


@dataclass(frozen=True, slots=True)
class Prompt:
    text: str
    tokens: int


def read_prompts(body: CompletionRequest, tokenizer: Tokenizer) -> list[Prompt]:
    prompt = body.prompt
    suffix = tokenizer.count(body.suffix or "")
    if prompt is None:
        return [Prompt(END_OF_TEXT, 1 + suffix)]
    if isinstance(prompt, str):
        return [Prompt(prompt, tokenizer.count(prompt) + suffix)]
    if all(isinstance(item, str) for item in prompt):
        return [Prompt(text, tokenizer.count(text) + suffix) for text in prompt if isinstance(text, str)]
    if all(isinstance(item, int) for item in prompt):
        return [_decoded([t for t in prompt if isinstance(t, int)], tokenizer, suffix)]
    return [_decoded(tokens, tokenizer, suffix) for tokens in prompt if isinstance(tokens, list)]


def _decoded(tokens: list[int], tokenizer: Tokenizer, suffix: int) -> Prompt:
    try:
        return Prompt(tokenizer.decode(tokens), len(tokens) + suffix)
    except (KeyError, ValueError, OverflowError):
        pass  # an id outside the vocabulary (or an unassigned one inside it): find it
    for token in tokens:
        try:
            tokenizer.decode([token])
        except (KeyError, ValueError, OverflowError):
            # Our wording: the API's for this case was not found.
            raise invalid_request(
                f"Invalid token in prompt: {token}. Token ids must be between 0 and "
                f"{tokenizer.vocabulary_size - 1} for this model.",
                param="prompt",
                code="invalid_value",
            ) from None
    raise AssertionError("unreachable: every token decoded alone but not together")
