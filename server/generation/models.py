"""What a model's name says about it, until model profiles say more: whether it reasons, and which
endpoint serves it (chat models and the legacy completions models each answer on one endpoint only)."""

from __future__ import annotations

import re

from server.errors import APIError

# o1, o3, o4-mini, ... and the gpt-5 family reason before they answer; `gpt-5-chat-*` does not.
_REASONING = re.compile(r"^(o\d|gpt-5(?!-chat)|codex-)")
# The models `POST /v1/completions` serves (the SDK's `CompletionCreateParams.model` literals), their
# dated snapshots and fine-tunes (`ft:davinci-002:org::id`), and the retired GPT-3 names, which a
# config may still route.
_COMPLETIONS = re.compile(
    r"^(ft:)?(gpt-3\.5-turbo-instruct|davinci-002|babbage-002|text-(davinci|curie|babbage|ada)-\d{3})([-:]|$)"
    r"|^(davinci|curie|babbage|ada)(:|$)"
)
# OpenAI's chat families. Any other name (a config's own, `my-model`) is served on both endpoints.
_CHAT = re.compile(r"^(ft:)?(gpt-|chatgpt-|o\d)")


def reasons(model: str) -> bool:
    return _REASONING.match(model) is not None


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
