"""Neutral values in the legacy completions' wire shapes: usage, and the legacy logprobs object.

Legacy logprobs list, per token, its text, its logprob, a `{token: logprob}` map of the top
alternatives, and `text_offset`: where the token starts, in characters, in the prompt followed by
the completion, so the first completion token's offset is the prompt's length even without `echo`
(a recorded gpt-3.5-turbo-instruct stream in LangStream's Azure OpenAI tests, offsets 36, 38, 39,
...; xorbitsai/inference#5245). The map holds `logprobs` entries with the sampled token first, and
just the sampled token for `logprobs: 0` ("the API will always return the logprob of the sampled
token", the reference's `logprobs`).
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence

from server.generation.logprobs import ReplyLogprobs, TokenLogprob
from server.generation.usage import Usage
from server.wire.completions_response import TextCompletionLogprobs, TextCompletionUsage


def text_usage(usage: Usage) -> TextCompletionUsage:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def legacy_logprobs(entries: Sequence[TokenLogprob], offset: int) -> TextCompletionLogprobs:
    """`entries` as the legacy object, the first token starting at character `offset`."""
    out: TextCompletionLogprobs = {"tokens": [], "token_logprobs": [], "top_logprobs": [], "text_offset": []}
    # A token may hold part of a character: offsets count the characters completed before it.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="ignore")
    for entry in entries:
        out["tokens"].append(entry.token)
        out["token_logprobs"].append(entry.logprob)
        out["top_logprobs"].append(
            {alt.token: alt.logprob for alt in entry.top} or {entry.token: entry.logprob}
        )
        out["text_offset"].append(offset)
        offset += len(decoder.decode(entry.data))
    return out


def text_logprobs(source: ReplyLogprobs, choice: int, text: str, offset: int) -> TextCompletionLogprobs:
    """The legacy object for the next piece `text` of a choice (a recording's entries, else synthesized)."""
    return legacy_logprobs(source.entries(choice, text), offset)
