"""Model profiles: what the API knows about each OpenAI model family, and how a name finds its family.

A profile gives the context window, the most tokens one reply may hold, the encoding, whether the
model reasons (and so spends hidden reasoning tokens), the request parameters it refuses, and what
`GET /v1/models` shows (`created`, `owned_by`). A config route may override any of these
(`Route.profile`); `Runtime.profile` merges the two and memoises the result per model name.

Names resolve the way the API resolves them: a fine-tune (`ft:gpt-4o-mini-2024-07-18:org::id`) is
its base model, a dated snapshot (`gpt-4o-2024-08-06`, `gpt-4-0613`) or an alias (`-latest`,
`-preview`) is its family, and a variant the table lacks (`gpt-4o-audio-preview`) takes the longest
family its name starts with. A name no family claims (`llama3`, `my-model`) gets `PERMISSIVE`: it
refuses nothing and has room for anything, so local model names keep working.

Sources: each family's page under https://platform.openai.com/docs/models/<family> (context window,
max output tokens, reasoning); `created` and `owned_by` as `GET /v1/models` reports them (None
where no listing was found: the server's own `created` is shown then).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from typing import Any

# What a reasoning model refuses on chat (o1 "beta limitations": temperature and top_p fixed at 1,
# penalties at 0, https://platform.openai.com/docs/guides/reasoning; in the API's words: top_p,
# aandrew-me/tgpt#333 and lobehub/lobehub#7747; presence_penalty, nextai-translator#1781 (gpt-5-mini);
# max_tokens, FoundationAgents/MetaGPT#1709; logprobs are not given for reasoning models,
# UKGovernmentBEIS/inspect_ai#2739). `logit_bias` still works (community.openai.com/t/1025430/4).
REASONING_REFUSES = frozenset(
    {"max_tokens", "temperature", "top_p", "presence_penalty", "frequency_penalty", "logprobs"}
)
# A model that does not reason refuses a reasoning effort (chat: davidmigloz/langchain_dart#712;
# Responses: BoundaryML/baml#2708, gpt-4.1).
PLAIN_REFUSES = frozenset({"reasoning_effort"})

# Hidden reasoning tokens spent per reply at each effort. The real amount varies with the question;
# these fixed values make usage reproducible and are overridable per route (`reasoning_tokens`).
# The API's default effort is `medium` (https://platform.openai.com/docs/guides/reasoning).
REASONING_TOKENS: dict[str, int] = {
    "none": 0,
    "minimal": 0,
    "low": 64,
    "medium": 192,
    "high": 512,
    "xhigh": 1024,
    "max": 2048,
}
DEFAULT_EFFORT = "medium"


@dataclass(frozen=True, slots=True)
class Profile:
    context_window: int
    max_output_tokens: int
    encoding: str | None = None  # None: tiktoken's table, then the configured default
    reasoning: bool = False
    refuses: frozenset[str] = frozenset()
    created: int | None = None
    owned_by: str = "chatdouble"
    reasoning_tokens: dict[str, int] = field(default_factory=lambda: dict(REASONING_TOKENS), hash=False)
    known: bool = True  # False: no family claims the name (and no route gives it a profile)
    # An embedding model's vector size (None: the model does not embed). Its `context_window` is then
    # the most tokens one input may hold, and `refuses` may name `dimensions`.
    dimensions: int | None = None

    def hidden_tokens(self, effort: str | None) -> int:
        """Reasoning tokens one reply spends at `effort` (None: the default); none if it does not reason."""
        if not self.reasoning:
            return 0
        return self.reasoning_tokens.get(effort or DEFAULT_EFFORT, 0)

    def overridden(self, changes: dict[str, Any]) -> Profile:
        """This profile with a route's overrides; naming a profile makes the model known."""
        if "refuses" in changes:
            changes = {**changes, "refuses": frozenset(changes["refuses"])}
        if "reasoning_tokens" in changes:
            changes = {
                **changes,
                "reasoning_tokens": {**self.reasoning_tokens, **changes["reasoning_tokens"]},
            }
        return replace(self, **changes, known=True)


def _plain(
    window: int, output: int, encoding: str, created: int | None = None, owner: str = "system"
) -> Profile:
    return Profile(window, output, encoding, False, PLAIN_REFUSES, created, owner)


def _thinking(window: int, output: int, created: int | None = None, owner: str = "system") -> Profile:
    return Profile(window, output, "o200k_base", True, REASONING_REFUSES, created, owner)


def _embedding(dimensions: int, created: int, owner: str, refuses: frozenset[str] = frozenset()) -> Profile:
    # "The input must not exceed the max input tokens for the model (8192 tokens for all embedding
    # models)" (the SDK's `EmbeddingCreateParams.input`); they count in cl100k_base (tiktoken's table).
    return Profile(8_192, 0, "cl100k_base", False, refuses, created, owner, dimensions=dimensions)


