"""What a model's name says about it, until model profiles say more: whether it reasons."""

from __future__ import annotations

import re

# o1, o3, o4-mini, ... and the gpt-5 family reason before they answer; `gpt-5-chat-*` does not.
_REASONING = re.compile(r"^(o\d|gpt-5(?!-chat)|codex-)")


def reasons(model: str) -> bool:
    return _REASONING.match(model) is not None
