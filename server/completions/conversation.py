"""A completions prompt as the neutral `Conversation`: one user message holding the prompt's text.

Backends read it like a chat whose last user message is the prompt, so the echo backend answers with
the prompt, and a fixture matching on the last user message matches the prompt.
"""

from __future__ import annotations

from typing import Any

from server.completions.prompts import Prompt
from server.generation.conversation import Conversation, Message
from server.wire.completions_request import CompletionRequest


def to_conversation(body: CompletionRequest, prompt: Prompt) -> Conversation:
    def wire() -> dict[str, Any]:
        return body.model_dump(mode="json", exclude_unset=True, by_alias=True)

    return Conversation(
        model=body.model,
        messages=(Message("user", prompt.text),),
        seed=body.seed,
        logit_bias={int(token): bias for token, bias in body.logit_bias.items()} if body.logit_bias else {},
        stream=bool(body.stream),
        wire=wire,
    )