# Family -> profile. Keys are the names a snapshot or alias reduces to (no date, no `-latest`).
FAMILIES: dict[str, Profile] = {
    # platform.openai.com/docs/models/gpt-3.5-turbo: 16,385 in, 4,096 out.
    "gpt-3.5-turbo": _plain(16_385, 4_096, "cl100k_base", 1677610602, "openai"),
    "gpt-3.5-turbo-16k": _plain(16_385, 4_096, "cl100k_base", 1683758102, "openai-internal"),
    "gpt-3.5-turbo-instruct": _plain(4_096, 4_096, "cl100k_base", 1692901427, "system"),
    # platform.openai.com/docs/models/davinci-002 (and babbage-002): 16,384 in, 16,384 out; the
    # legacy completions endpoint serves these three (server/generation/models.py).
    "davinci-002": _plain(16_384, 16_384, "cl100k_base", 1692634301, "system"),
    "babbage-002": _plain(16_384, 16_384, "cl100k_base", 1692634615, "system"),
    # platform.openai.com/docs/models/gpt-4: 8,192 in, 8,192 out; gpt-4-32k 32,768.
    "gpt-4": _plain(8_192, 8_192, "cl100k_base", 1687882411, "openai"),
    "gpt-4-32k": _plain(32_768, 8_192, "cl100k_base"),
    # platform.openai.com/docs/models/gpt-4-turbo: 128,000 in, 4,096 out.
    "gpt-4-turbo": _plain(128_000, 4_096, "cl100k_base", 1712361441),
    # platform.openai.com/docs/models/gpt-4o (and -mini, chatgpt-4o-latest): 128,000 in, 16,384 out.
    "gpt-4o": _plain(128_000, 16_384, "o200k_base", 1715367049),
    "gpt-4o-mini": _plain(128_000, 16_384, "o200k_base", 1721172741),
    "chatgpt-4o": _plain(128_000, 16_384, "o200k_base", 1723515131),
    # platform.openai.com/docs/models/gpt-4.1 (and -mini, -nano): 1,047,576 in, 32,768 out.
    "gpt-4.1": _plain(1_047_576, 32_768, "o200k_base", 1744316542),
    "gpt-4.1-mini": _plain(1_047_576, 32_768, "o200k_base", 1744318173),
    "gpt-4.1-nano": _plain(1_047_576, 32_768, "o200k_base", 1744321707),
    # platform.openai.com/docs/models/o1: 200,000 in, 100,000 out; o1-mini 128,000 / 65,536;
    # o1-preview 128,000 / 32,768; o3, o3-mini, o4-mini, o3-pro, o1-pro: 200,000 / 100,000.
    "o1": _thinking(200_000, 100_000, 1734375816),
    "o1-mini": _thinking(128_000, 65_536, 1725649008),
    "o1-preview": _thinking(128_000, 32_768, 1725648897),
    "o1-pro": _thinking(200_000, 100_000),
    "o3": _thinking(200_000, 100_000, 1744225308),
    "o3-mini": _thinking(200_000, 100_000, 1737146383),
    "o3-pro": _thinking(200_000, 100_000),
    "o4-mini": _thinking(200_000, 100_000, 1744225351),
    "codex-mini": _thinking(200_000, 100_000),
    # platform.openai.com/docs/models/gpt-5 (and -mini, -nano, -codex, gpt-5.1): 400,000 in,
    # 128,000 out; gpt-5-chat-latest does not reason: 128,000 / 16,384.
    "gpt-5": _thinking(400_000, 128_000, 1754425777),
    "gpt-5-mini": _thinking(400_000, 128_000),
    "gpt-5-nano": _thinking(400_000, 128_000),
    "gpt-5.1": _thinking(400_000, 128_000),
    "gpt-5-chat": _plain(128_000, 16_384, "o200k_base"),
    # platform.openai.com/docs/models/gpt-4.5-preview: 128,000 in, 16,384 out.
    "gpt-4.5": _plain(128_000, 16_384, "o200k_base"),
    "gpt-5.1-chat": _plain(128_000, 16_384, "o200k_base"),
    # platform.openai.com/docs/models/text-embedding-3-small (-large, ada-002): 1,536, 3,072 and
    # 1,536 dimensions; ada-002 predates `dimensions` and refuses it (server/embeddings/plan.py).
    "text-embedding-3-small": _embedding(1_536, 1705948997, "system"),
    "text-embedding-3-large": _embedding(3_072, 1705953180, "system"),
    "text-embedding-ada-002": _embedding(1_536, 1671217299, "openai-internal", frozenset({"dimensions"})),
}
# Names whose suffixes would lead astray: the gpt-4 turbo previews are gpt-4-turbo, not gpt-4.
ALIASES = {
    "gpt-4-1106-preview": "gpt-4-turbo",
    "gpt-4-0125-preview": "gpt-4-turbo",
    "gpt-4-turbo-preview": "gpt-4-turbo",
    "gpt-4-vision-preview": "gpt-4-turbo",
}

# Room for anything a local model may be asked: 1M tokens in, 128k out (the largest OpenAI values).
PERMISSIVE = Profile(1_048_576, 128_000, known=False)

_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{4}|latest|preview)$")
# A later point release the table has no row for is its major family (gpt-5.4-mini: gpt-5), except
# its chat variant, which does not reason (gpt-5.2-chat-latest: gpt-5-chat).
_POINT_CHAT = re.compile(r"^gpt-5\.\d+-chat")


def family_of(model: str) -> str | None:
    """The table's family for `model`, or None when no family claims it."""
    name = model.removeprefix("ft:").split(":", 1)[0] if model.startswith("ft:") else model
    while True:
        if name in ALIASES:
            return ALIASES[name]
        if name in FAMILIES:
            return name
        shorter = _SUFFIX.sub("", name)
        if shorter == name:
            break
        name = shorter
    if _POINT_CHAT.match(name):
        return "gpt-5-chat"
    prefixes = [key for key in FAMILIES if name.startswith((key + "-", key + "."))]
    return max(prefixes, key=len) if prefixes else None


@functools.lru_cache(maxsize=4096)
def builtin_profile(model: str) -> Profile:
    """The built-in profile of `model` (memoised: it is asked on every request)."""
    family = family_of(model)
    return PERMISSIVE if family is None else FAMILIES[family]
