"""What a model's name says about it: its prompt family, whether it reasons (its profile says,
server/generation/profiles.py), and which endpoint serves it (chat models and the legacy completions models each answer on one
endpoint only).

One table for every check on a model name. The family is how the model's prompt is written (and so
counted, server/generation/counting_rules.py): `cl100k` for gpt-4 and gpt-3.5, `reasoning` for the
models that think before they answer in the newer format (`o-series` for o1 and o3-mini, whose
chat prompt lacks the gpt-5 family's hidden tool preamble; `o4` for o3, o4-mini and later, which lack
it too but write the tool-call history the gpt-5 way), `gpt-4o` for the rest (gpt-4o, gpt-4.1,
chatgpt-4o, gpt-5-chat, unknown names). Reasoning (the `reasoning` field of a response) is a wider
set: o1-mini reasons, but its prompt is written the gpt-4o way (it primes the reply with 3 tokens;
fit, crewAI test_llm_call_when_stop_is_unsupported).
"""

from __future__ import annotations

import re
from typing import Literal

from server.errors import APIError
from server.generation.profiles import builtin_profile

Family = Literal["cl100k", "gpt-4o", "reasoning", "o-series", "o4"]

_CL100K = re.compile(r"^(gpt-4($|-(?!o))|gpt-3\.5)")
_O_SERIES = re.compile(r"^(ft:)?o\d")
# o3 and o4-mini (released together in April 2025) and later o-series models: their chat history is
# written the gpt-5 way (fit: o4-mini; o3 grouped with it by release, a choice without a recording).
_O4 = re.compile(r"^(ft:)?(o3(?!-mini)|o[4-9])")
_REASONING_FORMAT = "o1-mini"  # the one reasoning model whose prompt keeps the gpt-4o format


def family(model: str) -> Family:
    if _CL100K.match(model):
        return "cl100k"
    if reasons(model) and not model.startswith(_REASONING_FORMAT):
        if _O4.match(model):
            return "o4"
        return "o-series" if _O_SERIES.match(model) else "reasoning"
    return "gpt-4o"


def reasons(model: str) -> bool:
    """o1, o3, o4-mini, ... and the gpt-5 family reason before they answer; `gpt-5-chat-*` does not."""
    return builtin_profile(model).reasoning


# The models `POST /v1/completions` serves (the SDK's `CompletionCreateParams.model` literals), their
# dated snapshots and fine-tunes (`ft:davinci-002:org::id`), and the retired GPT-3 names, which a
# config may still route.
_COMPLETIONS = re.compile(
    r"^(ft:)?(gpt-3\.5-turbo-instruct|davinci-002|babbage-002|text-(davinci|curie|babbage|ada)-\d{3})([-:]|$)"
    r"|^(davinci|curie|babbage|ada)(:|$)"
)
# OpenAI's chat families. Any other name (a config's own, `my-model`) is served on both endpoints.
_CHAT = re.compile(r"^(ft:)?(gpt-|chatgpt-|o\d)")


def completions_model(model: str) -> bool:
    """A model only the legacy `POST /v1/completions` serves."""
    return _COMPLETIONS.match(model) is not None


def chat_model(model: str) -> bool:
    """A model only the chat endpoints serve (never `POST /v1/completions`)."""
    return _CHAT.match(model) is not None and not completions_model(model)


# Both answered 404 with `param: "model"` and `code: null`, as the API words them (a chat model on
# completions: tmc/langchaingo#201, RomanHotsiy/commitgpt#43, hegelai/prompttools#115 (NotFoundError
# 404); a completions model on chat: Chanzhaoyu/chatgpt-web#1428 ("error 404"),
# egoist/chatwise-releases#1256).


def not_a_chat_model() -> APIError:
    return APIError(
        404,
        "This is not a chat model and thus not supported in the v1/chat/completions endpoint. "
        "Did you mean to use v1/completions?",
        param="model",
    )


def not_a_completions_model() -> APIError:
    return APIError(
        404,
        "This is a chat model and not supported in the v1/completions endpoint. "
        "Did you mean to use v1/chat/completions?",
        param="model",
    )
