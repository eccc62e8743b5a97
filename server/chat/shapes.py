"""Neutral values in Chat Completions' wire shapes: usage and logprobs."""

from __future__ import annotations

from collections.abc import Sequence

from server.generation.logprobs import TokenLogprob
from server.generation.usage import Usage
from server.wire.chat_response import TokenLogprob as WireTokenLogprob
from server.wire.chat_response import Usage as WireUsage


def chat_usage(usage: Usage) -> WireUsage:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": usage.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat_logprobs(entries: Sequence[TokenLogprob]) -> list[WireTokenLogprob]:
    return [
        {
            "token": entry.token,
            "logprob": entry.logprob,
            "bytes": list(entry.data),
            "top_logprobs": [
                {"token": alt.token, "logprob": alt.logprob, "bytes": list(alt.data)} for alt in entry.top
            ],
        }
        for entry in entries
    ]
