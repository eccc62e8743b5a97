"""What a model's name says about it, until model profiles say more: its family, and whether it reasons.

One table for every check on a model name. The family is how the model's prompt is written (and so
counted, server/generation/counting_rules.py): `cl100k` for gpt-4 and gpt-3.5, `reasoning` for the
models that think before they answer in the newer format, `gpt-4o` for the rest (gpt-4o, gpt-4.1,
chatgpt-4o, gpt-5-chat, unknown names). Reasoning (the `reasoning` field of a response) is a wider
set: o1-mini reasons, but its prompt is written the gpt-4o way (it primes the reply with 3 tokens;
fit, crewAI test_llm_call_when_stop_is_unsupported).
"""

from __future__ import annotations

import re
from typing import Literal

Family = Literal["cl100k", "gpt-4o", "reasoning"]

_CL100K = re.compile(r"^(gpt-4($|-(?!o))|gpt-3\.5)")
# o1, o3, o4-mini, ... and the gpt-5 family reason before they answer; `gpt-5-chat-*` does not.
_REASONS = re.compile(r"^(o\d|gpt-5(?!-chat)|codex-)")
_REASONING_FORMAT = "o1-mini"  # the one reasoning model whose prompt keeps the gpt-4o format


def family(model: str) -> Family:
    if _CL100K.match(model):
        return "cl100k"
    if reasons(model) and not model.startswith(_REASONING_FORMAT):
        return "reasoning"
    return "gpt-4o"


def reasons(model: str) -> bool:
    return _REASONS.match(model) is not None
