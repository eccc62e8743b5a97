"""The stream's usual chunk (a content delta without logprobs) is written from pre-encoded parts;
its bytes are exactly those of the general writer, for any text, choice index, usage and padding."""

from __future__ import annotations

import random

import pytest

from server.chat.chunks import ChunkWriter
from server.chat.plan import ChatPlan
from server.generation.pipeline import Plan
from server.generation.tokens import Tokenizer


def plan(include_usage: bool) -> ChatPlan:
    limits = Plan(n=4, stop=(), limit=None, prompt_tokens=1, tokenizer=Tokenizer.named("o200k_base"))
    return ChatPlan(limits, "chatcmpl-x", 1, "gpt-4o", include_usage, False, 0, "default", "fp_1")


@pytest.mark.parametrize("include_usage", [True, False])
@pytest.mark.parametrize("obfuscation", [True, False])
@pytest.mark.parametrize("text", ["hi", 'a "quote" \\ and\nnewline', "é 你好 \u2028 \x00", ""])
def test_a_content_chunk_is_the_general_chunk_byte_for_byte(
    include_usage: bool, obfuscation: bool, text: str
) -> None:
    writer = ChunkWriter(plan(include_usage), obfuscation=obfuscation)
    for index in (0, 3):
        random.seed(7)
        general = writer.choice(index, {"content": text})
        random.seed(7)
        assert writer.content(index, text) == general
