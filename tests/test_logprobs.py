"""Logprobs: `top_logprobs` alternatives come from the vocabulary, whatever the text.

Proven: for text whose tokens sit near the vocabulary's edges (punctuation, non-Latin scripts) every
token gets exactly the alternatives asked for, and none is a special token such as `<|endoftext|>`.
"""

from __future__ import annotations

from tests.support.requests import ChatClient


async def test_top_logprobs_never_fail_or_offer_special_tokens(chat: ChatClient) -> None:
    for text in ("a,N", " தே", "hello"):
        response = await chat.post(text, logprobs=True, top_logprobs=20)
        assert response.status_code == 200
        tokens = [
            alt["token"]
            for e in response.json()["choices"][0]["logprobs"]["content"]
            for alt in e["top_logprobs"]
        ]
        assert len(tokens) % 20 == 0
        assert not any(t.startswith("<|") and t.endswith("|>") for t in tokens)
